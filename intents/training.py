"""Training the field model: the project's own examples plus stored corrections, a fixed
held-out split, accuracy before and after. Uses scikit-learn, so only the retrain command,
the benchmark and the tests import this module; the bot only loads the result."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from intents.model import LinearFieldModel
from intents.taxonomy import field_codes

HELDOUT_EVERY = 5  # one example in five, chosen by a hash of its text, is held out
LEXICON_SHARES = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)

# What a trainer needs from the understander: character/word features and the lexicon's
# probabilities for one text.
Prepared = tuple[list[str], dict[str, float]]  # what the model and the lexicon see of a text
Prepare = Callable[[str], Prepared]


@dataclass(frozen=True)
class Example:
    text: str
    field: str


REGISTERS = ("", "farmer", "formal", "enterprise")  # sub-folders of training/: how people word it


def load_examples() -> list[Example]:
    """The project's written examples: intents/data/training/[<register>/]<field>.txt, one per line."""
    root = resources.files("intents").joinpath("data/training")
    examples = []
    for register in REGISTERS:
        folder = root.joinpath(register) if register else root
        for code in field_codes():
            source = folder.joinpath(f"{code}.txt")
            if not source.is_file():
                continue
            for line in source.read_text("utf-8").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    examples.append(Example(line, code))
    return examples


def is_heldout(text: str) -> bool:
    return zlib.crc32(text.encode("utf-8")) % HELDOUT_EVERY == 0


def split(examples: Iterable[Example]) -> tuple[list[Example], list[Example]]:
    train: list[Example] = []
    heldout: list[Example] = []
    for example in examples:
        (heldout if is_heldout(example.text) else train).append(example)
    return train, heldout


def fit(examples: Sequence[Example], prepare: Prepare, *, lexicon_share: float | None = None,
        meta: dict[str, Any] | None = None) -> LinearFieldModel:
    """Fit the linear model; choose how much to trust the lexicon by cross-validation
    on the training examples unless told."""
    prepared = [prepare(e.text) for e in examples]
    labels = [e.field for e in examples]
    model = _fit_linear(prepared, labels, meta or {})
    if lexicon_share is None:
        lexicon_share = _choose_lexicon_share(prepared, labels)
    model.lexicon_share = lexicon_share
    return model


def accuracy(model: LinearFieldModel, examples: Sequence[Example], prepare: Prepare) -> float:
    if not examples:
        return float("nan")
    right = 0
    for example in examples:
        grams, lexicon = prepare(example.text)
        right += model.mix(model.probabilities(grams), lexicon)[0][0] == example.field
    return right / len(examples)


def macro_f1(model: LinearFieldModel, examples: Sequence[Example], prepare: Prepare) -> float:
    from sklearn.metrics import f1_score

    predicted = [model.mix(model.probabilities(g), lex)[0][0] for g, lex in map(prepare, (e.text for e in examples))]
    return float(f1_score([e.field for e in examples], predicted, average="macro", zero_division=0))


def _fit_linear(prepared: Sequence[Prepared], labels: Sequence[str], meta: dict[str, Any]) -> LinearFieldModel:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=lambda grams: grams, sublinear_tf=False)
    matrix = vectorizer.fit_transform([grams for grams, _ in prepared])
    classifier = LogisticRegression(C=20.0, max_iter=3000)
    classifier.fit(matrix, labels)
    fields = tuple(classifier.classes_)
    return LinearFieldModel(
        fields=fields,
        vocabulary={g: int(i) for g, i in vectorizer.vocabulary_.items()},
        idf=vectorizer.idf_.astype(np.float64),
        weights=classifier.coef_.T.astype(np.float32).copy(),
        bias=classifier.intercept_.astype(np.float64),
        lexicon_share=0.0,
        meta={**meta, "examples": len(labels)},
    )


def _choose_lexicon_share(prepared: Sequence[Prepared], labels: Sequence[str], folds: int = 4) -> float:
    """Mean log-likelihood of the true field on held-back folds, for each candidate share."""
    order = range(len(labels))
    totals = dict.fromkeys(LEXICON_SHARES, 0.0)
    for fold in range(folds):
        train = [i for i in order if i % folds != fold]
        test = [i for i in order if i % folds == fold]
        model = _fit_linear([prepared[i] for i in train], [labels[i] for i in train], {})
        for i in test:
            grams, lexicon = prepared[i]
            learned = model.probabilities(grams)
            for share in LEXICON_SHARES:
                p = (1 - share) * learned.get(labels[i], 0.0) + share * lexicon.get(labels[i], 0.0)
                totals[share] += float(np.log(max(p, 1e-6)))
    return max(totals, key=lambda share: totals[share])


def main() -> None:
    """Rebuild the shipped model from the project's examples (training split only, so the
    held-out figures stay honest): python -m intents.training"""
    import time
    from pathlib import Path

    from intents.understand import Understander

    started = time.perf_counter()
    understander = Understander(model=_EMPTY)
    train, heldout = split(load_examples())
    model = fit(train, understander.prepare, meta={"source": "shipped examples"})
    target = Path(__file__).with_name("data") / "field_model.npz"
    target.write_bytes(model.to_bytes())
    print(f"examples: {len(train)} train, {len(heldout)} held out; lexicon share {model.lexicon_share}")
    print(f"held-out accuracy {accuracy(model, heldout, understander.prepare):.3f}; "
          f"wrote {target} ({target.stat().st_size // 1024} KiB) in {time.perf_counter() - started:.1f}s")


_EMPTY = LinearFieldModel(
    fields=("other",), vocabulary={}, idf=np.zeros(0), weights=np.zeros((0, 1)), bias=np.zeros(1),
    lexicon_share=1.0, meta={"source": "lexicon only"},
)

if __name__ == "__main__":
    main()
