"""Understanding one farmer's message: which field (领域) it belongs to, how sure we are, and its
keywords. Built once at start-up; ``understand`` is pure, fast (~1 ms) and never raises."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from intents.classifier import FieldClassifier
from intents.segment import Segmenter, load_lexicon, load_stopwords
from intents.taxonomy import OTHER

LOW_CONFIDENCE = 0.5  # below this the bot asks the farmer to pick a field
MAX_CHARS = 500  # longer messages are cut (speed); the field is clear well before that
KEYWORDS = 6

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_REPEATED_PUNCT = re.compile(r"([^\w\s])[^\w\s]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Understanding:
    field: str  # best field code
    confidence: float  # 0..1
    top3: tuple[tuple[str, float], ...]
    keywords: tuple[str, ...]

    @property
    def confident(self) -> bool:
        return self.confidence >= LOW_CONFIDENCE


# Nothing we can read (empty, emoji, symbols, no Chinese at all): `other`, no confidence.
UNREADABLE = Understanding(OTHER, 0.0, ((OTHER, 0.0),), ())


def normalise(text: object) -> str:
    """NFKC (full-width → half-width), control and format characters out, runs of punctuation
    collapsed to their first mark, whitespace collapsed; at most ``MAX_CHARS`` characters."""
    if not isinstance(text, str) or not text:
        return ""
    text = text[: MAX_CHARS * 4]
    text = unicodedata.normalize("NFKC", text)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cc":
            out.append(" ")  # tabs, newlines and other controls separate words
        elif cat in ("Cf", "Cs", "Co", "Cn"):
            continue  # zero-width marks, lone surrogates, private use, unassigned
        else:
            out.append(ch)
    text = "".join(out)
    text = _REPEATED_PUNCT.sub(r"\1", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:MAX_CHARS]


class Understander:
    """Builds the segmenter and the classifier once (≈1 s: jieba's dictionary and the lexicon)."""

    def __init__(self) -> None:
        lexicon = load_lexicon()
        self.segmenter = Segmenter(lexicon, load_stopwords())
        self.classifier = FieldClassifier(lexicon, self.segmenter)

    def understand(self, text: str) -> Understanding:
        try:
            return self._understand(text)
        except Exception:  # noqa: BLE001 - a farmer's message must never break the bot
            return UNREADABLE

    def _understand(self, text: str) -> Understanding:
        clean = normalise(text)
        if not _CJK.search(clean):
            return UNREADABLE
        analysed = self.segmenter.analyse(clean)
        ranked = self.classifier.classify(clean, analysed[1])
        field, confidence = ranked[0]
        keywords = self.segmenter.keywords(clean, KEYWORDS, analysed)
        return Understanding(
            field=field,
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            top3=tuple((f, round(p, 4)) for f, p in ranked[:3]),
            keywords=tuple(keywords),
        )
