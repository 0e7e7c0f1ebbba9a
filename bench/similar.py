"""Benchmark similar-question search at scale: KnowledgeIndex beside plain rapidfuzz.

    python -m bench.similar [--entries 100000] [--baseline-queries 100]

The knowledge base is generated: farming questions made from templates and the domain lexicon
(intents/lexicon/*.txt) with seeded randomness, plus the real starter knowledge base
``intents/data/knowledge.tsv`` when it exists. Queries are the rewordings in
``bench/data/rewordings.tsv`` (each written from one starter entry); without those files a
generated starter set and generated rewordings stand in (the table says which). A hit is the
entry the rewording was written from among the top 3. KnowledgeIndex's weights were tuned on the
rewordings of odd-numbered starter entries (K0001, K0003 …) only: the "even" column is held out.
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import re
import resource
import sys
import time
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

from rapidfuzz import fuzz, process

from intents import regions
from intents.normalize import Normalizer
from intents.segment import Segmenter
from intents.similar import DEFAULT_THRESHOLD, KnowledgeEntry, KnowledgeIndex

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "intents/data/knowledge.tsv"
REWORDINGS = ROOT / "bench/data/rewordings.tsv"


# -- generated knowledge base -----------------------------------------------------------------


def _sections(name: str) -> dict[str, list[str]]:
    """``## heading`` -> terms of a lexicon file, in file order."""
    out: dict[str, list[str]] = {}
    current = out.setdefault("", [])
    for raw in resources.files("intents").joinpath("lexicon", name).read_text("utf-8").splitlines():
        line = raw.strip()
        if line.startswith("##"):
            current = out.setdefault(line.lstrip("#").strip(), [])
            continue
        term = line.split("#", 1)[0].split()
        if term and re.search(r"[\u4e00-\u9fff]", term[0]):
            current.append(term[0])
    return out


def _section(name: str, prefix: str, keep: Callable[[str], bool] = lambda t: True) -> list[str]:
    terms = [t for head, ts in _sections(name).items() if head.startswith(prefix) for t in ts]
    return [t for t in terms if keep(t) and len(t) >= 2]


class Vocabulary:
    def __init__(self) -> None:
        not_generic = lambda t: not re.search(r"蔬菜|菜地|菜园|作物|果树|果园|水果", t)  # noqa: E731
        self.crops = [t for p in ("粮油", "果树", "蔬菜") for t in _section("crop.txt", p, not_generic)]
        self.practices = _section("crop.txt", "栽培")
        self.weather = _section("crop.txt", "灾害")
        self.diseases = _section("plant_protection.txt", "病害", lambda t: t.endswith("病"))
        self.symptoms_lex = _section("plant_protection.txt", "病害", lambda t: not t.endswith("病"))
        self.pests = _section("plant_protection.txt", "害虫")
        self.pesticides = _section("plant_protection.txt", "杀虫") + _section("plant_protection.txt", "杀菌")
        self.herbicides = _section("plant_protection.txt", "除草")
        self.animals = _section("livestock.txt", "畜禽")[9:]
        self.animal_diseases = _section("livestock.txt", "疫病")
        self.vet = _section("livestock.txt", "防疫")
        self.feeds = _section("livestock.txt", "饲养")
        self.fish = _section("aquaculture.txt", "养殖对象")[9:]
        self.fish_diseases = _section("aquaculture.txt", "鱼病")
        self.water = _section("aquaculture.txt", "水质")
        self.herbs = _section("herbal.txt", "品种")
        self.trees = _section("forestry.txt", "树种")
        self.tree_pests = _section("forestry.txt", "林业有害")
        self.fertilizers = _section("soil_fertilizer.txt", "施肥")
        self.soils = _section("soil_fertilizer.txt", "土壤")
        self.machines = _section("machinery.txt", "农机")
        places = []
        for city in regions.cities():
            places.append(city.short)
            places.extend(c.name for c in regions.counties(city.code))
        self.places = places


PARTS = ["叶子", "叶片", "新叶", "老叶", "叶尖", "根", "根部", "茎秆", "果子", "果实", "穗子", "嫩芽", "树干"]
SYMPTOMS = ["发黄", "变黄", "有黄斑", "长黑点", "有褐色斑点", "卷起来了", "枯了", "烂了", "发白", "起白粉",
            "萎蔫", "掉得厉害", "裂开了", "长不大", "有虫眼", "流胶", "发黑", "长霉"]
STAGES = ["苗期", "移栽后", "分蘖期", "开花期", "结果期", "抽穗期", "膨大期", "采收前", "下雨后", "高温天"]
ANIMAL_SIGNS = ["拉稀", "不吃食", "发烧", "咳嗽", "喘气", "掉毛", "瘫了", "死了好几只", "眼睛发红", "长不大",
                "拉血", "皮肤发红", "流鼻涕", "走路打摆"]
FISH_SIGNS = ["浮头", "不吃料", "身上发红", "鳃发白", "烂尾巴", "死了不少", "在水面打转", "长白毛"]
AMOUNTS = ["", "", "", "两亩", "五亩", "十来亩", "三十亩", "一百多亩", "几分地", "一大片", "好几棵", "大棚里"]
OPENERS = ["", "", "", "", "老师你好，", "请问", "专家好，", "麻烦问一下，", "我家", "我们这里"]

TEMPLATES: dict[str, list[str]] = {
    "plant_protection": [
        "{opener}{place}{amount}{crop}{part}{symptom}，是不是{disease}，用什么药",
        "{opener}{crop}{stage}{part}{symptom}怎么办",
        "{crop}得了{disease}用什么药效果好",
        "{opener}{crop}上{pest}很多，打{pesticide}有用吗",
        "{pesticide}能防治{crop}{pest}吗，怎么配",
        "{crop}{stage}怎么预防{disease}",
        "{opener}{place}{crop}{symptom_lex}，{part}{symptom}，要打什么药",
        "{crop}地里草多，{herbicide}能不能用",
        "{pest}在{crop}上怎么防治最好",
        "{opener}{crop}{disease}和{pest}一起发生，用什么药一起治",
    ],
    "crop": [
        "{opener}{crop}什么时候{practice}最好",
        "{place}适合种什么品种的{crop}",
        "{crop}{practice}要注意什么",
        "{opener}{amount}{crop}遇到{weather}，后面怎么管理",
        "{crop}{stage}{part}{symptom}，是管理的问题吗",
        "{opener}{crop}产量低，{practice}怎么做",
    ],
    "soil_fertilizer": [
        "{opener}{crop}{stage}施什么肥好",
        "{fertilizer}和{fertilizer2}能不能混着用",
        "{crop}{fertilizer}用多少合适",
        "{opener}{place}的地{soil}，种{crop}怎么改良",
        "{crop}{part}{symptom}，是不是缺肥，要补什么",
    ],
    "livestock": [
        "{opener}{animal}{sign}，是不是{animal_disease}",
        "{animal}{sign}还{sign2}，用什么药",
        "{animal}什么时候打{vet}",
        "{opener}{amount2}{animal}{sign}怎么办",
        "{animal}喂{feed}好不好，一天喂多少",
        "{animal_disease}怎么预防，{animal}要打什么疫苗",
    ],
    "aquaculture": [
        "{opener}塘里的{fish}{fish_sign}，是不是{fish_disease}",
        "{fish}{fish_sign}，{water}怎么处理",
        "{opener}{fish}得了{fish_disease}用什么药",
        "养{fish}{water}要注意什么",
    ],
    "herbal": [
        "{opener}{herb}{part}{symptom}怎么办",
        "{herb}什么时候{practice}",
        "{place}能种{herb}吗，一亩收益多少",
        "{herb}得了{disease}用什么药",
    ],
    "forestry": [
        "{opener}{tree}{part}{symptom}，是不是{tree_pest}",
        "{tree}{tree_pest}怎么防治",
        "{place}{tree}什么时候{practice}好",
    ],
    "machinery": [
        "{opener}{machine}{stage}用起来老是出问题，怎么修",
        "{crop}用什么{machine}好，有补贴吗",
    ],
}
FIELD_SHARE = {"plant_protection": 35, "crop": 18, "soil_fertilizer": 12, "livestock": 14,
               "aquaculture": 8, "herbal": 6, "forestry": 5, "machinery": 2}


def generate_entries(n: int, seed: int, prefix: str = "gen", avoid: Iterable[str] = ()) -> list[KnowledgeEntry]:
    rng = random.Random(seed)
    v = Vocabulary()
    fields = list(FIELD_SHARE)
    weights = list(FIELD_SHARE.values())
    pick = rng.choice
    out = []
    seen = set(avoid)
    i = 0
    while len(out) < n:
        i += 1
        f = rng.choices(fields, weights)[0]
        slots = {
            "opener": pick(OPENERS), "place": pick(v.places) if rng.random() < 0.3 else "",
            "amount": pick(AMOUNTS), "amount2": pick(["", "", "十几头", "三百只", "两头"]),
            "crop": pick(v.crops), "part": pick(PARTS), "symptom": pick(SYMPTOMS),
            "symptom_lex": pick(v.symptoms_lex), "stage": pick(STAGES), "disease": pick(v.diseases),
            "pest": pick(v.pests), "pesticide": pick(v.pesticides), "herbicide": pick(v.herbicides),
            "practice": pick(v.practices), "weather": pick(v.weather), "fertilizer": pick(v.fertilizers),
            "fertilizer2": pick(v.fertilizers), "soil": pick(v.soils), "animal": pick(v.animals),
            "sign": pick(ANIMAL_SIGNS), "sign2": pick(ANIMAL_SIGNS), "animal_disease": pick(v.animal_diseases),
            "vet": pick(v.vet), "feed": pick(v.feeds), "fish": pick(v.fish), "fish_sign": pick(FISH_SIGNS),
            "fish_disease": pick(v.fish_diseases), "water": pick(v.water), "herb": pick(v.herbs),
            "tree": pick(v.trees), "tree_pest": pick(v.tree_pests), "machine": pick(v.machines),
        }
        q = pick(TEMPLATES[f]).format(**slots)
        if q in seen:  # one entry per question text: a duplicate cannot be told apart
            continue
        seen.add(q)
        out.append(KnowledgeEntry(f"{prefix}-{i}", q, f"（生成的答案 {i}）", f))
    return out


# -- rewordings for development (only when the real files are missing) --------------------------

_SWAPS = [("用什么药", "打什么药好"), ("怎么办", "咋整"), ("发黄", "变黄"), ("变黄", "黄了"), ("打", "喷"),
          ("是不是", "是不是得了"), ("什么时候", "啥时候"), ("怎么", "咋个"), ("叶子", "叶片"), ("能不能", "可不可以")]
_TYPOS = {"瘟": "温", "稻": "道", "螟": "明", "虱": "失", "蚜": "牙", "枯": "古", "药": "要", "肥": "费",
          "病": "柄", "斑": "般", "黄": "荒", "虫": "冲", "烂": "滥"}
_POLITE = ["老师你好，", "专家，", "请问一下，", "你好，我想问下", ""]
_TAILS = ["，谢谢", "？急", "，在线等", "", "。"]


def reword(question: str, rng: random.Random) -> str:
    q = question
    for a, b in rng.sample(_SWAPS, len(_SWAPS)):
        if a in q and rng.random() < 0.5:
            q = q.replace(a, b, 1)
    parts = [p for p in re.split("[，,]", q) if p]
    if len(parts) > 1 and rng.random() < 0.5:
        parts = parts[1:] + parts[:1]  # the farmer says the question before the symptom
    q = "，".join(parts)
    chars = list(q)
    spots = [i for i, c in enumerate(chars) if c in _TYPOS]
    if spots and rng.random() < 0.5:
        i = rng.choice(spots)
        chars[i] = _TYPOS[chars[i]]
    return rng.choice(_POLITE) + "".join(chars) + rng.choice(_TAILS)


# Messages no farming answer fits: greetings, other business, topics the knowledge base lacks.
OFF_TOPIC = ["你好", "老师好，在吗", "谢谢老师", "今天天气怎么样", "合作社怎么注册，要带什么材料",
             "怎么在网上开店卖土鸡蛋", "村里的路什么时候修", "孩子读书的补助怎么申请", "我想学开挖掘机",
             "外出打工的工资拿不到怎么办", "手机怎么连不上网", "医保怎么交", "房子漏水找谁修",
             "农村宅基地可以买卖吗", "驾照考试难不难", "哪里能贷款买车", "明天开会几点", "快递怎么寄"]


# -- data -------------------------------------------------------------------------------------


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def load_starter(seed: int) -> tuple[list[KnowledgeEntry], list[tuple[str, str]], str]:
    """Starter entries, (gold key, rewording) queries, and where they came from."""
    if KNOWLEDGE.is_file() and REWORDINGS.is_file():
        starter = [
            KnowledgeEntry(f"kb-{r['id'].strip()}", r["问题"].strip(), r["答案"].strip(), r["领域"].strip())
            for r in _tsv(KNOWLEDGE) if r.get("问题", "").strip()
        ]
        keys = {e.key for e in starter}
        queries = [(f"kb-{r['knowledge_id'].strip()}", r["rewording"].strip()) for r in _tsv(REWORDINGS)]
        queries = [(k, q) for k, q in queries if q and k in keys]
        return starter, queries, f"{KNOWLEDGE.relative_to(ROOT)} + {REWORDINGS.relative_to(ROOT)}"
    rng = random.Random(seed + 1)
    starter = generate_entries(300, seed + 1, prefix="dev")
    queries = [(e.key, reword(e.question, rng)) for e in starter for _ in range(2)]
    return starter, queries, "generated stand-ins (real knowledge.tsv / rewordings.tsv missing)"


# -- measurement ------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def is_odd(key: str) -> bool | None:
    """Whether a starter key (kb-K0001) has an odd number; None for generated stand-ins."""
    m = re.search(r"(\d+)$", key)
    return bool(int(m.group(1)) % 2) if m and key.startswith("kb-") else None


class Row:
    def __init__(self, name: str, build_s: float, mem_mb: float, times: list[float], hits: dict, n: dict) -> None:
        self.name, self.build_s, self.mem_mb, self.times, self.hits, self.n = name, build_s, mem_mb, times, hits, n

    def rate(self, part) -> str:
        return f"{self.hits[part] / self.n[part]:.1%}" if self.n.get(part) else "-"


def measure(name: str, search: Callable[[str], list[str]], queries, build_s: float, mem_mb: float) -> Row:
    times: list[float] = []
    hits = {"all": 0, True: 0, False: 0}
    n = {"all": 0, True: 0, False: 0}
    gc.collect()
    for gold, q in queries:
        t = time.perf_counter()
        keys = search(q)
        times.append(time.perf_counter() - t)
        for part in ("all", is_odd(gold)):
            if part is not None:
                n[part] += 1
                hits[part] += gold in keys
    return Row(name, build_s, mem_mb, times, hits, n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.similar", description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=100_000, help="knowledge base size (generated + starter)")
    ap.add_argument("--baseline-queries", type=int, default=100, help="queries for each slow baseline")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--misses", type=int, default=0, help="also print N rewordings we miss")
    args = ap.parse_args(argv)

    starter, queries, source = load_starter(args.seed)
    entries = starter + generate_entries(max(0, args.entries - len(starter)), args.seed,
                                         avoid=(e.question for e in starter))
    random.Random(args.seed).shuffle(entries)
    segmenter = Segmenter()
    normalizer = Normalizer(terms=segmenter.lexicon)
    gc.collect()

    rows = []
    questions = [e.question for e in entries]
    keys = [e.key for e in entries]
    some = random.Random(args.seed).sample(queries, min(args.baseline_queries, len(queries)))
    for label, scorer in (("WRatio", fuzz.WRatio), ("token_set_ratio", fuzz.token_set_ratio)):
        def plain(q: str, scorer=scorer) -> list[str]:
            return [keys[i] for _, _, i in process.extract(q, questions, scorer=scorer, limit=3)]
        rows.append(measure(f"process.extract {label}", plain, some, 0.0, 0.0))

    before, peak_before = rss_mb(), peak_mb()
    t = time.perf_counter()
    index = KnowledgeIndex(segmenter, entries, normalizer=normalizer)
    build_s = time.perf_counter() - t
    gc.collect()
    mem = rss_mb() - before
    ours = measure(f"KnowledgeIndex (threshold {DEFAULT_THRESHOLD:g})",
                   lambda q: [h.entry.key for h in index.search(q, 3)], queries, build_s, mem)
    # Without a threshold, like the baselines, which always return 3.
    bare = measure("KnowledgeIndex (no threshold)",
                   lambda q: [h.entry.key for h in index.search(q, 3, threshold=0)], queries, build_s, mem)
    rows[:0] = [ours, bare]
    if len(some) < len(queries):
        # The same queries the baselines answered, for a like-for-like hit rate.
        rows.insert(2, measure("KnowledgeIndex (baseline's queries)",
                               lambda q: [h.entry.key for h in index.search(q, 3)], some, build_s, mem))
    off_topic = [q for q in OFF_TOPIC if index.search(q, 3)]

    print(f"knowledge base: {len(index):,} entries ({len(starter)} starter); queries: {len(queries)} rewordings "
          f"from {source}")
    head = (f"{'system':<36} {'queries':>7} {'top-3 hit':>9} {'odd':>7} {'even':>7} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'build s':>8} {'RSS +MB':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        build = f"{r.build_s:.2f}" if r.build_s else "-"
        mem_s = f"{r.mem_mb:.0f}" if r.mem_mb else "-"
        print(f"{r.name:<36} {r.n['all']:>7} {r.rate('all'):>9} {r.rate(True):>7} {r.rate(False):>7} "
              f"{percentile(r.times, .5) * 1e3:>8.2f} "
              f"{percentile(r.times, .99) * 1e3:>8.2f} {build:>8} {mem_s:>8}")
    print(f"off-topic messages with a hit: KnowledgeIndex {len(off_topic)}/{len(OFF_TOPIC)} (threshold "
          f"{DEFAULT_THRESHOLD:g}: {'、'.join(off_topic) or 'none'}); process.extract always returns 3 (no threshold)")
    print("odd / even: rewordings of odd- / even-numbered starter entries; KnowledgeIndex was tuned on odd only. "
          "Build time includes normalising every entry (Normalizer).")
    print(f"RSS +MB: resident memory the index added (from /proc/self/statm after build); process peak RSS "
          f"{peak_mb():.0f} MB (getrusage ru_maxrss; {peak_before:.0f} MB before the index). "
          f"Baselines keep only the question list.")

    if args.misses:
        by_key = {e.key: e for e in entries}
        shown = 0
        for gold, q in queries:
            hits = index.search(q, 3)
            if gold not in [h.entry.key for h in hits]:
                top = hits[0] if hits else None
                print(f"  {q}\n    want {by_key[gold].question}\n    got  "
                      + (f"{top.score:.0f} {top.entry.question}" if top else "nothing"))
                shown += 1
                if shown >= args.misses:
                    break
    return 0


if __name__ == "__main__":
    sys.exit(main())
