"""Understanding one farmer's message: normalised text, which field (领域) it belongs to and
how sure we are, key words and entities. Built once at start-up; ``understand`` is pure,
fast (well under 2 ms) and never raises."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from intents.classifier import FieldClassifier
from intents.entities import EMPTY, Entities, EntityExtractor
from intents.model import LinearFieldModel, features
from intents.normalize import Normalizer
from intents.segment import Segmenter, load_lexicon, load_stopwords
from intents.taxonomy import OTHER, field_name

LOW_CONFIDENCE = 0.5  # below this the bot asks the farmer to pick a field
CLOSE_CALL = 0.45  # …and when the second field has at least this share of the first's probability


def is_close_call(top: list[tuple[str, float]] | tuple[tuple[str, float], ...]) -> bool:
    """The two likeliest fields are nearly level (a symptom that may be a disease or a
    cultivation slip; selling oranges that have a disease): better to let the farmer choose
    than to guess. On the project's held-out sets this asks 3–5 % more questions and lifts the
    accuracy of the ones not asked by 1–2 points."""
    return len(top) >= 2 and top[1][1] >= CLOSE_CALL * top[0][1]
MAX_CHARS = 500  # longer messages are cut (speed); the field is clear well before that
KEYWORDS = 6

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")  # incl. rare characters (extensions B–G)


@dataclass(frozen=True)
class Understanding:
    field: str  # best field code
    confidence: float  # 0..1
    top3: tuple[tuple[str, float], ...]
    keywords: tuple[str, ...]
    entities: Entities = EMPTY
    corrections: tuple[tuple[str, str], ...] = ()  # typos read as domain terms: (typed, read)
    text: str = ""  # the normalised text the decision was made on

    @property
    def confident(self) -> bool:
        return self.confidence >= LOW_CONFIDENCE and not is_close_call(self.top3)

    def as_dict(self, original: str | None = None) -> dict[str, Any]:
        """Plain values for JSON (`jiceng intents classify`)."""
        return {
            **({"text": original} if original is not None else {}),
            "field": self.field,
            "field_name": field_name(self.field),
            "confidence": self.confidence,
            "top3": [{"field": f, "confidence": p} for f, p in self.top3],
            "keywords": list(self.keywords),
            "entities": self.entities.as_dict(),
            "corrections": [list(c) for c in self.corrections],
        }


# Nothing we can read (empty, emoji, symbols, no Chinese at all): `other`, no confidence.
UNREADABLE = Understanding(OTHER, 0.0, ((OTHER, 0.0),), ())


@dataclass
class Understander:
    """Builds everything once (≈1–2 s: jieba's dictionary, the lexicon, the pinyin index, the
    model's weights); a retrained model is swapped in with `swap_model`."""

    model: LinearFieldModel | None = None
    segmenter: Segmenter = field(init=False)
    classifier: FieldClassifier = field(init=False)
    normalizer: Normalizer = field(init=False)
    extractor: EntityExtractor = field(init=False)

    def __post_init__(self) -> None:
        lexicon = load_lexicon()
        self.segmenter = Segmenter(lexicon, load_stopwords())
        self.classifier = FieldClassifier(lexicon, self.segmenter)
        self.normalizer = Normalizer(terms=lexicon)
        self.extractor = EntityExtractor()
        if self.model is None:
            self.model = LinearFieldModel.shipped()

    def swap_model(self, model: LinearFieldModel) -> None:
        """Use a retrained model from the next message on (one reference swap: no lock needed)."""
        self.model = model

    def understand(self, text: str) -> Understanding:
        try:
            return self._understand(text)
        except Exception:  # noqa: BLE001 - a farmer's message must never break the bot
            return UNREADABLE

    def prepare(self, text: str) -> tuple[list[str], dict[str, float]]:
        """What the trained model and the lexicon see of a text (for training and evaluation)."""
        clean = self.normalizer.normalize(text[: MAX_CHARS * 2]).text[:MAX_CHARS]
        spans, matches = self.segmenter.analyse(clean)
        return features(clean, [tok for tok, _, _ in spans]), dict(self.classifier.classify(clean, matches))

    def _understand(self, text: str) -> Understanding:
        if not isinstance(text, str):
            return UNREADABLE
        normalized = self.normalizer.normalize(text[: MAX_CHARS * 2])
        clean = normalized.text[:MAX_CHARS]
        if not _CJK.search(clean):
            return UNREADABLE
        analysed = self.segmenter.analyse(clean)
        spans, matches = analysed
        model = self.model
        if model is None:  # __post_init__ always sets one
            return UNREADABLE
        lexicon = dict(self.classifier.classify(clean, matches))
        ranked = model.mix(model.probabilities(features(clean, [tok for tok, _, _ in spans])), lexicon)
        best, confidence = ranked[0]
        return Understanding(
            field=best,
            confidence=round(min(max(confidence, 0.0), 1.0), 4),
            top3=tuple((f, round(p, 4)) for f, p in ranked[:3]),
            keywords=tuple(self.segmenter.keywords(clean, KEYWORDS, analysed)),
            entities=self.extractor.extract(clean),
            corrections=tuple(normalized.corrections),
            text=clean,
        )
