"""How far can any classifier get on the shared trading-site set, given its labels?

The set's categories were assigned by a dataset's authors, partly with a language model
(../shared/data/README.md). This benchmark measures how noisy they are, two ways, beside
jiceng's own figure on the same questions:

* **in-domain ceiling**: a TF-IDF (char 1–3) + linear SVM trained *on this very set* and scored
  by 10-fold cross-validation — a model that has learned the labellers' habits. jiceng never
  trains on the set (it is evaluation data), so this is an upper reference, not a rival;
* **twins that disagree**: pairs of nearly identical questions (rapidfuzz ratio ≥ 90) whose
  labels differ — no reading of the text can get both right.

Run: ``python -m bench.label_ceiling`` (needs ../shared/data/huinong_questions.tsv; ~1 min).
Nothing here is kept: the set is read, measured and dropped.
"""

from __future__ import annotations

import itertools

from bench.intents import load_huinong, table


def in_domain_cross_validated(rows: list[tuple[str, str]]) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), LinearSVC())
    folds = StratifiedKFold(10, shuffle=True, random_state=0)
    return float(cross_val_score(model, [q for q, _ in rows], [y for _, y in rows], cv=folds).mean())


def disagreeing_twins(rows: list[tuple[str, str]], threshold: float = 90) -> tuple[int, int]:
    """(pairs of near-identical questions, of which labelled differently)."""
    from rapidfuzz import fuzz

    pairs = differ = 0
    for (a, la), (b, lb) in itertools.combinations(rows, 2):
        if abs(len(a) - len(b)) <= max(len(a), len(b)) // 5 and fuzz.ratio(a, b) >= threshold:
            pairs += 1
            differ += la != lb
    return pairs, differ


def main() -> None:
    from intents.understand import Understander

    rows = load_huinong()
    understander = Understander()
    ours = sum(understander.understand(q).field == y for q, y in rows) / len(rows)
    majority = max(sum(y == label for _, y in rows) for label in {y for _, y in rows}) / len(rows)
    ceiling = in_domain_cross_validated(rows)
    pairs, differ = disagreeing_twins(rows)
    print(f"shared trading-site set: {len(rows)} questions (crop / plant protection / soil and fertiliser)")
    print(table(["reading", "top-1"], [
        ["jiceng (never trained on the set)", f"{ours:.1%}"],
        ["in-domain SVM, 10-fold CV on the set itself", f"{ceiling:.1%}"],
        ["always the commonest label", f"{majority:.1%}"],
    ]))
    print(f"near-identical question pairs: {pairs}, labelled differently: {differ}")


if __name__ == "__main__":
    main()
