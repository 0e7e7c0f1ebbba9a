"""Similar solved questions: find answered questions in the knowledge base that read like a new one.

Both sides are read the same way: normalised (folk words and pinyin typos, when a ``Normalizer``
is given), then cut into index terms — lexicon terms of the domain, character bigrams and single
characters of the content (greetings, question words, particles and place names left out). An
inverted index proposes candidates by BM25 over those terms; the best few are scored by how much
of the query's weight they cover, how well their characters line up (rapidfuzz) and how they
rank, on a 0..100 scale a fixed threshold works on. Entries are added and removed while the bot
runs. ``search`` is pure and never raises.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from intents import regions
from intents.normalize import Normalizer
from intents.segment import Segmenter, fold

DEFAULT_THRESHOLD = 40.0  # below this a "similar" question is about something else
FIELD_BOOST = 3.0  # points for a same-field entry when the caller names the field

# Candidate generation: only this many entries (best BM25 first) are scored in full.
CANDIDATES = 40
# Terms found in more than this share of entries (and more than MIN_CAP entries) do not propose
# candidates (they still count in the score); the walk over posting lists, rarest term first,
# stops after POSTINGS_BUDGET postings. Together they bound a query's work at 100,000 entries.
FREQUENT_SHARE = 0.05
MIN_CAP = 1000
POSTINGS_BUDGET = 30_000
MIN_DOCUMENTS = 300  # see _candidates

# Weight of a term's kind before IDF.
LEXICON_BASE = 1.0
LEXICON_PER_WEIGHT = 0.5  # lexicon terms: LEXICON_BASE + this x their lexicon weight (1..3)
BIGRAM = 1.0
UNIGRAM = 0.3
# BM25 (every term counted once per question).
BM25_K1 = 1.2
BM25_B = 0.5

# Features of a candidate, each 0..1 except the matched mass: the share of the query's term weight
# (kind x IDF) the entry has ("covered"), of the entry's the query has, of the query's lexicon-term
# and multi-character-term weight; BM25 relative to the best candidate; rapidfuzz ratio and
# partial_ratio of the content characters; the shorter content's length over the longer's; and
# log(1 + matched weight). Weights fitted (logistic regression) on the rewordings of odd-numbered
# starter entries against 300 and 100,000 entries; the even-numbered ones are held out.
# Ranking: which candidates are the question the farmer rephrased.
RANK_COVERED, RANK_ENTRY_COVERED, RANK_LEX_COVERED, RANK_BIGRAM_COVERED = 5.1, -5.98, -0.95, -2.85
RANK_BM25, RANK_RATIO, RANK_PARTIAL, RANK_LENGTH, RANK_MASS = 6.69, 17.42, -7.41, -1.43, -0.45
FIELD_RANK_BOOST = 0.5  # same-field entries rank higher when the caller names the field
# Score: how sure we are a top candidate asks the same thing (logistic, 0..100), fitted with the
# gold entries against the other top candidates (300 entries) and the top candidates of messages
# no entry answers (greetings, daily life).
SAME_COVERED, SAME_ENTRY_COVERED, SAME_LEX_COVERED, SAME_BIGRAM_COVERED = -0.05, 0.19, 0.63, -1.79
SAME_RATIO, SAME_PARTIAL, SAME_LENGTH, SAME_MASS = 3.7, 1.22, 1.2, 2.06
SAME_HAS_LEXICON, SAME_BIAS = 0.58, -8.43

# Single characters that are only grammar in a farmer's question; multi-character stopwords come
# from the segmenter. Single-character stopwords like 有, 地, 会 are not cut: they start words
# (有机肥, 地膜, 会同) and IDF already makes them cheap.
_PARTICLES = frozenset("了的吗呢吧啊呀哦哈嘛啦哇呐么我你您他她它咋啥哪俺咱")
# Words farmers use for the same thing that the Normalizer leaves alone (too ambiguous to rewrite
# in a message, safe for matching); the first of each group is what the index stores.
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


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


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
    """Index terms and content characters of a question. No jieba: 100,000 questions index in
    seconds, and a query and an entry are always read the same way."""

    def __init__(self, segmenter: Segmenter, normalizer: Normalizer | None) -> None:
        self.segmenter = segmenter
        self.normalizer = normalizer
        self.lexicon = frozenset(t for t in segmenter.lexicon.weights if len(t) >= 2)
        lex = segmenter.lexicon.weights
        self.term_weight = {
            t: LEXICON_BASE + LEXICON_PER_WEIGHT * max(fw.values()) for t, fw in lex.items()
        }
        self.single = frozenset(t for t in lex if len(t) == 1)
        noise = {fold(w) for w in segmenter.stopwords if len(w) >= 2}
        noise |= {fold(w) for w in _place_words() if fold(w) not in lex}
        by_first: dict[str, set[int]] = {}
        for w in noise:
            by_first.setdefault(w[0], set()).add(len(w))
        self.noise = frozenset(noise)
        self.noise_lengths = {ch: tuple(sorted(ls, reverse=True)) for ch, ls in by_first.items()}

    def clean(self, text: object) -> str:
        """Normalised, NFKC, lower-cased Latin, at most ``MAX_CHARS`` characters."""
        if not isinstance(text, str) or not text:
            return ""
        text = text[: MAX_CHARS * 2]
        if self.normalizer is not None:
            text = self.normalizer.normalize(text).text
        return fold(unicodedata.normalize("NFKC", text)[:MAX_CHARS])

    def __call__(self, text: object) -> tuple[str, dict[str, float]]:
        """``(content, {term: kind weight})``; content is the kept characters, for rapidfuzz."""
        text = self.clean(text)
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
                if not _is_cjk(ch) or ch in _PARTICLES:
                    keep[i] = False
                i += 1
        chars = []
        prev = False
        for i, ch in enumerate(text):
            if keep[i]:
                if UNIGRAM and ch not in terms:
                    terms[ch] = UNIGRAM
                if prev:
                    bg = text[i - 1 : i + 1]
                    if bg not in terms:
                        terms[bg] = BIGRAM
                chars.append(ch)
                prev = True
            else:
                prev = False
        canonical: dict[str, float] = {}
        for t, w in terms.items():
            c = _CANONICAL.get(t, t)
            if canonical.get(c, 0.0) < w:
                canonical[c] = w
        return "".join(chars), canonical


class KnowledgeIndex:
    """Answered questions, searchable by similarity. Not thread-safe: one event loop owns it.

    ``normalizer``: the one the bot's ``Understander`` built; entries and queries are normalised
    with it (folk words, pinyin typos) before they are read. Without it only width and case are
    folded."""

    def __init__(
        self,
        segmenter: Segmenter,
        entries: Iterable[KnowledgeEntry] = (),
        normalizer: Normalizer | None = None,
    ) -> None:
        self._analyse = _Analyser(segmenter, normalizer)
        self._postings: dict[str, list[int]] = {}
        self._arrays: dict[str, np.ndarray] = {}  # posting lists as arrays, made when a query needs one
        self._entries: list[KnowledgeEntry | None] = []
        self._content: list[str] = []
        self._terms: list[tuple[str, ...]] = []
        self._length: list[float] = []  # sum of kind weights of an entry's terms
        self._total_length = 0.0
        self._length_array: np.ndarray | None = None  # self._length as an array, made on demand
        self._kind: dict[str, float] = {}  # kind weight of every indexed term
        self._ids: dict[str, int] = {}
        self._free: list[int] = []
        for entry in entries:
            self.add(entry)
        # Posting lists as arrays now, not during the first farmers' queries.
        self._arrays = {t: np.array(p, dtype=np.int32) for t, p in self._postings.items()}
        self._length_array = np.array(self._length)

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
        if self._free:
            i = self._free.pop()
            self._entries[i], self._content[i] = entry, content
        else:
            i = len(self._entries)
            self._entries.append(entry)
            self._content.append(content)
            self._terms.append(())
            self._length.append(0.0)
        postings, kind = self._postings, self._kind
        for t, w in terms.items():
            plist = postings.get(t)
            if plist is None:
                plist = postings[t] = []
                kind[t] = w
            plist.append(i)
        arrays = self._arrays
        for t in terms:
            arrays.pop(t, None)
        self._terms[i] = tuple(terms)
        length = sum(terms.values())
        self._length[i] = length
        self._total_length += length
        self._length_array = None
        self._ids[entry.key] = i

    def remove(self, key: str) -> None:
        """Forget an entry; unknown keys are ignored."""
        i = self._ids.pop(key, None)
        if i is None:
            return
        for t in self._terms[i]:
            plist = self._postings[t]
            plist.remove(i)
            self._arrays.pop(t, None)
            if not plist:
                del self._postings[t]
                del self._kind[t]
        self._entries[i] = None
        self._content[i] = ""
        self._terms[i] = ()
        self._total_length -= self._length[i]
        self._length[i] = 0.0
        self._length_array = None
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
        found = self._candidates(text)
        if found is None:
            return []
        q_content, qw, candidates, bm25 = found
        q_total = sum(qw.values())
        n = max(len(self._ids), MIN_DOCUMENTS)
        postings = self._postings
        log = math.log
        lexicon = self._analyse.lexicon
        q_lex = sum(w for t, w in qw.items() if t in lexicon)
        q_bigram = sum(w for t, w in qw.items() if len(t) >= 2)
        best_bm25 = max(bm25[i] for i in candidates) or 1.0
        kind = self._kind
        idf: dict[str, float] = {}
        ranked: list[tuple[float, int, float]] = []
        for i in candidates:
            inter = e_total = lex_in = bigram_in = 0.0
            for t in self._terms[i]:
                w = qw.get(t)
                if w is not None:
                    inter += w
                    e_total += w
                    if len(t) >= 2:
                        bigram_in += w
                        if t in lexicon:
                            lex_in += w
                    continue
                v = idf.get(t)
                if v is None:
                    df = len(postings[t])
                    v = idf[t] = kind[t] * log(1.0 + (n - df + 0.5) / (df + 0.5))
                e_total += v
            content = self._content[i]
            covered = inter / q_total
            entry_covered = inter / e_total if e_total else 0.0
            lex_covered = lex_in / q_lex if q_lex else 1.0
            bigram_covered = bigram_in / q_bigram if q_bigram else 0.0
            ratio = fuzz.ratio(q_content, content) / 100.0
            partial = fuzz.partial_ratio(q_content, content) / 100.0
            length_ratio = min(len(q_content), len(content)) / max(len(q_content), len(content), 1)
            mass = log(1.0 + inter)
            has_lex = 1.0 if q_lex else 0.0
            rank = (
                RANK_COVERED * covered + RANK_ENTRY_COVERED * entry_covered
                + RANK_LEX_COVERED * lex_covered + RANK_BIGRAM_COVERED * bigram_covered
                + RANK_BM25 * bm25[i] / best_bm25 + RANK_RATIO * ratio + RANK_PARTIAL * partial
                + RANK_LENGTH * length_ratio + RANK_MASS * mass
            )
            z = (
                SAME_COVERED * covered + SAME_ENTRY_COVERED * entry_covered
                + SAME_LEX_COVERED * lex_covered + SAME_BIGRAM_COVERED * bigram_covered
                + SAME_RATIO * ratio + SAME_PARTIAL * partial + SAME_LENGTH * length_ratio
                + SAME_MASS * mass + SAME_HAS_LEXICON * has_lex + SAME_BIAS
            )
            score = 100.0 / (1.0 + math.exp(-z))
            candidate = self._entries[i]
            if field is not None and candidate is not None and candidate.field == field:
                rank += FIELD_RANK_BOOST
            ranked.append((rank, i, score))
        scored: list[tuple[float, float, int]] = []
        for _, i, score in heapq.nlargest(k, ranked):
            if score < threshold:
                continue
            entry = self._entries[i]
            if entry is None:  # removed while the index kept its slot
                continue
            boosted = score + FIELD_BOOST if field is not None and entry.field == field else score
            scored.append((min(boosted, 100.0), score, i))
        scored.sort(reverse=True)
        return [SimilarHit(entry, round(s, 1)) for s, _, i in scored if (entry := self._entries[i]) is not None]

    def _candidates(self, text: str) -> tuple[str, dict[str, float], list[int], np.ndarray] | None:
        """The query's content and term weights, and the entries BM25 likes best."""
        q_content, q_terms = self._analyse(text)
        if not q_terms:
            return None
        # A knowledge base this small cannot tell common words from rare ones: count as if it
        # held MIN_DOCUMENTS, so scores mean the same from the first entry on.
        n = max(len(self._ids), MIN_DOCUMENTS)
        postings = self._postings
        log = math.log

        # Query term weights: kind x IDF. Unknown terms count at full IDF: a query full of words
        # no entry has is not similar to any of them.
        qw: dict[str, float] = {}
        for t, w in q_terms.items():
            df = len(postings.get(t, ()))
            qw[t] = w * log(1.0 + (n - df + 0.5) / (df + 0.5))
        if sum(qw.values()) <= 0:
            return None

        cap = max(FREQUENT_SHARE * len(self._ids), MIN_CAP)
        acc = np.zeros(len(self._entries))
        arrays = self._arrays
        walked = 0
        for t in sorted(qw, key=qw.__getitem__, reverse=True):
            plist = postings.get(t)
            if not plist or len(plist) > cap:
                continue
            if walked >= POSTINGS_BUDGET:
                break
            arr = arrays.get(t)
            if arr is None:
                arr = arrays[t] = np.array(plist, dtype=np.int32)
            acc[arr] += qw[t]
            walked += len(plist)
        # BM25 with every term once: the length norm is one factor per entry.
        avg = self._total_length / len(self._ids) or 1.0
        lengths = self._length_array
        if lengths is None:
            lengths = self._length_array = np.array(self._length)
        acc /= (1 - BM25_B) + BM25_B * lengths / avg
        hit = np.flatnonzero(acc)
        if not len(hit):
            return None
        if len(hit) > CANDIDATES:
            hit = hit[np.argpartition(-acc[hit], CANDIDATES)[:CANDIDATES]]
        return q_content, qw, hit.tolist(), acc

