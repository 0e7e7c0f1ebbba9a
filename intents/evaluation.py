"""Evaluating the field classifier on any labelled TSV, beside a standard baseline trained on
the same examples: TF-IDF over character 1–3-grams with a linear SVM.

    jiceng intents evaluate questions.tsv [more.tsv ...]

A TSV has a header; the question is the column named question/text (else the first), the
label the column named field/label/category (else the second). A label may be a field code,
its Chinese name or alias, or a category word common in Chinese farming Q&A (病害防治, 栽培管理,
土壤肥料 ...); rows whose label is none of these are skipped and counted. Uses scikit-learn, so
only this command and the benchmark import it.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from intents.taxonomy import field_codes, resolve_field
from intents.training import Example
from intents.understand import Understander

# Category words of Chinese farming Q&A boards, read as the expert team that answers them.
CATEGORY_WORDS = {
    "病害防治": "plant_protection", "虫害防治": "plant_protection", "农药使用": "plant_protection",
    "病虫害防治": "plant_protection", "栽培管理": "crop", "品种选择": "crop", "土壤肥料": "soil_fertilizer",
}
QUESTION_COLUMNS = ("question", "text", "问题", "问句")
LABEL_COLUMNS = ("field", "label", "category", "领域", "类别")

Predict = Callable[[Sequence[str]], list[list[str]]]  # texts → each text's fields, best first


@dataclass
class LabelledSet:
    name: str
    items: list[tuple[str, str]]
    skipped: int = 0


def label_of(raw: str) -> str | None:
    raw = raw.strip()
    return CATEGORY_WORDS.get(raw) or resolve_field(raw)


def read_tsv(path: Path) -> LabelledSet:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        return LabelledSet(path.name, [])
    header = [h.strip().lower() for h in rows[0]]
    text_at = next((header.index(c) for c in QUESTION_COLUMNS if c in header), 0)
    label_at = next((header.index(c) for c in LABEL_COLUMNS if c in header), 1 if text_at == 0 else 0)
    items, skipped = [], 0
    for row in rows[1:]:
        if len(row) <= max(text_at, label_at) or not row[text_at].strip():
            skipped += 1
            continue
        label = label_of(row[label_at])
        if label is None:
            skipped += 1
            continue
        items.append((row[text_at].strip(), label))
    return LabelledSet(path.name, items, skipped)


@dataclass
class Scores:
    """One classifier on one set."""

    gold: list[str]
    ranked: list[list[str]]
    fields: list[str] = field(init=False)

    def __post_init__(self) -> None:
        order = {code: i for i, code in enumerate(field_codes())}
        present = set(self.gold) | {r[0] for r in self.ranked if r}
        self.fields = sorted(present, key=lambda c: order.get(c, len(order)))

    @property
    def top1(self) -> float:
        return sum(bool(r) and r[0] == g for g, r in zip(self.gold, self.ranked)) / max(1, len(self.gold))

    @property
    def top3(self) -> float:
        return sum(g in r[:3] for g, r in zip(self.gold, self.ranked)) / max(1, len(self.gold))

    def per_field(self) -> dict[str, tuple[float, float, float, int]]:
        """precision, recall, F1 and support of each field present."""
        predicted = [r[0] if r else "" for r in self.ranked]
        out = {}
        for code in self.fields:
            tp = sum(g == code and p == code for g, p in zip(self.gold, predicted))
            said = sum(p == code for p in predicted)
            support = sum(g == code for g in self.gold)
            precision = tp / said if said else 0.0
            recall = tp / support if support else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out[code] = (precision, recall, f1, support)
        return out

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the fields in the gold labels."""
        rows = self.per_field()
        gold = sorted(set(self.gold))
        return sum(rows[c][2] for c in gold) / max(1, len(gold))

    def confusion(self) -> Counter[tuple[str, str]]:
        return Counter((g, r[0] if r else "") for g, r in zip(self.gold, self.ranked))


def ours(understander: Understander) -> Predict:
    def predict(texts: Sequence[str]) -> list[list[str]]:
        return [[f for f, _ in understander.understand(t).top3] for t in texts]
    return predict


def svm_baseline(train: Sequence[Example]) -> Predict:
    """TF-IDF over character 1–3-grams and a linear SVM, on the same training examples."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
    svm = LinearSVC().fit(vectorizer.fit_transform([e.text for e in train]), [e.field for e in train])
    classes = list(svm.classes_)

    def predict(texts: Sequence[str]) -> list[list[str]]:
        margins = svm.decision_function(vectorizer.transform(list(texts)))
        return [[classes[i] for i in np.argsort(-row)[:3]] for row in margins]
    return predict


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def report(labelled: LabelledSet, results: dict[str, Scores]) -> str:
    """Summary, per-field precision/recall side by side, and each classifier's confusion matrix."""
    names = list(results)
    parts = [f"== {labelled.name}: {len(labelled.items)} questions"
             + (f" ({labelled.skipped} rows skipped: no known label)" if labelled.skipped else "")]
    parts.append(table(["classifier", "top-1", "top-3", "macro-F1"],
                       [[n, f"{s.top1:.1%}", f"{s.top3:.1%}", f"{s.macro_f1:.3f}"] for n, s in results.items()]))
    fields = sorted({f for s in results.values() for f in s.fields},
                    key=lambda c: field_codes().index(c) if c in field_codes() else 99)
    per = {n: s.per_field() for n, s in results.items()}
    header = ["field", "n"] + [f"{k} {n.split()[0]}" for n in names for k in ("P", "R")]
    rows = []
    for code in fields:
        support = next((per[n][code][3] for n in names if code in per[n]), 0)
        if not support:
            continue  # answered but never the label: its wrong answers show in the matrices
        cells = [code, str(support)]
        for n in names:
            p, r, _, _ = per[n].get(code, (0.0, 0.0, 0.0, 0))
            cells += [f"{p:.2f}", f"{r:.2f}"]
        rows.append(cells)
    parts.append(table(header, rows))
    for n, s in results.items():
        parts.append(f"confusion, {n} (rows: label, columns: answer)")
        cols = s.fields
        short = [c[:6] for c in cols]
        matrix = s.confusion()
        parts.append(table(["label \\ answer", *short],
                           [[g, *[str(matrix.get((g, c), 0) or ".") for c in cols]]
                            for g in cols if any(matrix.get((g, c)) for c in cols)]))
    return "\n\n".join(parts)


def evaluate(paths: Sequence[Path], predictors: dict[str, Predict]) -> str:
    out = []
    for path in paths:
        labelled = read_tsv(path)
        if not labelled.items:
            out.append(f"== {labelled.name}: no labelled questions found")
            continue
        texts = [t for t, _ in labelled.items]
        gold = [g for _, g in labelled.items]
        out.append(report(labelled, {name: Scores(gold, predict(texts)) for name, predict in predictors.items()}))
    return "\n\n".join(out)
