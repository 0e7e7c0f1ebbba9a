"""Cleaning a farmer's message before it is understood: width, invisible characters, traditional
characters, emoji and repeated punctuation; folk and dialect words to standard terms (洋芋 → 马铃薯);
pinyin-input typos of domain terms (道温病 → 稻瘟病, 二化明 → 二化螟).

Everything is built once, in :class:`Normalizer`'s constructor (≈0.5 s: jieba's general dictionary,
the pinyin table, the lexicon). ``normalize`` does no I/O, never raises and is idempotent:
``normalize(normalize(x).text).text == normalize(x).text``.

Typo correction is deliberately timid. A run of 2–6 characters is rewritten to a domain term only if

* its toneless pinyin equals the term's, with the sounds Hunan speakers mix folded together
  (zh/z, ch/c, sh/s, l/n, ang/an, eng/en, ing/in), or — terms of 3+ characters — it differs from
  the term in one character whose pinyin is one edit away (纹姑病 → 纹枯病);
* it shares a character with the term (枣树 is not a typo of 早熟);
* it is neither a domain term itself nor a word of general Chinese (例子 is not 李子), and it does
  not cut through a domain term at least as long found in the text;
* for two-character terms (riskier: 一病 sounds like 疫病) only pests qualify, and neither
  neighbouring character may form a word with the run's edge.

Lexicon entries that are themselves typos of a term (道温病, 牙虫 …) are recognised by the same
test and corrected, not protected.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

import jieba
import opencc
from pypinyin import Style, lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict
from rapidfuzz.distance import Levenshtein

from intents.segment import load_lexicon

RECENT = 64  # normalised texts remembered (see Normalizer.normalize)

MIN_TERM, MAX_TERM = 2, 6
MAX_WORD = 8  # longest general word considered when protecting a folk word's surroundings

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK_ONLY = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
_SAME_PUNCT = re.compile(r"([^\w\s])\1+")
_MIXED_END = re.compile(r"([!?])[!?]+")
_SPACES = re.compile(r"\s+")
# Pictographs, dingbats, flags, keycaps and the joiners/selectors that glue emoji together.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\u3030\u303d\u3297\u3299"
    "\ufe0e\ufe0f\u20e3\U000e0020-\U000e007f]"
)
# Entity kinds whose terms are distinctive enough to correct towards.
_TARGET_KINDS = {"pest_disease": MIN_TERM, "pesticide": MIN_TERM, "subject": 3}
# Two-character targets: pests with a distinctive last character. X虫 words mostly sound like
# everyday words (幼虫/油虫, 驱虫/蛆虫, 鱼死/鱼虱), so only 蚜虫 and 螨虫 of them.
_PEST_TAIL = re.compile(r"[螟虱蛾螨蚧蝇蝽马蛄蠖]$|^[蚜螨]虫$")
_NOT_TARGETS = frozenset({"鱼虱"})
COMMON = 5
# One-character slips (terms of 3+ characters, pests/diseases/pesticides only): initials that are
# easily mistaken for each other with the rest of the syllable equal (纹姑病 → 纹枯病), or, in
# terms of 4+ characters, the same initial and finals one edit apart.
_NEAR_INITIALS = frozenset(
    frozenset(p) for p in (("g", "k"), ("b", "p"), ("d", "t"), ("j", "q"), ("z", "c"), ("f", "h"), ("j", "z"), ("q", "c"), ("x", "s"))
)
_INITIAL = re.compile(r"^(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(.*)$")  # a general word this frequent (jieba) is never taken for a misspelling


@dataclass(frozen=True)
class Normalized:
    """``text`` is the cleaned message. ``corrections`` are the typo fixes, (as typed, as read),
    worth telling the farmer (已按「稻瘟病」理解); ``synonyms`` the folk words replaced by their
    standard term (洋芋 → 马铃薯), usually not worth mentioning."""

    text: str
    corrections: tuple[tuple[str, str], ...] = ()
    synonyms: tuple[tuple[str, str], ...] = ()


def fold_syllable(s: str) -> str:
    """A toneless syllable with the sounds Hunan speakers (and their input methods) mix made equal."""
    if s[:2] in ("zh", "ch", "sh"):
        s = s[0] + s[2:]
    elif s[:1] == "l":
        s = "n" + s[1:]
    if s.endswith("ng") and s[-3:-2] in ("a", "e", "i"):
        s = s[:-1]
    return s


def _near(a: str, b: str, length: int) -> bool:
    """Whether two folded syllables are a likely slip inside a term of ``length`` characters."""
    if not a or not b or a == b:
        return a == b and bool(a)
    ma, mb = _INITIAL.match(a), _INITIAL.match(b)
    if ma is None or mb is None:
        return False
    ia, ra = ma.groups()
    ib, rb = mb.groups()
    if ra == rb and ia and ib and frozenset((ia, ib)) in _NEAR_INITIALS:
        return True
    return length >= 4 and ia == ib and Levenshtein.distance(ra, rb) <= 1


def _toneless(py: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", py) if not unicodedata.combining(c)).lower()


def read_synonyms(text: str) -> dict[str, str]:
    """``folk<TAB>standard`` lines (``#`` comments)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        folk, _, standard = (p.strip() for p in line.partition("\t"))
        if not folk or not standard or folk == standard:
            raise ValueError(f"bad synonym line: {raw!r}")
        out[folk] = standard
    return out


def read_entity_terms(text: str) -> dict[str, str]:
    """``term<TAB>kind`` lines (``#`` comments) of ``intents/data/entity_terms.tsv``."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        term, _, kind = (p.strip() for p in line.partition("\t"))
        if not term or kind not in ("subject", "pest_disease", "pesticide", "symptom"):
            raise ValueError(f"bad entity term line: {raw!r}")
        out[term] = kind
    return out


def _data(name: str) -> str:
    return resources.files("intents").joinpath("data", name).read_text("utf-8")


def load_general_words() -> dict[str, int]:
    """jieba's general dictionary (≈350 000 words with frequencies)."""
    words: dict[str, int] = {}
    with jieba.get_dict_file() as fh:
        for line in fh:
            parts = line.decode("utf-8").split()
            if len(parts) >= 2 and 2 <= len(parts[0]) <= MAX_WORD:
                words[parts[0]] = int(parts[1])
    return words


class Normalizer:
    """Built once at start-up.

    ``terms``: every domain term the text may legitimately contain (they are protected from
    rewriting); default the whole lexicon (``intents/lexicon``). Pass ``segmenter.lexicon`` to share
    the one already loaded. ``known_words``: general Chinese words (word → frequency > 0); default
    jieba's own dictionary file. Do not pass a Segmenter's ``tokenizer.FREQ``: it holds the lexicon's
    misspellings (道温病) with high frequencies, and they would then be protected, not corrected.
    Correction targets are the pests, diseases, pesticides (2–6 characters) and crops/animals
    (3–6 characters) of ``intents/data/entity_terms.tsv``; folk words come from
    ``intents/data/synonyms.tsv``.
    """

    def __init__(
        self,
        terms: Iterable[str] | None = None,
        known_words: Mapping[str, int] | None = None,
        *,
        synonyms: Mapping[str, str] | None = None,
        entity_terms: Mapping[str, str] | None = None,
    ) -> None:
        self._t2s = opencc.OpenCC("t2s")
        self._recent: dict[str, Normalized] = {}  # oldest first, at most RECENT
        self.synonyms = dict(read_synonyms(_data("synonyms.tsv")) if synonyms is None else synonyms)
        kinds = dict(read_entity_terms(_data("entity_terms.tsv")) if entity_terms is None else entity_terms)
        domain = set(load_lexicon() if terms is None else terms)
        self._known = load_general_words() if known_words is None else known_words
        # Per-character default reading, folded: the whole table, so no pypinyin call per message.
        self._py: dict[str, str] = {}
        for code, readings in pinyin_dict.items():
            self._py[chr(code)] = fold_syllable(_toneless(readings.split(",", 1)[0]))

        targets = {
            t for t, k in kinds.items()
            if k in _TARGET_KINDS and _TARGET_KINDS[k] <= len(t) <= MAX_TERM and _CJK_ONLY.match(t)
            and not (len(t) == 2 and not _PEST_TAIL.search(t))
            and t not in self.synonyms and t not in _NOT_TARGETS
        }
        # Pinyin key → target; None when two targets sound alike (then neither is guessed).
        self._exact: dict[tuple[str, ...], str | None] = {}
        # (length, position, term with that character blanked) → [target], for one-character slips.
        self._slips: dict[tuple[int, int, str], list[str]] = {}
        for t in sorted(targets):
            for key in self._keys(t):
                have = self._exact.get(key, t)
                self._exact[key] = t if have == t else None
            if len(t) >= 3 and kinds[t] != "subject":
                for p in range(len(t)):
                    self._slips.setdefault((len(t), p, t[:p] + "\0" + t[p + 1 :]), []).append(t)
        # Domain terms that sound like a target and share a character with it are its misspellings
        # (道温病, 牙虫): corrected, not protected.
        self.variants = frozenset(
            w for w in domain
            if w not in targets and 2 <= len(w) <= MAX_TERM and _CJK_ONLY.match(w)
            and self._known.get(w, 0) < COMMON and self._target_for(w) is not None
        )
        self._protected = frozenset((domain | targets | set(self.synonyms.values())) - self.variants)
        self._targets = frozenset(targets)
        by_first: dict[str, set[int]] = {}
        for w in self._protected:
            if len(w) >= 2:
                by_first.setdefault(w[0], set()).add(len(w))
        self._lengths = {c: tuple(sorted(ls, reverse=True)) for c, ls in by_first.items()}
        folk = sorted(self.synonyms, key=lambda w: (-len(w), w))
        self._folk = re.compile("|".join(map(re.escape, folk))) if folk else None
        self.normalize("稻瘟病怎么治")  # warm up regexes and OpenCC

    # -- pinyin ------------------------------------------------------------------------------

    def _keys(self, term: str) -> set[tuple[str, ...]]:
        """A term's folded pinyin: as read in context and character by character."""
        phrase = tuple(fold_syllable(_toneless(s)) for s in lazy_pinyin(term, style=Style.TONE))
        keys = {phrase} if len(phrase) == len(term) else set()
        chars = tuple(self._py.get(c, c) for c in term)
        keys.add(chars)
        return keys

    def _target_for(self, w: str) -> str | None:
        """The target ``w`` is a sound-alike of (sharing a character), or None."""
        for key in self._keys(w):
            t = self._exact.get(key)
            if t and t != w and set(t) & set(w):
                return t
        return None

    # -- steps -------------------------------------------------------------------------------

    def clean(self, text: str) -> str:
        """Width, invisible characters, traditional characters, emoji, punctuation, whitespace."""
        text = unicodedata.normalize("NFKC", text)
        text = _EMOJI.sub(" ", text)
        out = []
        for ch in text:
            cat = unicodedata.category(ch)
            if cat == "Cc" or cat == "Zl" or cat == "Zp":
                out.append(" ")  # tabs and line breaks separate words
            elif cat in ("Cf", "Cs", "Co", "Cn"):
                continue  # zero-width marks, lone surrogates, private use, unassigned
            else:
                out.append(ch)
        text = unicodedata.normalize("NFKC", "".join(out))  # a removed joiner may leave a composable pair
        text = self._simplified(text)
        text = _SAME_PUNCT.sub(r"\1", text)
        text = _MIXED_END.sub(r"\1", text)
        text = _SAME_PUNCT.sub(r"\1", text)
        return _SPACES.sub(" ", text).strip()

    def _simplified(self, text: str) -> str:
        """Traditional to simplified, to a fixed point: a few characters take two steps (薴→苧→苎),
        and normalising twice must change nothing."""
        for _ in range(3):
            converted = self._t2s.convert(text)
            if converted == text:
                break
            text = converted
        return text

    def _is_word(self, w: str) -> bool:
        return w in self._protected or self._known.get(w, 0) > 0

    def _covered(self, text: str, start: int, end: int) -> bool:
        """Whether a longer word (domain or general) holds ``text[start:end]`` and more."""
        n = len(text)
        for s in range(max(0, start - MAX_WORD + 1), start + 1):
            for e in range(max(end, s + 2), min(n, s + MAX_WORD) + 1):
                if e - s > end - start and self._is_word(text[s:e]) and text[s:e] not in self.synonyms:
                    return True
        return False

    def _standardise(self, text: str, found: list[tuple[str, str]]) -> str:
        if self._folk is None:
            return text
        out = []
        last = 0
        for m in self._folk.finditer(text):
            if self._covered(text, m.start(), m.end()):
                continue
            out.append(text[last : m.start()])
            out.append(self.synonyms[m.group()])
            found.append((m.group(), self.synonyms[m.group()]))
            last = m.end()
        out.append(text[last:])
        return "".join(out)

    def _protected_spans(self, run: str) -> list[int]:
        """For each boundary i (0..n): the length of the protected term running across it (starting
        before i, ending after i), 0 if none; terms found leftmost-longest."""
        n = len(run)
        across = [0] * (n + 1)
        i = 0
        while i < n:
            for ln in self._lengths.get(run[i], ()):
                if i + ln <= n and run[i : i + ln] in self._protected:
                    for b in range(i + 1, i + ln):
                        across[b] = ln
                    i += ln
                    break
            else:
                i += 1
        return across

    def _match(self, run: str, syl: list[str], i: int, ln: int, across: list[int]) -> str | None:
        w = run[i : i + ln]
        if w in self._protected or (w not in self.variants and self._known.get(w, 0) > 0):
            return None
        if max(across[i], across[i + ln]) >= ln:
            return None  # would cut through a correct term at least as long (病叶 in 道温病叶子 is not one)
        t = self._exact.get(tuple(syl[i : i + ln]))
        if t is None and ln >= 3:
            for p in range(ln):
                for cand in self._slips.get((ln, p, w[:p] + "\0" + w[p + 1 :]), ()):
                    if _near(syl[i + p], self._py.get(cand[p], ""), ln):
                        t = cand
                        break
                if t:
                    break
        if t is None or t == w or not set(t) & set(w):
            return None
        if ln == 2 and w not in self.variants:
            left = run[i - 1 : i + 1] if i > 0 else ""
            right = run[i + 1 : i + 3] if i + 2 < len(run) else ""
            if (left and self._is_word(left)) or (right and self._is_word(right)):
                return None
        return t

    def _correct_run(self, run: str, found: list[tuple[str, str]]) -> str:
        syl = [self._py.get(c, c) for c in run]
        across = self._protected_spans(run)
        n = len(run)
        out = []
        i = 0
        while i < n:
            for ln in range(min(MAX_TERM, n - i), MIN_TERM - 1, -1):
                w = run[i : i + ln]
                if w in self._protected:
                    out.append(w)
                    i += ln
                    break
                t = self._match(run, syl, i, ln, across)
                if t:
                    out.append(t)
                    found.append((w, t))
                    i += ln
                    break
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    def _correct(self, text: str, found: list[tuple[str, str]]) -> str:
        return _CJK_RUN.sub(lambda m: self._correct_run(m.group(), found), text)

    # -- the whole thing -----------------------------------------------------------------------

    def normalize(self, text: str) -> Normalized:
        """Clean, standardise folk words, fix pinyin typos. Never raises; non-text reads as "".

        The last few results are kept: a question is read by the classifier and then by the
        similar-question search, and the second reading costs nothing."""
        if not isinstance(text, str) or not text:
            return Normalized("")
        if (known := self._recent.get(text)) is not None:
            return known
        result = self._normalize(text)
        if len(self._recent) >= RECENT:
            del self._recent[next(iter(self._recent))]
        self._recent[text] = result
        return result

    def _normalize(self, text: str) -> Normalized:
        try:
            clean = self.clean(text)
            synonyms: list[tuple[str, str]] = []
            clean = self._standardise(clean, synonyms)
            corrections: list[tuple[str, str]] = []
            clean = self._correct(clean, corrections)
            return Normalized(clean, tuple(dict.fromkeys(corrections)), tuple(dict.fromkeys(synonyms)))
        except Exception:  # noqa: BLE001 - a farmer's message must never break the bot
            return Normalized(text)
