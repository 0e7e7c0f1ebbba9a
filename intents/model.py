"""The trained half of the field classifier: a linear model over character n-grams and
words (TF-IDF weights, softmax), mixed with the lexicon's evidence.

Inference is plain numpy over a stored vocabulary, so the bot starts without importing
scikit-learn; `intents.training` fits the weights with scikit-learn and writes them here.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

SHIPPED_MODEL = "data/field_model.npz"


def features(text: str, words: Iterable[str]) -> list[str]:
    """Character 1–3-grams of the normalised text plus its words: robust to typos and to
    segmentation slips, and still able to use whole terms."""
    chars = [c for c in text if not c.isspace()]
    grams = [f"c:{c}" for c in chars]
    grams += [f"c:{a}{b}" for a, b in zip(chars, chars[1:])]
    grams += [f"c:{a}{b}{c}" for a, b, c in zip(chars, chars[1:], chars[2:])]
    grams += [f"w:{w}" for w in words if w.strip()]
    return grams


@dataclass
class LinearFieldModel:
    fields: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray          # (n_features,)
    weights: np.ndarray      # (n_features, n_fields)
    bias: np.ndarray         # (n_fields,)
    lexicon_share: float     # how much of the final probability comes from the lexicon
    meta: dict[str, Any]

    def probabilities(self, grams: list[str]) -> dict[str, float]:
        counts = Counter(i for g in grams if (i := self.vocabulary.get(g)) is not None)
        scores = self.bias.astype(np.float64).copy()
        if counts:
            ids = np.fromiter(counts.keys(), dtype=np.int64)
            tf = np.fromiter(counts.values(), dtype=np.float64) * self.idf[ids]
            tf /= math.sqrt(float(tf @ tf)) or 1.0
            scores += tf @ self.weights[ids]
        scores -= scores.max()
        exp = np.exp(scores)
        exp /= exp.sum()
        return dict(zip(self.fields, exp.tolist()))

    def mix(self, model: dict[str, float], lexicon: dict[str, float]) -> list[tuple[str, float]]:
        share = self.lexicon_share
        fields = set(model) | set(lexicon)
        mixed = {f: (1 - share) * model.get(f, 0.0) + share * lexicon.get(f, 0.0) for f in fields}
        return sorted(mixed.items(), key=lambda fp: (-fp[1], fp[0]))

    def to_bytes(self) -> bytes:
        header = {"fields": list(self.fields), "lexicon_share": self.lexicon_share, "meta": self.meta}
        vocab = sorted(self.vocabulary, key=lambda term: self.vocabulary[term])
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            header=np.frombuffer(json.dumps(header, ensure_ascii=False).encode(), dtype=np.uint8),
            vocabulary=np.frombuffer("\n".join(vocab).encode(), dtype=np.uint8),
            idf=self.idf.astype(np.float32),
            weights=self.weights.astype(np.float16),
            bias=self.bias.astype(np.float32),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LinearFieldModel:
        with np.load(io.BytesIO(blob)) as data:
            header = json.loads(data["header"].tobytes().decode())
            vocab = data["vocabulary"].tobytes().decode().split("\n")
            return cls(
                fields=tuple(header["fields"]),
                vocabulary={g: i for i, g in enumerate(vocab)},
                idf=data["idf"].astype(np.float64),
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float64),
                lexicon_share=float(header["lexicon_share"]),
                meta=header.get("meta", {}),
            )

    @classmethod
    def shipped(cls) -> LinearFieldModel:
        """The model trained from the project's own examples, shipped with the package."""
        return cls.from_bytes(resources.files("intents").joinpath(SHIPPED_MODEL).read_bytes())
