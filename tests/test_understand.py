"""The demand classifier: fields in farmers' own words, keywords, robustness, purity, speed.

Cases are written for this test file (not taken from the evaluation data in ../shared/data).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import jieba
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intents.segment import HOST_FIELDS, load_lexicon, load_stopwords, parse_lexicon_text
from intents.taxonomy import field_codes, is_field
from intents.understand import LOW_CONFIDENCE, UNREADABLE, Understander, Understanding

INTENTS = Path(__file__).resolve().parents[1] / "intents"


@pytest.fixture(scope="module")
def u() -> Understander:
    return Understander()


FIELD_CASES = {
    "crop": [
        "再生稻头季什么时候收割，留桩留多高",
        "冰糖橙种下去几年才挂果，冬天怎么修剪",
        "今年想种辣椒，选哪个品种产量高",
        "红薯什么时候插苗好，株距多少合适",
        "黄桃树花开得多但是不坐果，是么子原因",
        "洋芋几月份种，要不要盖地膜",
    ],
    "plant_protection": [
        "稻飞虱太多了打什么药效果好",
        "我屋里的辣椒叶子上好多黑点点，然后就烂了，是什么病",
        "柑橘红蜘蛛用什么药",
        "白菜根上长了好多疙瘩，根肿病怎么防",
        "玉米地里草太多了用什么除草剂",
        "道温病怎么治",
        "包菜被菜青虫吃得全是洞",
    ],
    "soil_fertilizer": [
        "我们这边田土太酸了，要撒石灰吗",
        "水稻分蘖期追什么肥",
        "柑橘叶子黄是不是缺镁，要补什么肥",
        "想测土，去哪里做土壤检测",
        "大棚土壤板结返盐怎么改良",
    ],
    "livestock": [
        "猪不吃食还发烧，是不是猪瘟",
        "母猪产后不吃料怎么办",
        "鸡拉白色稀粪，死了好几只",
        "黑山羊拉稀用什么兽药",
        "养的兔子掉毛还打喷嚏",
        "猪身上长红斑打什么针",
    ],
    "aquaculture": [
        "早上鱼塘里鱼都浮头了，怎么增氧",
        "稻虾田里的水草怎么种",
        "草鱼烂鳃病用什么渔药",
        "鳜鱼苗怎么投喂",
        "池塘水变绿了有蓝藻，怎么调水",
    ],
    "forestry": [
        "油茶林低产怎么改造",
        "楠竹林怎么施肥才出笋多",
        "杉木砍伐要办采伐证吗",
        "松树成片死了是不是松材线虫",
        "荒山造林选什么树种",
        "油茶炭疽病用什么药",
    ],
    "herbal": [
        "黄精叶子长斑了怎么办",
        "种玉竹一亩要多少种苗",
        "茯苓怎么栽培",
        "白术根腐病用什么药",
        "金银花怎么修剪产量高",
        "黄精叶斑病怎么防治",
    ],
    "processing": [
        "辣椒怎么烘干颜色好",
        "想建个小冷库存放柑橘",
        "腊肉怎么腌制不容易坏",
        "剁辣椒做好了怎么保存时间长",
        "茶叶加工杀青温度多少",
    ],
    "machinery": [
        "插秧机秧针老是断是什么原因",
        "收割机割台堵了",
        "想建一个钢架大棚要多少钱",
        "滴灌带堵了怎么疏通",
        "微耕机打不着火",
    ],
    "ecommerce": [
        "我家脐橙卖不出去，怎么找销路",
        "想在抖音上直播卖土鸡蛋",
        "拼多多开网店要什么条件",
        "怎么打造自己的大米品牌",
        "黄桃发快递怎么包装才不烂",
    ],
    "enterprise_tech": [
        "我们厂的生产线要自动化改造",
        "企业想申请发明专利怎么弄",
        "加工厂废水处理不达标，环保检查过不了",
        "车间设备经常故障停机",
        "产品质量检测要做哪些项目",
    ],
    "digital": [
        "大棚物联网监测系统怎么装",
        "电脑上的记账软件怎么用",
        "农产品溯源二维码怎么做",
        "手机app注册不了，收不到验证码",
        "想做个微信小程序",
    ],
    "management": [
        "合作社怎么分红才合理",
        "流转了两百亩土地，租金一般多少",
        "家庭农场贷款怎么申请",
        "种植补贴怎么申报",
        "做个产业规划要怎么弄",
    ],
    "employment": [
        "我想找个工作，哪里招工",
        "想学电焊去哪里培训",
        "高素质农民培训怎么报名",
        "在外面打工老板拖欠工资怎么办",
        "返乡创业能贷到款吗，有没有创业补贴",
    ],
}


@pytest.mark.parametrize(
    ("field", "text"), [(f, t) for f, texts in FIELD_CASES.items() for t in texts], ids=lambda v: str(v)[:12]
)
def test_field_in_farmers_words(u, field, text):
    r = u.understand(text)
    assert r.field == field, (text, r)
    assert r.top3[0] == (r.field, r.confidence)


def test_every_working_field_has_cases():
    assert set(FIELD_CASES) == set(field_codes()) - {"other"}


@pytest.mark.parametrize(
    "text",
    ["水稻稻瘟病打什么药", "猪不吃食拉稀怎么办", "鱼塘泛塘了怎么增氧", "合作社怎么申请贷款", "收割机打不着火怎么办"],
)
def test_strong_single_field_evidence_is_confident(u, text):
    assert u.understand(text).confidence >= 0.7


@pytest.mark.parametrize("text", ["吴茱萸苗哪里买", "防治", "楠竹"])
def test_one_decisive_term_is_enough(u, text):
    assert u.understand(text).confidence >= 0.65


@pytest.mark.parametrize("text", ["辣椒", "想种点东西", "价格"])
def test_weak_evidence_is_not_confident(u, text):
    r = u.understand(text)
    assert r.confidence < 0.7
    assert r.field != "other" or text == "想种点东西"


@pytest.mark.parametrize("text", ["想开网店卖脐橙，但是脐橙有炭疽病", "合作社想做个小程序"])
def test_mixed_evidence_is_not_confident(u, text):
    r = u.understand(text)
    assert not r.confident  # the farmer is asked to choose
    assert r.top3[1][1] > 0.2  # the runner-up is a real alternative


def test_confidence_is_calibrated_on_the_held_out_examples(u):
    """High confidence means usually right; low confidence means often wrong."""
    from intents.training import load_examples, split

    _, heldout = split(load_examples())
    results = [(r.confidence, r.field == e.field) for e in heldout for r in [u.understand(e.text)]]
    confident = [right for c, right in results if c >= 0.7]
    unsure = [right for c, right in results if c < LOW_CONFIDENCE]
    assert len(confident) > len(heldout) / 2
    assert sum(confident) / len(confident) >= 0.85
    assert sum(unsure) / max(len(unsure), 1) < 0.8


@pytest.mark.parametrize("text", ["你好", "在吗", "谢谢老师", "我想问个问题"])
def test_no_evidence_is_other(u, text):
    r = u.understand(text)
    assert r.field == "other"  # nothing to go on: the farmer is asked for the field
    assert r.confidence >= 0.6


def test_probabilities_rank_all_fields_and_sum_to_one(u):
    ranked = u.classifier.classify("柑橘红蜘蛛用什么药")
    assert {f for f, _ in ranked} == set(field_codes())
    assert abs(sum(p for _, p in ranked) - 1) < 1e-9
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)


def test_herb_disease_goes_to_herbal_crop_disease_to_plant_protection(u):
    assert u.understand("黄精叶斑病怎么防治").field == "herbal"
    assert u.understand("辣椒叶斑病怎么防治").field == "plant_protection"
    assert u.understand("金银花蚜虫打什么药").field == "herbal"
    assert u.understand("豇豆蚜虫打什么药").field == "plant_protection"


def test_plant_blight_is_not_an_animal_epidemic(u):
    assert u.understand("辣椒疫病如何防治").field == "plant_protection"


def test_segmentation_miss_keeps_evidence(u):
    # a decisive term glued to unknown neighbours still counts
    assert u.understand("俺家田里稻瘟病咋整").field == "plant_protection"
    # ... but a term jieba does not see as a word here counts less than one it does
    weak = u.classifier.evidence("开花生长").raw["crop"]
    assert weak < u.classifier.evidence("花生生长").raw["crop"] + 1


# -- keywords -------------------------------------------------------------------------------


def test_keywords_prefer_lexicon_terms_and_drop_noise(u):
    r = u.understand("老师你好，请问一下，我家水稻得了稻瘟病，打什么药？谢谢！！")
    assert r.keywords[:2] == ("稻瘟病", "水稻")
    for noise in ("老师", "你好", "请问", "一下", "谢谢", "什么", "打", "了", "的", "，", "？"):
        assert noise not in r.keywords


def test_keywords_content_only(u):
    kws = u.segmenter.keywords("帮忙看一下 2023年 种了30亩辣椒，叶子发黄怎么办？？谢谢", k=10)
    assert "辣椒" in kws and "发黄" in kws
    assert all(not re.fullmatch(r"[\W\d_]+", k) for k in kws)
    assert all(len(k) > 1 or k in u.segmenter.lexicon for k in kws)
    assert not set(kws) & load_stopwords()
    assert "30亩" not in kws and "2023年" not in kws


def test_keywords_limit_and_empty(u):
    seg = u.segmenter
    assert len(seg.keywords("水稻稻瘟病纹枯病二化螟稻飞虱打什么药施什么肥", k=3)) == 3
    assert seg.keywords("", k=6) == []
    assert seg.keywords("你好谢谢", k=6) == []
    assert seg.keywords("水稻", k=0) == []


def test_keywords_keep_meaningful_single_characters(u):
    assert "猪" in u.understand("猪不吃食").keywords


def test_cut_uses_the_domain_lexicon(u):
    assert "稻飞虱" in u.segmenter.cut("今年稻飞虱好多")
    assert "非洲猪瘟" in u.segmenter.cut("防非洲猪瘟怎么消毒")


# -- bad input never raises -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🙏🙏🙏😂",
        "my rice leaves are turning yellow",
        "daowenbing zenme zhi",
        "？？？！！！",
        "\x00\x01\x02\x7f",
        "\u200b\u200d\ufeff",
        "123456",
        "\ud800",
        None,
        12345,
    ],
)
def test_unreadable_input_is_other_low_confidence(u, text):
    r = u.understand(text)  # type: ignore[arg-type]
    assert r == UNREADABLE
    assert r.field == "other" and r.confidence < LOW_CONFIDENCE


def test_very_long_input_is_truncated_and_fast(u):
    text = "水稻稻瘟病打什么药，" + "啊" * 10_000
    t = time.perf_counter()
    r = u.understand(text)
    assert time.perf_counter() - t < 0.05
    assert r.field == "plant_protection"


def test_control_characters_and_full_width(u):
    r = u.understand("\x00水稻\x1f稻瘟病\u200b打什么药？？？！！！")
    assert r.field == "plant_protection"
    assert r.text.startswith("水稻")
    assert u.understand(None) == UNREADABLE


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_a_defined_result(u, text):
    r = u.understand(text)
    assert isinstance(r, Understanding)
    assert is_field(r.field)
    assert 0.0 <= r.confidence <= 1.0
    assert 1 <= len(r.top3) <= 3 and r.top3[0][0] == r.field
    assert all(isinstance(k, str) and k for k in r.keywords)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=80))
def test_any_chinese_text_gives_probabilities(u, text):
    r = u.understand(text)
    assert is_field(r.field)
    assert len(r.top3) == 3
    assert sum(p for _, p in r.top3) <= 1.0001


# -- construction, lexicon, purity, speed -------------------------------------------------------


def test_private_initialised_tokenizer_and_quiet_jieba(u):
    assert u.segmenter.tokenizer is not jieba.dt
    assert u.segmenter.tokenizer.initialized
    assert jieba.default_logger.level == logging.WARNING


def test_lexicon_covers_every_field_but_other():
    lex = load_lexicon()
    counts = {f: 0 for f in field_codes()}
    for fields in lex.weights.values():
        for f, w in fields.items():
            assert 1 <= w <= 3
            counts[f] += 1
    assert counts.pop("other") == 0
    assert all(n >= 80 for n in counts.values()), counts
    for major in ("crop", "plant_protection", "soil_fertilizer", "livestock", "aquaculture"):
        assert counts[major] >= 200, (major, counts[major])
    assert {f for fs in lex.hosts.values() for f in fs} <= set(HOST_FIELDS)
    assert lex["稻瘟病"] == {"plant_protection": 3.0}
    assert "黄精" in lex.hosts and "疫病" not in lex.hosts


def test_lexicon_parser():
    lex = parse_lexicon_text("# comment\n稻瘟病 3\n\n黄叶 # weak\n#@ nohost\n池塘 2\n", "aquaculture")
    assert lex["稻瘟病"] == {"aquaculture": 3.0} and lex["黄叶"] == {"aquaculture": 1.0}
    assert "稻瘟病" in lex.hosts and "池塘" not in lex.hosts
    with pytest.raises(ValueError):
        parse_lexicon_text("稻瘟病 5\n", "crop")


def test_intents_is_pure():
    forbidden = re.compile(r"^\s*(?:import|from)\s+(telegram|sqlalchemy|aiohttp|bot|storage)\b", re.M)
    for path in INTENTS.rglob("*.py"):
        assert not forbidden.search(path.read_text("utf-8")), path


def test_understand_is_fast(u):
    texts = [t for texts in FIELD_CASES.values() for t in texts]
    u.understand("预热")
    t = time.perf_counter()
    for _ in range(5):
        for text in texts:
            u.understand(text)
    per = (time.perf_counter() - t) / (5 * len(texts))
    assert per < 0.005


def test_the_running_bot_never_imports_scikit_learn():
    """Training needs scikit-learn; answering farmers must not pay for importing it."""
    import subprocess
    import sys

    probe = (
        "import sys; from bot.app import build_application; from intents.understand import Understander; "
        "Understander().understand('水稻稻瘟病打什么药'); print('sklearn' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "False"


def test_two_fields_nearly_level_are_a_close_call_and_the_farmer_chooses():
    from intents.understand import is_close_call

    assert is_close_call([("crop", 0.46), ("plant_protection", 0.41), ("other", 0.05)])
    assert is_close_call([("ecommerce", 0.6), ("plant_protection", 0.3)])
    assert not is_close_call([("plant_protection", 0.80), ("crop", 0.10)])
    assert not is_close_call([("plant_protection", 0.9)])
    torn = Understanding("crop", 0.55, (("crop", 0.55), ("plant_protection", 0.45)), ())
    assert not torn.confident


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("西红柿裂果了咋回事", "crop"),  # a physiological disorder: water and temperature, no pathogen
        ("黄瓜化瓜厉害怎么防", "crop"),
        ("辣椒苗徒长得厉害怎么办", "crop"),
        ("空心菜叶子上有白斑是什么病", "plant_protection"),  # 空心菜 is a vegetable, not 空心
        ("菜苗茎基部缢缩倒伏一片片死", "plant_protection"),  # seedlings falling over: damping-off
    ],
)
def test_physiological_disorders_go_to_cultivation_not_plant_protection(u, text, field):
    assert u.understand(text).field == field
