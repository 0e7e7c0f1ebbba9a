"""Benchmark of the understanding step, beside a standard baseline measured in the same run.

    python -m bench.intents [--entries 100000] [--skip-search]

One table:
- accuracy and macro-F1 on the project's own held-out split (intents.training.split) and
  accuracy on real farmers' questions (../shared/data/huinong_questions.tsv, evaluation only:
  病害防治/虫害防治/农药使用 → plant_protection, 栽培管理/品种选择 → crop, 土壤肥料 → soil_fertilizer),
  for our Understander and for TF-IDF over character 1–3-grams with a linear SVM trained on
  the same training split;
- p50/p99 latency of the understanding step (normalise, segment, classify, entities), one
  question at a time on one core;
- similar-question search at 100,000 entries against rapidfuzz process.extract (bench.similar);
- start-up time and peak memory of the understander with a 100,000-entry knowledge base.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUINONG = ROOT.parent / "shared/data/huinong_questions.tsv"
LABELS = {
    "病害防治": "plant_protection", "虫害防治": "plant_protection", "农药使用": "plant_protection",
    "栽培管理": "crop", "品种选择": "crop", "土壤肥料": "soil_fertilizer",
}


def load_huinong(path: Path = HUINONG) -> list[tuple[str, str]]:
    if not path.is_file():
        sys.exit(f"bench.intents: evaluation data not found at {path}")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(r["question"].strip(), LABELS[r["category"].strip()]) for r in rows
                if r.get("category", "").strip() in LABELS and r.get("question", "").strip()]


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def scores(gold: list[str], predicted: list[str]) -> tuple[float, float]:
    """Accuracy, and macro-F1 over the fields that occur in the gold labels."""
    from sklearn.metrics import f1_score

    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
    labels = sorted(set(gold))
    return accuracy, float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0))


def classifier_rows(heldout, train, huinong) -> list[list[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from intents.understand import Understander

    understander = Understander()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
    svm = LinearSVC().fit(vectorizer.fit_transform([e.text for e in train]), [e.field for e in train])

    def ours(texts):
        return [understander.understand(t).field for t in texts]

    def baseline(texts):
        return list(svm.predict(vectorizer.transform(texts)))

    rows = []
    for name, predict in (("Understander (lexicon + trained model)", ours),
                          ("baseline: TF-IDF char 1-3 + LinearSVC", baseline)):
        held_acc, held_f1 = scores([e.field for e in heldout], predict([e.text for e in heldout]))
        hn_acc, hn_f1 = scores([y for _, y in huinong], predict([q for q, _ in huinong]))
        rows.append([name, f"{held_acc:.1%}", f"{held_f1:.3f}", f"{hn_acc:.1%}", f"{hn_f1:.3f}"])
    return rows, understander


def latency_row(understander, texts: list[str]) -> list[str]:
    import gc

    for text in texts[:50]:
        understander.understand(text)  # warm caches
    gc.freeze()  # as the bot does after start-up: long-lived objects leave the collector's way
    times = []
    for text in texts:
        started = time.perf_counter()
        understander.understand(text)
        times.append((time.perf_counter() - started) * 1000)
    return [f"{percentile(times, 0.5):.2f}", f"{percentile(times, 0.99):.2f}", f"{max(times):.2f}"]


STARTUP_SCRIPT = """
import resource, sys, time
t0 = time.perf_counter()
from intents.understand import Understander
from intents.similar import KnowledgeIndex
u = Understander()
t1 = time.perf_counter()
from bench.similar import generate_entries, load_starter
starter, _, _ = load_starter(20261128)
entries = starter + generate_entries(int(sys.argv[1]) - len(starter), 20261128, avoid=(e.question for e in starter))
t2 = time.perf_counter()
index = KnowledgeIndex(u.segmenter, entries, normalizer=u.normalizer)
t3 = time.perf_counter()
print(f"{t1 - t0:.2f} {t3 - t2:.2f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


def startup_row(entries: int) -> list[str]:
    result = subprocess.run([sys.executable, "-c", STARTUP_SCRIPT, str(entries)], capture_output=True,
                            text=True, cwd=ROOT, check=True)
    understander_s, index_s, peak_mb = result.stdout.split()
    return [understander_s, index_s, peak_mb]


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intents")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--skip-startup", action="store_true")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    from intents.training import load_examples, split

    train, heldout = split(load_examples())
    huinong = load_huinong()
    print(f"held-out split: {len(heldout)} of the project's examples (trained on {len(train)}); "
          f"huinong: {len(huinong)} real questions")
    rows, understander = classifier_rows(heldout, train, huinong)
    print(table(["classifier", "held-out acc", "held-out macro-F1", "huinong acc", "huinong macro-F1"], rows))
    print()
    texts = [q for q, _ in huinong] + [e.text for e in heldout]
    print(table(["understanding step (ms, one core)", "p50", "p99", "max"],
                [[f"normalise+segment+classify+entities, {len(texts)} questions", *latency_row(understander, texts)]]))
    print()
    if not args.skip_startup:
        print(table(["start-up", "understander s (bot ready)", f"index {args.entries:,} entries s (in background)",
                     "peak RSS MB"], [["subprocess, cold imports", *startup_row(args.entries)]]))
    if not args.skip_search:
        print()
        from bench import similar

        similar.main(["--entries", str(args.entries), "--baseline-queries", "100"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
