"""Benchmark the field classifier on real farmers' questions (惠农网, held-out evaluation data).

    python -m bench.intents [--errors N] [--confusion]

Reads ../shared/data/huinong_questions.tsv relative to the repo root. Only rows whose category maps
to plant_protection, crop or soil_fertilizer are scored (the labels are noisy: do not chase 100%).
Prints one table: our Understander beside two baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared/data/huinong_questions.tsv"

LABELS = {
    "病害防治": "plant_protection",
    "虫害防治": "plant_protection",
    "农药使用": "plant_protection",
    "栽培管理": "crop",
    "品种选择": "crop",
    "土壤肥料": "soil_fertilizer",
}
SCORED = ("plant_protection", "crop", "soil_fertilizer")


def load(path: Path = DATA) -> list[tuple[str, str]]:
    if not path.is_file():
        sys.exit(f"bench.intents: evaluation data not found at {path} (expected ../shared/data/ beside the repo)")
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            label = LABELS.get((row.get("category") or "").strip())
            question = (row.get("question") or "").strip()
            if label and question:
                rows.append((question, label))
    if not rows:
        sys.exit(f"bench.intents: no scorable rows in {path}")
    return rows


def macro_f1(gold: list[str], pred: list[str], labels: tuple[str, ...] = SCORED) -> float:
    f1s = []
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(f1s) / len(f1s)


class Result:
    def __init__(self, name: str, startup: float, preds: list[str], times: list[float], confs: list[float] | None):
        self.name, self.startup, self.preds, self.times, self.confs = name, startup, preds, times, confs


def run(name: str, build: Callable[[], Callable[[str], tuple[str, float | None]]], rows) -> Result:
    t0 = time.perf_counter()
    predict = build()
    startup = time.perf_counter() - t0
    preds, times, confs = [], [], []
    for question, _ in rows:
        t = time.perf_counter()
        field, conf = predict(question)
        times.append(time.perf_counter() - t)
        preds.append(field)
        confs.append(conf)
    return Result(name, startup, preds, times, None if confs[0] is None else confs)


def build_ours():
    from intents.understand import Understander

    u = Understander()

    def predict(q: str):
        r = u.understand(q)
        return r.field, r.confidence

    return predict


def build_majority(rows):
    majority = Counter(label for _, label in rows).most_common(1)[0][0]
    return lambda: (lambda q: (majority, None))


def build_naive():
    """Global jieba tokenizer, count tokens that are lexicon terms per field (no weights, no cues)."""
    import logging

    import jieba

    from intents.segment import load_lexicon
    from intents.taxonomy import OTHER

    jieba.default_logger.setLevel(logging.WARNING)
    jieba.initialize()
    lexicon = load_lexicon()

    def predict(q: str):
        counts: Counter[str] = Counter()
        for tok in jieba.lcut(q):
            for field in lexicon.get(tok.lower(), ()):
                counts[field] += 1
        if not counts:
            return OTHER, None
        return counts.most_common(1)[0][0], None

    return predict


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.intents", description=__doc__.split("\n")[0])
    ap.add_argument("--errors", type=int, default=0, help="also print N misclassified questions of ours")
    ap.add_argument("--confusion", action="store_true", help="also print our confusion counts")
    args = ap.parse_args(argv)

    rows = load()
    gold = [label for _, label in rows]
    from intents.understand import LOW_CONFIDENCE

    results = [
        run("majority class", build_majority(rows), rows),
        run("jieba + naive lexicon count", build_naive, rows),
        run("Understander (this issue)", build_ours, rows),
    ]

    dist = Counter(gold)
    print(f"huinong_questions.tsv: {len(rows)} scored questions "
          + ", ".join(f"{k} {v}" for k, v in dist.most_common()))
    head = (f"{'system':<30} {'accuracy':>9} {'macro-F1':>9} {'ms/q mean':>10} {'ms/q p99':>9} "
            f"{'start-up s':>11} {'conf≥' + str(LOW_CONFIDENCE):>9} {'acc|conf':>9}")
    print(head)
    print("-" * len(head))
    for r in results:
        acc = sum(g == p for g, p in zip(gold, r.preds)) / len(gold)
        f1 = macro_f1(gold, r.preds)
        ms = statistics.fmean(r.times) * 1000
        p99 = sorted(r.times)[int(0.99 * (len(r.times) - 1))] * 1000
        if r.confs is not None:
            sure = [i for i, c in enumerate(r.confs) if c >= LOW_CONFIDENCE]
            cov = f"{len(sure) / len(gold):.1%}"
            acc_sure = f"{sum(gold[i] == r.preds[i] for i in sure) / len(sure):.1%}" if sure else "-"
        else:
            cov = acc_sure = "-"
        print(f"{r.name:<30} {acc:>9.1%} {f1:>9.3f} {ms:>10.3f} {p99:>9.3f} {r.startup:>11.2f} {cov:>9} {acc_sure:>9}")

    ours = results[-1]
    if args.confusion:
        conf = Counter(zip(gold, ours.preds))
        preds = sorted({p for p in ours.preds})
        print("\ngold \\ predicted: " + " ".join(preds))
        for g in SCORED:
            print(f"  {g:<18}" + " ".join(f"{conf[(g, p)]:>5}" for p in preds))
    if args.errors:
        print()
        shown = 0
        for (q, g), p, c in zip(rows, ours.preds, ours.confs or [None] * len(rows)):
            if g != p:
                print(f"{g:>17} -> {p:<17} {c:.2f}  {q}")
                shown += 1
                if shown >= args.errors:
                    break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
