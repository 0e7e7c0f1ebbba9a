"""Lexicon-based field classifier for farmers' demands.

Evidence per field comes from two sources:

* lexicon terms (``intents/lexicon/<field>.txt``, weight 1..3), found by substring search and by
  jieba tokens (a term jieba does not agree is a word here counts half);
* intent cues: short patterns of how a question is asked (打什么药 → plant protection,
  施什么肥 → soil and fertiliser, 什么时候种 → cultivation, 怎么卖 → marketing ...).

Field overlap is resolved by *hosts*: a herb, a forest tree, a farm animal or a fish named in the
text takes over most of the generic crop / plant-protection / fertiliser evidence (黄精叶斑病 goes
to the herbal team, 猪不吃食怎么办 to the vets), because those teams know their own crops' pests.

Scores are squashed (diminishing returns) and turned into probabilities by a softmax in which
``other`` is a baseline that fades as evidence accumulates: no evidence → ``other`` with high-ish
probability; one weak hint → the hinted field but low confidence; strong single-field evidence →
≥ 0.7; evidence split between fields → lower.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from intents.segment import HOST_FIELDS, Lexicon, Match, Segmenter, fold
from intents.taxonomy import OTHER, field_codes

# Fields that name *what* is farmed; when a host term is present it absorbs the generic fields.
HOSTS = HOST_FIELDS
GENERIC = ("crop", "plant_protection", "soil_fertilizer")
HOST_MIN = 2.0  # host-term evidence needed before the host takes over
HOST_SHARE = 0.6  # share of generic evidence moved to the host

UNALIGNED = 0.5  # weight factor of a substring match jieba does not cut as a word
RETURNS = 0.6  # a field's k-th strongest piece of evidence counts RETURNS**k (five crop names ≠ one cue)
SATURATION = 10.0  # raw scores squash towards this
SLOPE = 1.4  # logit per (squashed) score point
FLOOR = -3.0  # logit of a field without evidence
OTHER_BASE = 2.0  # logit of `other` with no evidence at all
OTHER_DECAY = 4.0  # how fast `other` fades per point of total evidence

_Q = r"(?:什么|啥|啥子|哪种|哪个|哪样|那种|什么样的?|哪些|哪一种|哪一类|哪类|何种)"  # question word
_HOW = r"(?:怎么|怎样|如何|咋|咋样|怎么样|怎么去|该怎么|要怎么)"
_NP = r"[^，。？！,.?!;；\s]"  # one character inside a clause

# (field, weight, pattern). Each cue counts once per text, however often it matches.
CUES: tuple[tuple[str, float, str], ...] = (
    # -- plant protection: which pesticide, which disease/pest, diagnosis of a symptom --------
    ("plant_protection", 3, rf"(?:打|喷|用|上|下|施|买|配){_Q}(?:农?药|药水|药剂|杀菌剂|杀虫剂|除草剂)(?!材)"),
    ("plant_protection", 2, rf"{_Q}(?:农药|药)(?!材|用|食)(?:好|最好|效果|管用|能治|可以治|治|防)?"),
    ("plant_protection", 3, rf"{_Q}(?:病|病害|病菌|病毒|虫|虫子|害虫|虫害)(?!人|房|历)"),
    ("plant_protection", 3, rf"(?:得|生|长|发|染|遭|有|闹|起)了?{_Q}?(?:病|虫)(?!人|房)"),
    ("plant_protection", 2, rf"{_HOW}(?:防治|防控|防|治疗|治|根治|杀|灭|消灭|除|预防|控制)"),
    ("plant_protection", 2, r"(?:防治|治疗|根治|控制住|治好|治得好|治不好|杀不死|打不死|除不掉|除不干净)"),
    ("plant_protection", 1.5,
     r"(?:怎么回事|咋回事|什么原因|啥原因|什么情况|啥情况|怎么了|咋了|什么问题|啥问题|什么症状|什么东西|啥东西"
     r"|(?:这|那)个?是(?:什么|啥|怎么)|为什么会|为啥会|原因|(?:什么|啥)毛病|病还是虫)"),
    # a plant organ with a symptom: 叶子发黄, 根烂了, 果上有斑, 苗死了
    ("plant_protection", 2,
     rf"(?:叶|叶子|叶片|叶面|叶背|叶尖|叶边|新叶|老叶|心叶|果|果实|果子|果皮|根|根部|茎|秆|杆|蔓|藤|苗|幼苗|心|菜心|花|穗|枝|树皮|树干|植株|全株|整株)"
     rf"{_NP}{{0,4}}(?:发黄|变黄|黄了|发白|变白|白了|发黑|变黑|黑了|发红|变红|发紫|发褐|变褐|枯|焦|卷|烂|腐|斑|点|蔫|萎|死|干了|掉|脱落|裂|畸形|皱|霉|洞|孔|缩|流水|流胶|长毛|白毛|黑毛|粉)"),
    ("plant_protection", 2, r"(?:被|遭)?(?:虫|虫子|什么|啥)(?:咬|吃|啃|蛀|钻)"),
    ("plant_protection", 1, r"(?:(?<![毛])病|虫)"),
    # disease and pest names not in the lexicon, by their endings: 干腐病, 叶枯病, 豆荚螟, 烟青虫
    ("plant_protection", 3,
     r"[\u4e00-\u9fff]{1,4}(?:腐病|斑病|枯病|霉病|萎病|粉病|锈病|疫病|病毒病|叶病|根病|果病|穗病|痘病|溃疡病|线虫病)"),
    ("plant_protection", 3,
     r"[\u4e00-\u9fff]{1,3}(?:螟|夜蛾|飞虱|叶蝉|蓟马|粉虱|实蝇|潜蝇|天牛|象甲|跳甲|蚧|青虫|叶甲|瘿蚊|瘿螨|叶螨|木虱)"),
    ("plant_protection", 2, r"(?:杀死|杀灭|弄死|灭掉|消灭|除掉|根除|赶走)"),
    # herbicide carry-over: 打过 X 多久能种 / 去年打了除草剂今年能不能种
    ("plant_protection", 2, rf"(?:打|喷|用)(?:了|过){_NP}{{1,10}}(?:多久|几天|多长时间|能不能|能否|可以|还能|影响)"),
    # -- soil & fertiliser -------------------------------------------------------------------
    ("soil_fertilizer", 3, rf"(?:施|用|上|打|追|下|撒|冲|放){_Q}?(?:多少|几次|几遍)?{_NP}{{0,2}}(?:肥|肥料)(?!胖|猪|鸡|鱼)"),
    ("soil_fertilizer", 3, rf"{_Q}(?:肥|肥料)(?!胖|猪|鸡|鱼)"),
    ("soil_fertilizer", 3, rf"缺{_Q}?(?:肥|元素|营养|微量元素|素)"),
    ("soil_fertilizer", 3, r"缺(?:什么|啥)"),
    ("soil_fertilizer", 2, r"(?:土壤|土质|土地|泥土|田里的土|地里的土|土)(?:太|偏|很|比较|有点)?(?:酸|碱|硬|板结|贫瘠|瘦|黏|粘|沙)"),
    ("soil_fertilizer", 2, rf"{_HOW}(?:改良|改善|培肥|调)(?:土壤|土质|酸性|酸碱)"),
    ("soil_fertilizer", 1, r"肥"),
    # -- cultivation -------------------------------------------------------------------------
    ("crop", 3, rf"(?:什么时候|何时|几月份?|啥时候|哪个月|什么季节|哪个季节|什么时间|几时|多久){_NP}{{0,4}}(?:种|播|栽|移栽|定植|育苗|下种|插秧|抛秧|育秧|采收|收获|收割|采摘|修剪|嫁接)"),
    ("crop", 3, rf"{_HOW}(?:种|种植|栽|栽培|栽种|育苗|育秧|催芽|浸种|留种|繁殖|扦插|嫁接|修剪|剪枝|管理|提高产量|增产|高产|保果|坐果|促花|促根|越冬|防冻|护理|养护)"),
    ("crop", 3, rf"(?:种|栽|选|买|用|推荐){_Q}(?:品种|种子|苗)"),
    ("crop", 3, rf"{_Q}品种"),
    ("crop", 2, rf"(?:能不能|可以|可不可以|适合|适不适合|能否|宜){_NP}{{0,4}}(?:种|种植|栽|栽培)"),
    ("crop", 2, r"(?:种|栽|播)(?:多深|多密|多少|几棵|几株|多远|多宽)"),
    ("crop", 2, r"(?:不长|长不大|不结|不开花|不坐果|不发芽|不出苗|出苗不齐|长得慢|长得不好|长势差|不膨大|不扎根|不分蘖|不包心|包心不实|不结球|不结果|不坐果|落花落果|不上色|不转色)"),
    # physiological disorders (生理性病害): no pathogen, a slip in water, temperature, growth
    # regulators or pollination, put right by cultivation: 裂果, 落花落果, 花打顶, 徒长 ...
    ("crop", 3, r"(?:裂果|裂瓜|裂球|裂荚|畸形果|畸形瓜|落花|落果|落蕾|化瓜|化荚|花打顶|空心(?!菜)|徒长|旺长|控旺|僵苗"
                r"|冻害|冻伤|受冻|冰雹|日灼|授粉|保花|保果|激素|膨大|抽薹|抽苔)"),
    ("crop", 1, r"(?<![这那哪各一多几某两三四五品每同我你他她刚])(?:种|栽)(?![类的了过着])"),
    # -- livestock ---------------------------------------------------------------------------
    ("livestock", 3, r"(?:养|喂|阉|配)(?:猪|牛|羊|鸡|鸭|鹅|兔|鸽|蜂)"),
    ("livestock", 2, rf"(?:猪|牛|羊|鸡|鸭|鹅|兔){_NP}{{0,3}}(?:不吃|拉稀|拉肚|咳|喘|发烧|发热|死|瘫|肿|流产|掉毛|发抖|站不起)"),
    # -- aquaculture -------------------------------------------------------------------------
    ("aquaculture", 3, r"(?:养|放|投)(?:鱼|虾|蟹|鳖|蛙|鳝|泥鳅)"),
    ("aquaculture", 2, rf"(?:鱼|虾|蟹|鳖){_NP}{{0,3}}(?:浮头|死|不吃|烂|病|翻|跳|红|白)"),
    # -- forestry ----------------------------------------------------------------------------
    ("forestry", 2, r"(?:砍|伐|种)(?:树|竹)"),
    # -- herbal ------------------------------------------------------------------------------
    ("herbal", 2, rf"(?:种|种植|栽){_Q}?(?:药材|中药)"),
    # -- processing --------------------------------------------------------------------------
    ("processing", 3, rf"{_HOW}(?:保存|储存|贮存|储藏|贮藏|保鲜|存放|加工|烘干|晒干|腌|做成|制作|做)"),
    ("processing", 2, r"(?:放|存|保存|储存|储藏)(?:多久|多长时间|不坏|不烂|不发霉)"),
    ("processing", 2, r"(?:做|加工成|制成|做成)(?:酱|干|粉|酒|醋|罐头|腊)"),
    # -- machinery ---------------------------------------------------------------------------
    ("machinery", 3, rf"(?:机|机器|机械|机子|车){_NP}{{0,4}}(?:坏|故障|打不着|启动不了|发动不了|不转|漏油|冒烟|异响|维修|修|熄火|没劲|卡住)"),
    ("machinery", 2, rf"(?:建|搭|盖|修|搞){_NP}{{0,5}}(?:大棚|棚子|温室)"),
    # -- ecommerce ---------------------------------------------------------------------------
    ("ecommerce", 3, rf"(?:{_HOW}|哪里|去哪|在哪|到哪)(?:卖|销售|销|推广|找销路|找客户|找买家|找市场|开店)"),
    ("ecommerce", 3, r"(?:卖不出|卖不掉|卖不动|销不出|没销路|没人要|没人买|卖不上价|卖不起价|价格低|价格太低|价钱低)"),
    ("ecommerce", 2, r"(?:什么价|啥价|好价|价格怎么样|价格如何|卖多少钱|多少钱一斤|收购价)"),
    ("ecommerce", 1, r"多少钱"),
    ("ecommerce", 3, rf"(?:打造|做|创|建立|注册|申请){_NP}{{0,6}}(?:品牌|商标)"),
    ("ecommerce", 2, r"(?:网上|线上|直播|抖音|淘宝|拼多多)(?:卖|销售|带货)"),
    # -- enterprise tech ---------------------------------------------------------------------
    ("enterprise_tech", 2, rf"(?:生产线|设备|工艺|产品){_NP}{{0,4}}(?:改造|升级|优化|改进|问题|故障)"),
    # -- digital -----------------------------------------------------------------------------
    ("digital", 2, r"(?:下载|安装|注册|登录|登陆|卸载|更新|升级)(?:app|软件|程序|系统|小程序)?"),
    ("digital", 2, r"(?:手机|电脑)(?:上|里)?(?:怎么|如何)?(?:操作|用|设置)"),
    # -- management --------------------------------------------------------------------------
    ("management", 3, rf"(?:申请|申报|办理|领){_NP}{{0,6}}(?:补贴|贷款|补助|项目|保险|资金)"),
    ("management", 2, r"(?:成本|利润|赚钱|划算|回本|效益|亏)"),
    ("management", 2, rf"{_HOW}(?:经营|管理合作社|办合作社|成立合作社|规划|发展)"),
    # -- employment --------------------------------------------------------------------------
    ("employment", 3, r"(?:找|想找|有没有|介绍)(?:个|份|点)?(?:工作|活干|活做|事做|事干|工)"),
    ("employment", 2, r"(?:学|学习|培训)(?:技术|手艺|技能|一门)"),
    ("employment", 2, rf"(?:考|办|拿|领){_NP}{{0,3}}(?:证|证书)"),
)


@dataclass(frozen=True)
class Evidence:
    """Why a text scored what it scored (for logs and tuning)."""

    terms: tuple[tuple[str, str, float], ...]  # (term, field, contribution)
    cues: tuple[tuple[str, str, float], ...]  # (matched text, field, weight)
    raw: dict[str, float]


class FieldClassifier:
    """Scores the 14 working fields from lexicon terms and cues; ``other`` is the baseline."""

    def __init__(self, lexicon: Lexicon, segmenter: Segmenter) -> None:
        self.lexicon = lexicon
        self.segmenter = segmenter
        self.fields = tuple(c for c in field_codes() if c != OTHER)
        self.cues = tuple((f, float(w), re.compile(p)) for f, w, p in CUES)
        unknown = {f for f, _, _ in self.cues} - set(self.fields)
        if unknown:
            raise ValueError(f"cues for unknown fields: {sorted(unknown)}")

    # -- evidence ---------------------------------------------------------------------------

    def evidence(self, text: str, matches: list[Match] | None = None) -> Evidence:
        text = fold(text)
        if matches is None:
            matches = self.segmenter.matches(text)
        pieces: dict[str, list[float]] = {f: [] for f in self.fields}
        best: dict[str, float] = {}
        for m in matches:
            factor = 1.0 if m.aligned else UNALIGNED
            best[m.term] = max(best.get(m.term, 0.0), factor)
        terms = []
        hosts = dict.fromkeys(HOSTS, 0.0)
        for term, factor in best.items():
            for field, weight in self.lexicon[term].items():
                pieces[field].append(weight * factor)
                terms.append((term, field, weight * factor))
            for field, weight in self.lexicon.hosts.get(term, {}).items():
                hosts[field] += weight * factor
        cues = []
        for field, weight, pattern in self.cues:
            cue = pattern.search(text)
            if cue:
                pieces[field].append(weight)
                cues.append((cue.group(0), field, weight))
        raw = {}
        for field, ws in pieces.items():
            ws.sort(reverse=True)
            raw[field] = sum(w * RETURNS**i for i, w in enumerate(ws))
        self._hosts(raw, hosts)
        return Evidence(tuple(terms), tuple(cues), raw)

    @staticmethod
    def _hosts(raw: dict[str, float], hosts: dict[str, float]) -> None:
        host = max(HOSTS, key=lambda h: (hosts[h], raw[h]))
        if hosts[host] < HOST_MIN:
            return
        moved = 0.0
        for g in GENERIC:
            share = raw[g] * HOST_SHARE
            raw[g] -= share
            moved += share
        raw[host] += moved

    # -- probabilities ----------------------------------------------------------------------

    def probabilities(self, raw: dict[str, float]) -> list[tuple[str, float]]:
        squashed = {f: SATURATION * (1.0 - math.exp(-max(v, 0.0) / SATURATION)) for f, v in raw.items()}
        total = sum(squashed.values())
        logits = {f: SLOPE * s + FLOOR for f, s in squashed.items()}
        logits[OTHER] = OTHER_BASE - OTHER_DECAY * total
        top = max(logits.values())
        exps = {f: math.exp(v - top) for f, v in logits.items()}
        z = sum(exps.values())
        ranked = sorted(((f, e / z) for f, e in exps.items()), key=lambda fp: (-fp[1], fp[0]))
        return ranked

    def classify(self, text: str, matches: list[Match] | None = None) -> list[tuple[str, float]]:
        """All 15 fields ranked by probability (summing to 1)."""
        return self.probabilities(self.evidence(text, matches).raw)
