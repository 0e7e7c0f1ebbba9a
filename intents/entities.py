"""What a farmer's (normalised) message is about: the crop or animal, the pest or disease, the
pesticide, the symptoms, amounts (三亩, 1.5万羽, 每斤3块), Hunan places, and whether it is urgent.

The kinds of terms come from ``intents/data/entity_terms.tsv`` (term → subject / pest_disease /
pesticide / symptom), derived once from the lexicon's sections and checked by hand; measure words
from ``units.tsv``; urgency words from ``urgency.txt``. :class:`EntityExtractor` loads them once;
``extract`` does no I/O and never raises. Feed it ``Normalizer.normalize(text).text`` so folk words
and typos are already standard (洋芋 → 马铃薯, 道温病 → 稻瘟病).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from intents import regions
from intents.normalize import read_entity_terms

# Single characters that name an animal on their own (猪不吃食); other one-character terms
# (梨, 竹, 烂 …) are too often parts of other words.
SINGLE_SUBJECTS = frozenset("猪牛羊鸡鸭鹅兔鱼虾蟹鳖蛙")
MAX_TEXT = 2000  # longer messages are read up to here (speed); entities come early anyway

# Deaths at least this many (per unit) make a message urgent: 死了3头猪, 死了20只鸡.
DEATH_THRESHOLDS = {"头": 3, "只": 10, "羽": 10, "尾": 50, "条": 50, "株": 50, "亩": 1, "窝": 2, "箱": 2, "群": 2}

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_POWERS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
_CN = "零〇一二两三四五六七八九十百千万亿几"
_NUMBER = (
    rf"(?P<num>\d+(?:\.\d+)?(?:[十百千万亿]+)?|好几[十百千万]*|[{_CN}]*[{_CN[:-1]}][{_CN}]*|半)"
    r"(?P<approx>多|几|来|余)?(?:个)?"
)
_ORGANS = (
    r"(?:叶子|叶片|叶|新叶|老叶|心叶|叶尖|叶边|果子|果实|果|根|根部|茎|秆|杆|苗|花|穗|树皮|树干|植株|整株|全株)"
)
_STATES = (
    r"(?:发黄|变黄|黄了|发白|变白|发黑|变黑|黑了|发红|发紫|变褐|枯了|枯黄|焦了|卷了|卷起来|卷曲|烂了|"
    r"腐烂|有斑|长斑|起斑|有黑点|有白点|蔫了|萎蔫|死了|干了|掉了|脱落|开裂|裂了|畸形|发霉|长毛|流胶|流水)"
)
_SYMPTOM_PHRASE = re.compile(_ORGANS + r"(?:上|子)?(?:都|全|有点|有些|好多)?" + _STATES)


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # as in units.tsv's second column; prices read 元/斤
    text: str  # as written
    approximate: bool = False  # 十几头, 100多只, 好几百斤


@dataclass(frozen=True)
class Entities:
    subjects: tuple[str, ...] = ()
    pests_diseases: tuple[str, ...] = ()
    pesticides: tuple[str, ...] = ()
    symptoms: tuple[str, ...] = ()
    quantities: tuple[Quantity, ...] = ()
    places: tuple[str, ...] = ()  # region codes, most specific, in reading order
    urgent: bool = False
    urgency_terms: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain lists and dicts for JSON."""
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d


EMPTY = Entities()


def chinese_number(s: str) -> tuple[float, bool] | None:
    """Value of a Chinese or Arabic numeral: 两千 → 2000, 十几 → (10, approximate), 1.5万 → 15000,
    好几百 → (100, approximate); None for a bare question word (几). ``(value, approximate)``."""
    approx = False
    if s == "半":
        return 0.5, False
    if s.startswith("好几"):
        s, approx = s[2:], True
        if not s:
            return 3.0, True
    m = re.match(r"^(\d+(?:\.\d+)?)([十百千万亿]*)$", s)
    if m:
        v = float(m.group(1))
        for ch in m.group(2):
            v *= _POWERS[ch]
        return v, approx
    if not s or set(s) <= {"几"}:
        return None
    total = section = 0.0
    digit: int | None = None
    for ch in s:
        if ch in _DIGITS:
            if digit is not None:  # 两三亩: a range, keep the first
                approx = True
                continue
            digit = _DIGITS[ch]
        elif ch == "几":
            approx = True
            digit = 1 if (total == section == 0 and digit is None) else 0  # 几十 → 10, 十几 → 10
        elif ch in _POWERS:
            p = _POWERS[ch]
            if p >= 10_000:
                section += digit or 0
                total += (section or 1) * p
                section = 0.0
            else:
                section += (1 if digit is None else digit) * p
            digit = None
        else:
            return None
    value = total + section + (digit or 0)
    return (value, approx) if value > 0 else None


def _read(name: str) -> str:
    return resources.files("intents").joinpath("data", name).read_text("utf-8")


def read_units(text: str) -> dict[str, str]:
    out = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            surface, _, unit = (p.strip() for p in line.partition("\t"))
            out[surface] = unit or surface
    return out


def read_urgency(text: str) -> dict[str, tuple[str, ...]]:
    """term → the longer words that contain it without meaning urgency."""
    out: dict[str, tuple[str, ...]] = {}
    for raw in text.splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        term, _, rest = raw.partition("\t")
        rest = rest.strip()
        out[term.strip()] = tuple(rest[4:].split()) if rest.startswith("not:") else ()
    return out


class EntityExtractor:
    """Built once at start-up (a few milliseconds); ``extract`` is pure and fast."""

    def __init__(
        self,
        entity_terms: Mapping[str, str] | None = None,
        units: Mapping[str, str] | None = None,
        urgency: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        kinds = dict(read_entity_terms(_read("entity_terms.tsv")) if entity_terms is None else entity_terms)
        self.kinds = {t: k for t, k in kinds.items() if len(t) >= 2 or (k == "subject" and t in SINGLE_SUBJECTS)}
        by_first: dict[str, set[int]] = {}
        for t in self.kinds:
            by_first.setdefault(t[0], set()).add(len(t))
        self._lengths = {c: tuple(sorted(ls, reverse=True)) for c, ls in by_first.items()}
        self.units = dict(read_units(_read("units.tsv")) if units is None else units)
        self.urgency = dict(read_urgency(_read("urgency.txt")) if urgency is None else urgency)
        unit_alt = "|".join(re.escape(u) for u in sorted(self.units, key=lambda u: (-len(u), u)))
        # 块 is money unless a piece of land or a lump follows (一块地, 两块田).
        self._quantity = re.compile(
            rf"(?P<per>每(?P<perunit>{unit_alt}))?{_NUMBER}(?P<unit>{unit_alt})"
            rf"(?:(?:/|一|每)(?P<per2>{unit_alt}))?",
            re.IGNORECASE,
        )
        self._deaths = re.compile(rf"死(?:了|掉了?|亡)?{_NUMBER}(?P<unit>{unit_alt})")
        urg = sorted(self.urgency, key=lambda u: (-len(u), u))
        self._urgency_re = re.compile("|".join(map(re.escape, urg))) if urg else None
        self.extract("湖南浏阳死了十几头猪，急，每斤3块")  # warm up

    def _terms(self, text: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {"subject": [], "pest_disease": [], "pesticide": [], "symptom": []}
        kinds, lengths = self.kinds, self._lengths
        n = len(text)
        i = 0
        while i < n:
            for ln in lengths.get(text[i], ()):
                w = text[i : i + ln]
                if ln <= n - i and w in kinds:
                    bucket = found[kinds[w]]
                    if w not in bucket:
                        bucket.append(w)
                    i += ln
                    break
            else:
                i += 1
        return found

    def _quantities(self, text: str) -> list[Quantity]:
        out = []
        for m in self._quantity.finditer(text):
            parsed = chinese_number(m.group("num"))
            if parsed is None:
                continue
            value, approx = parsed
            unit = self.units.get(m.group("unit").lower(), m.group("unit"))
            after = text[m.end("unit") : m.end("unit") + 1]
            if m.group("unit") == "块" and after and after in "地田土板石砖肉布":
                continue  # 一块地 is land, not money
            per = m.group("perunit") or m.group("per2")
            if per and unit in ("元", "角", "万元"):
                unit = f"{unit}/{self.units.get(per.lower(), per)}"
            out.append(Quantity(value, unit, m.group(0), approx or bool(m.group("approx"))))
        return out

    def _places(self, text: str) -> list[str]:
        # regions.find_in_text picks one place; here every place counts (a county hides its city).
        found: list[tuple[int, str]] = []
        for word, code in regions._SCAN:  # noqa: SLF001 - same package; see report
            at = text.find(word)
            while at >= 0:
                if code:
                    found.append((at, code))
                text = text[:at] + "\0" * len(word) + text[at + len(word) :]
                at = text.find(word, at + len(word))
        codes = [c for _, c in sorted(found)]
        cities_with_county = {regions.city_of(c) for c in codes if (r := regions.get(c)) is not None and r.level == "county"}
        out = []
        for c in codes:
            if c not in out and c not in cities_with_county and not (
                c == regions.PROVINCE_CODE and len(set(codes)) > 1
            ):
                out.append(c)
        return out

    def _urgency(self, text: str, quantities: list[Quantity]) -> list[str]:
        terms: list[str] = []
        if self._urgency_re is not None:
            for m in self._urgency_re.finditer(text):
                t = m.group()
                masked = False
                for w in self.urgency.get(t, ()):
                    for k in range(len(w)):
                        if text.startswith(w, m.start() - k):
                            masked = True
                if not masked and t not in terms:
                    terms.append(t)
        for m in self._deaths.finditer(text):
            parsed = chinese_number(m.group("num"))
            unit = self.units.get(m.group("unit").lower(), m.group("unit"))
            if parsed and parsed[0] >= DEATH_THRESHOLDS.get(unit, float("inf")) and m.group(0) not in terms:
                terms.append(m.group(0))
        return terms

    def extract(self, text: str) -> Entities:
        if not isinstance(text, str) or not text:
            return EMPTY
        try:
            return self._extract(text[:MAX_TEXT])
        except Exception:  # noqa: BLE001 - a farmer's message must never break the bot
            return EMPTY

    def _extract(self, text: str) -> Entities:
        terms = self._terms(text)
        symptoms = terms["symptom"]
        for m in _SYMPTOM_PHRASE.finditer(text):
            if m.group() not in symptoms and not any(m.group() in s for s in symptoms):
                symptoms.append(m.group())
        quantities = self._quantities(text)
        urgency = self._urgency(text, quantities)
        return Entities(
            subjects=tuple(terms["subject"]),
            pests_diseases=tuple(terms["pest_disease"]),
            pesticides=tuple(terms["pesticide"]),
            symptoms=tuple(symptoms),
            quantities=tuple(quantities),
            places=tuple(self._places(text)),
            urgent=bool(urgency),
            urgency_terms=tuple(urgency),
        )
