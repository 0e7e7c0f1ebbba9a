"""Similar solved questions: find answered questions in the knowledge base that read like a new one.

An inverted index over each question's index terms — lexicon terms of the domain and character
bigrams of its content (greetings, question words, particles and place names cut out) — proposes
candidates by IDF-weighted overlap; rapidfuzz then reranks the few best on the raw characters.
Entries are added and removed while the bot runs. Built once at start-up; ``search`` is pure and
never raises.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from intents import regions
from intents.segment import Segmenter, fold

DEFAULT_THRESHOLD = 35.0  # below this a "similar" question is about something else
FIELD_BOOST = 3.0  # points for a same-field entry when the caller names the field

# Candidate generation: only this many entries are reranked with rapidfuzz.
CANDIDATES = 40
# Terms found in more than this share of entries (and more than MIN_CAP entries) do not propose
# candidates (they still count in the rerank); the walk over posting lists, rarest term first,
# stops after POSTINGS_BUDGET postings. Together they bound a query's work at 100,000 entries.
FREQUENT_SHARE = 0.05
MIN_CAP = 1000
POSTINGS_BUDGET = 30_000

# Weight of a term's kind before IDF: lexicon terms by their lexicon weight (1..3), bigrams 1.
_LEXICON_BASE = 1.0
_LEXICON_PER_WEIGHT = 0.5
_BIGRAM = 1.0

# How the final 0..100 score mixes the evidence.
_W_QUERY_COVERED = 0.40  # share of the query's term weight the entry has
_W_ENTRY_COVERED = 0.25  # share of the entry's term weight the query has
_W_RATIO = 0.32  # rapidfuzz ratio of the content characters (typos, near-identical wording)
_W_RAW_RATIO = 0.03  # ratio of the whole texts: breaks ties on what the content leaves out (places)

# Single characters that are only grammar in a farmer's question; multi-character stopwords come
# from the segmenter. Single-character stopwords like 有, 地, 会 are not cut: they start words
# (有机肥, 地膜, 会同) and IDF already makes them cheap.
_PARTICLES = frozenset("了的吗呢吧啊呀哦哈嘛啦哇呐么我你您他她它咋啥哪俺咱")
# Words farmers use for the same thing; the first of each group is what the index stores.
_SYNONYM_GROUPS = (
    "柑橘 橘子 桔子 柑桔 橘树 桔树 蜜橘",
    "马铃薯 土豆 洋芋",
    "红薯 红苕 番薯",  # not 地瓜: in Hunan that is 凉薯
    "玉米 苞谷 包谷",
    "发黄 变黄 黄了 叶黄",
    "叶子 叶片",
    "萎蔫 发蔫 打蔫 蔫了 蔫",
    "整株 整棵 整蔸 全株",
    "稻秆 稻杆",
    "农药 药剂 药水",
    "防治 治理",
    "浮头 浮到",
    "缺肥 缺啥肥",
)
_CANONICAL = {w: g.split()[0] for g in _SYNONYM_GROUPS for w in g.split()[1:]}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
MAX_CHARS = 500  # a question longer than this is cut: its topic is clear well before


def _normalise(text: object) -> str:
    """NFKC (full-width → half-width), lower-cased Latin, at most ``MAX_CHARS`` characters."""
    if not isinstance(text, str) or not text:
        return ""
    return fold(unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])[:MAX_CHARS])


@dataclass(frozen=True)
class KnowledgeEntry:
    """One answered question: ``key`` is stable (e.g. the demand or knowledge id)."""

    key: str
    question: str
    answer: str
    field: str


@dataclass(frozen=True)
class SimilarHit:
    entry: KnowledgeEntry
    score: float  # 0..100


def _place_words() -> frozenset[str]:
    words = {"湖南", "湖南省"}
    for city in regions.cities():
        for r in (city, *regions.counties(city.code)):
            words.add(r.name)
            if len(r.short) >= 2:
                words.add(r.short)
    return frozenset(words)


class _Analyser:
    """Index terms and content characters of a question; no jieba, so 100,000 questions index
    in seconds and a query and an entry are always read the same way."""

    def __init__(self, segmenter: Segmenter) -> None:
        self.segmenter = segmenter
        lex = segmenter.lexicon.weights
        self.term_weight = {
            t: _LEXICON_BASE + _LEXICON_PER_WEIGHT * max(fw.values()) for t, fw in lex.items()
        }
        self.single = frozenset(t for t in lex if len(t) == 1)
        noise = {fold(w) for w in segmenter.stopwords if len(w) >= 2}
        noise |= {fold(w) for w in _place_words() if fold(w) not in lex}
        by_first: dict[str, set[int]] = {}
        for w in noise:
            by_first.setdefault(w[0], set()).add(len(w))
        self.noise = frozenset(noise)
        self.noise_lengths = {ch: tuple(sorted(ls, reverse=True)) for ch, ls in by_first.items()}

    def __call__(self, text: str) -> tuple[str, dict[str, float]]:
        """``(content, {term: kind weight})``; content is the kept characters, for rapidfuzz."""
        text = _normalise(text)
        if not text or not _CJK.search(text):
            return "", {}
        terms: dict[str, float] = {}
        n = len(text)
        keep = [True] * n
        protected = [False] * n
        tw = self.term_weight
        for m in self.segmenter.matches(text, spans=[]):
            terms[m.term] = tw[m.term]
            for i in range(m.start, m.end):
                protected[i] = True
        noise, lengths = self.noise, self.noise_lengths
        i = 0
        while i < n:
            ch = text[i]
            if protected[i]:
                i += 1
                continue
            if ch in self.single:
                terms[ch] = tw[ch]
            for ln in lengths.get(ch, ()):
                j = i + ln
                if j <= n and text[i:j] in noise and not any(protected[i:j]):
                    for p in range(i, j):
                        keep[p] = False
                    i = j
                    break
            else:
                if not ("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff") or ch in _PARTICLES:
                    keep[i] = False
                i += 1
        chars = []
        prev = False
        for i, ch in enumerate(text):
            if keep[i]:
                if prev:
                    bg = text[i - 1 : i + 1]
                    if bg not in terms:
                        terms[bg] = _BIGRAM
                chars.append(ch)
                prev = True
            else:
                prev = False
        canonical = {}
        for t, w in terms.items():
            c = _CANONICAL.get(t, t)
            if canonical.get(c, 0.0) < w:
                canonical[c] = w
        return "".join(chars), canonical


class KnowledgeIndex:
    """Answered questions, searchable by similarity. Not thread-safe: one event loop owns it."""

    def __init__(self, segmenter: Segmenter, entries: Iterable[KnowledgeEntry] = ()) -> None:
        self._analyse = _Analyser(segmenter)
        self._postings: dict[str, list[int]] = {}
        self._entries: list[KnowledgeEntry | None] = []
        self._content: list[str] = []
        self._raw: list[str] = []
        self._terms: list[tuple[str, ...]] = []
        self._kind: dict[str, float] = {}  # kind weight of every indexed term
        self._ids: dict[str, int] = {}
        self._free: list[int] = []
        for entry in entries:
            self.add(entry)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def get(self, key: str) -> KnowledgeEntry | None:
        i = self._ids.get(key)
        return None if i is None else self._entries[i]

    def add(self, entry: KnowledgeEntry) -> None:
        """Index an entry; an entry with the same key is replaced."""
        if entry.key in self._ids:
            self.remove(entry.key)
        content, terms = self._analyse(entry.question)
        raw = _normalise(entry.question)
        if self._free:
            i = self._free.pop()
            self._entries[i], self._content[i], self._raw[i] = entry, content, raw
        else:
            i = len(self._entries)
            self._entries.append(entry)
            self._content.append(content)
            self._raw.append(raw)
            self._terms.append(())
        kept = []
        postings, kind = self._postings, self._kind
        for t, w in terms.items():
            plist = postings.get(t)
            if plist is None:
                plist = postings[t] = []
                kind[t] = w
            plist.append(i)
            kept.append(t)
        self._terms[i] = tuple(kept)
        self._ids[entry.key] = i

    def remove(self, key: str) -> None:
        """Forget an entry; unknown keys are ignored."""
        i = self._ids.pop(key, None)
        if i is None:
            return
        for t in self._terms[i]:
            plist = self._postings[t]
            plist.remove(i)
            if not plist:
                del self._postings[t]
                del self._kind[t]
        self._entries[i] = None
        self._content[i] = self._raw[i] = ""
        self._terms[i] = ()
        self._free.append(i)

    def search(
        self,
        text: str,
        k: int = 3,
        threshold: float = DEFAULT_THRESHOLD,
        field: str | None = None,
    ) -> list[SimilarHit]:
        """Up to ``k`` entries scoring at least ``threshold`` (0..100), best first. With ``field``,
        same-field entries get ``FIELD_BOOST`` points (the threshold applies before the boost)."""
        try:
            return self._search(text, k, threshold, field)
        except Exception:  # noqa: BLE001 - a farmer's message must never break the bot
            return []

    def _search(self, text: str, k: int, threshold: float, field: str | None) -> list[SimilarHit]:
        if k <= 0 or not self._ids or not isinstance(text, str):
            return []
        q_content, q_terms = self._analyse(text)
        q_raw = _normalise(text)
        if not q_terms:
            return []
        n = len(self._ids)
        postings = self._postings
        log = math.log

        # Query term weights: kind x IDF. Unknown terms count at full IDF: a query full of words
        # no entry has is not similar to any of them.
        qw: dict[str, float] = {}
        for t, w in q_terms.items():
            df = len(postings.get(t, ()))
            qw[t] = w * log(1.0 + (n - df + 0.5) / (df + 0.5))
        q_total = sum(qw.values())

        cap = max(FREQUENT_SHARE * n, MIN_CAP)
        acc: dict[int, float] = {}
        get = acc.get
        walked = 0
        for t in sorted(qw, key=qw.__getitem__, reverse=True):
            plist = postings.get(t)
            if not plist or len(plist) > cap:
                continue
            if walked >= POSTINGS_BUDGET:
                break
            w = qw[t]
            for i in plist:
                acc[i] = get(i, 0.0) + w
            walked += len(plist)
        if not acc:
            return []
        if len(acc) > CANDIDATES:
            candidates = heapq.nlargest(CANDIDATES, acc, key=get)
        else:
            candidates = list(acc)

        kind = self._kind
        idf: dict[str, float] = {}
        scored: list[tuple[float, float, int]] = []
        for i in candidates:
            inter = 0.0
            e_total = 0.0
            for t in self._terms[i]:
                w = qw.get(t)
                if w is not None:
                    inter += w
                    e_total += w
                    continue
                v = idf.get(t)
                if v is None:
                    df = len(postings[t])
                    v = idf[t] = kind[t] * log(1.0 + (n - df + 0.5) / (df + 0.5))
                e_total += v
            content = self._content[i]
            ratio = fuzz.ratio(q_content, content) / 100.0
            raw_ratio = fuzz.ratio(q_raw, self._raw[i]) / 100.0
            score = 100.0 * (
                _W_QUERY_COVERED * inter / q_total
                + _W_ENTRY_COVERED * (inter / e_total if e_total else 0.0)
                + _W_RATIO * ratio
                + _W_RAW_RATIO * raw_ratio
            )
            if score < threshold:
                continue
            entry = self._entries[i]
            boosted = score + FIELD_BOOST if field is not None and entry.field == field else score
            scored.append((min(boosted, 100.0), score, i))
        best = heapq.nlargest(k, scored)
        return [SimilarHit(self._entries[i], round(s, 1)) for s, _, i in best]
