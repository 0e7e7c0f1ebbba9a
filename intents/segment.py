"""Word segmentation for farmers' questions: a private jieba tokenizer that knows the domain lexicon.

Everything is loaded once, when a :class:`Segmenter` is built (at start-up). ``cut``, ``matches``
and ``keywords`` do no I/O.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from importlib import resources

import jieba

from intents import regions
from intents.taxonomy import OTHER, field_codes

LEXICON_DIR = "lexicon"
STOPWORDS_FILE = "stopwords.txt"

# Fields whose terms name *what* is farmed (a herb, a tree, an animal, a fish). Their terms are
# "host" terms unless listed after a ``#@ nohost`` line (until ``#@ host``); the classifier lets a
# host take over generic crop / plant-protection / fertiliser evidence.
HOST_FIELDS = ("herbal", "forestry", "livestock", "aquaculture")

_LINE = re.compile(r"^(\S+)(?:\s+(\d+(?:\.\d+)?))?\s*$")
_DIRECTIVE = re.compile(r"^#@\s*(host|nohost)\s*$")


@dataclass
class Lexicon:
    """Domain terms: ``weights[term] = {field: weight 1..3}``; ``hosts[term] = {host field: weight}``."""

    weights: dict[str, dict[str, float]] = dataclass_field(default_factory=dict)
    hosts: dict[str, dict[str, float]] = dataclass_field(default_factory=dict)

    def __contains__(self, term: object) -> bool:
        return term in self.weights

    def __iter__(self) -> Iterator[str]:
        return iter(self.weights)

    def __len__(self) -> int:
        return len(self.weights)

    def __getitem__(self, term: str) -> dict[str, float]:
        return self.weights[term]

    def get(self, term: str, default: dict[str, float] | None = None) -> dict[str, float] | None:
        return self.weights.get(term, default)


def _read(name: str) -> str:
    return resources.files("intents").joinpath(LEXICON_DIR, name).read_text("utf-8")


def fold(text: str) -> str:
    """The form lexicon matching works on: Latin letters lower-cased, everything else as is."""
    return text.lower()


def parse_lexicon_text(text: str, field: str, into: Lexicon | None = None) -> Lexicon:
    """Parse ``term weight`` lines (``#`` comments, blank lines allowed; weight defaults to 1).

    ``#@ nohost`` / ``#@ host`` lines switch whether the following terms of a host field name a
    host (default: yes for the fields in ``HOST_FIELDS``)."""
    lex = Lexicon() if into is None else into
    host = field in HOST_FIELDS
    for raw in text.splitlines():
        d = _DIRECTIVE.match(raw.strip())
        if d:
            host = field in HOST_FIELDS and d.group(1) == "host"
            continue
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _LINE.match(line)
        if not m:
            raise ValueError(f"bad lexicon line for {field}: {raw!r}")
        term = fold(m.group(1))
        weight = float(m.group(2) or 1)
        if not 1 <= weight <= 3:
            raise ValueError(f"weight out of 1..3 for {field}: {raw!r}")
        slot = lex.weights.setdefault(term, {})
        slot[field] = max(weight, slot.get(field, 0.0))
        if host:
            hslot = lex.hosts.setdefault(term, {})
            hslot[field] = max(weight, hslot.get(field, 0.0))
    return lex


def load_lexicon() -> Lexicon:
    """All ``intents/lexicon/<field>.txt`` files merged."""
    lex = Lexicon()
    for code in field_codes():
        if code == OTHER:
            continue
        parse_lexicon_text(_read(f"{code}.txt"), code, lex)
    return lex


def load_stopwords() -> frozenset[str]:
    words = set()
    for raw in _read(STOPWORDS_FILE).splitlines():
        w = raw.split("#", 1)[0].strip()
        if w:
            words.add(fold(w))
    return frozenset(words)


@dataclass(frozen=True)
class Match:
    """One lexicon term found in a text: ``text[start:end] == term``.

    ``aligned`` is True when both ends fall on jieba token boundaries, i.e. the segmenter agrees
    the term is a word here (``开花生长`` holds the characters of 花生 but not the word).
    """

    term: str
    start: int
    end: int
    aligned: bool


# Punctuation, symbols, whitespace, digits and Latin-only junk never make keywords.
_NOT_CONTENT = re.compile(r"^[\W\d_]+$|^[a-z]$", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Amounts and times: 两百亩, 几月份, 好几只, 20天, 一亩.
_QUANTITY = re.compile(
    r"^[\d.零一二两三四五六七八九十百千万几多半好每]+"
    r"(?:个|亩|斤|公斤|千克|克|吨|天|年|月|月份|号|日|只|头|条|棵|株|次|遍|份|点|倍|块|元|毛|米|厘米|分钟|小时|周|星期|层|行|批|窝|包|瓶|桶)?$"
)
# Words this common in general Chinese text carry no topic (出现, 情况, 现在 ...).
_COMMON_FREQ = 20000


class Segmenter:
    """A jieba tokenizer of our own (not the global one) with the domain lexicon added."""

    def __init__(self, lexicon: Lexicon | None = None, stopwords: frozenset[str] | None = None) -> None:
        jieba.default_logger.setLevel(logging.WARNING)
        self.lexicon: Lexicon = load_lexicon() if lexicon is None else lexicon
        self.stopwords: frozenset[str] = load_stopwords() if stopwords is None else stopwords
        self.tokenizer = jieba.Tokenizer()
        self.tokenizer.initialize()
        self._add_terms()
        # First character -> the lengths of lexicon terms starting with it, longest first.
        by_first: dict[str, set[int]] = {}
        for term in self.lexicon:
            if len(term) >= 2:
                by_first.setdefault(term[0], set()).add(len(term))
        self._lengths = {ch: tuple(sorted(ls, reverse=True)) for ch, ls in by_first.items()}
        self._single = frozenset(t for t in self.lexicon if len(t) == 1)
        self._best_weight = {t: max(fw.values()) for t, fw in self.lexicon.weights.items()}
        self._log_total = math.log(self.tokenizer.total)
        # Warm up the DAG/HMM code paths so the first real message is not slower than the rest.
        self.cut("水稻叶子发黄打什么药")

    def _add_terms(self) -> None:
        tk = self.tokenizer
        for term in self.lexicon:
            if len(term) < 2 or not _CJK.search(term):
                continue
            # Enough frequency that the term survives as one word in context, never less than
            # jieba already gives it. suggest_freq(tune=False) is what makes it whole in isolation.
            have = tk.FREQ.get(term, 0)
            need = tk.suggest_freq(term, tune=False)
            tk.add_word(term, freq=max(have, need * 20, 2000))

    # -- segmentation -----------------------------------------------------------------------

    def cut(self, text: str) -> list[str]:
        """jieba tokens of ``text`` (precise mode, HMM on for unknown words), whitespace dropped."""
        if not text:
            return []
        return [t for t in self.tokenizer.cut(text, HMM=True) if not t.isspace()]

    def _spans(self, text: str) -> list[tuple[str, int, int]]:
        # Dictionary words only (no HMM guessing): an unknown pair like 鸡拉 in 鸡拉稀粪 stays
        # 鸡 / 拉, so single-character terms are not swallowed by a guessed word. Faster, too.
        out = []
        pos = 0
        for tok in self.tokenizer.cut(text, HMM=False):
            out.append((tok, pos, pos + len(tok)))
            pos += len(tok)
        return out

    def matches(self, text: str, spans: list[tuple[str, int, int]] | None = None) -> list[Match]:
        """Maximal lexicon matches in ``text`` (folded), leftmost first.

        Multi-character terms are found by direct substring search, so a segmentation miss does
        not lose evidence; single-character terms (猪, 鸡, 鱼 ...) count only as whole jieba tokens.
        A match contained in a longer one is dropped (稻瘟病 inside 水稻稻瘟病 stays, 炭疽病 inside
        油茶炭疽病 goes).
        """
        text = fold(text)
        if spans is None:
            spans = self._spans(text)
        bounds = {0}
        found: list[tuple[int, int]] = []
        for tok, s, e in spans:
            bounds.add(e)
            if tok in self._single:
                found.append((s, e))
        lex = self.lexicon.weights
        lengths = self._lengths
        n = len(text)
        for i, ch in enumerate(text):
            for ln in lengths.get(ch, ()):
                if i + ln <= n and text[i : i + ln] in lex:
                    found.append((i, i + ln))
                    break  # longest at this start
        found.sort(key=lambda se: (se[0], -se[1]))
        out: list[Match] = []
        reach = -1
        last_start = -1
        for s, e in found:
            if s == last_start or e <= reach:
                continue  # shorter at the same start, or inside an earlier longer match
            last_start = s
            reach = max(reach, e)
            out.append(Match(text[s:e], s, e, s in bounds and e in bounds))
        return out

    # -- keywords ---------------------------------------------------------------------------

    def _is_content(self, tok: str) -> bool:
        if tok in self.stopwords or _NOT_CONTENT.match(tok) or _QUANTITY.match(tok):
            return False
        if regions.resolve_region(tok) is not None:  # places are shown as the region, not as key words
            return False
        if len(tok) < 2:
            return tok in self._single
        if not _CJK.search(tok):
            return len(tok) >= 2 and tok.isalnum() and not tok.isdigit()
        # Known to jieba's dictionary but not too common: words HMM guessed (小是, 越长越) are
        # mostly segmentation debris in colloquial text.
        return bool(0 < self.tokenizer.FREQ.get(tok, 0) < _COMMON_FREQ)

    def analyse(self, text: str) -> tuple[list[tuple[str, int, int]], list[Match]]:
        """Token spans and lexicon matches of the folded text, for callers needing both."""
        folded = fold(text)
        spans = self._spans(folded)
        return spans, self.matches(folded, spans)

    def keywords(
        self,
        text: str,
        k: int = 6,
        analysed: tuple[list[tuple[str, int, int]], list[Match]] | None = None,
    ) -> list[str]:
        """Up to ``k`` meaningful content words: lexicon terms first (strongest, then earliest),
        then other informative tokens in reading order. No stopwords, punctuation or numbers."""
        if k <= 0 or not text:
            return []
        spans, matches = self.analyse(text) if analysed is None else analysed
        picked: list[str] = []
        seen: set[str] = set()
        covered: list[tuple[int, int]] = []
        ranked = sorted(
            (m for m in matches if m.aligned and (len(m.term) > 1 or self._best_weight[m.term] >= 2)),
            key=lambda m: (-self._best_weight[m.term], m.start),
        )
        for m in ranked:
            if m.term in seen or m.term in self.stopwords:
                continue
            seen.add(m.term)
            picked.append(m.term)
            covered.append((m.start, m.end))
        picked = picked[:k]
        for tok, s, e in spans:
            if len(picked) >= k:
                break
            if tok in seen or not self._is_content(tok):
                continue
            if any(cs < e and s < ce for cs, ce in covered):
                continue
            seen.add(tok)
            picked.append(tok)
        return picked
