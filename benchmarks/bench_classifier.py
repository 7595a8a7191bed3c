"""How well, and how fast, database discovery recognises personal data.

Generates a labelled SQLite database (benchmarks/labelled_db.py: realistic names and values,
tricky negatives such as email_verified, phone_type, card_brand), runs discovery and the
classifier exactly as ``ropa ingest database`` does (without writing a catalogue), and prints
precision and recall per category and overall on direct identifiers (goal: precision >= 0.95,
recall >= 0.90), then the discovery time. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_classifier.py                 # 40 tables, 200 rows
    .venv/bin/python benchmarks/bench_classifier.py --tables 500    # discovery time at 500 tables
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.labelled_db import build_labelled_database  # noqa: E402
from ingest.classification import DIRECT_IDENTIFIERS  # noqa: E402
from ingest.database import discover_and_classify  # noqa: E402


def _ratio(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.3f}" if denominator else "  -  "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=40, help="tables in the labelled database (default 40)")
    parser.add_argument("--rows", type=int, default=200, help="rows per table (default 200)")
    parser.add_argument("--sample-rows", type=int, default=200, help="rows sampled per table (default 200)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show-errors", action="store_true", help="list misclassified columns (names only)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'labelled.db'}"
        started = time.perf_counter()
        labels = build_labelled_database(url, tables=args.tables, rows=args.rows, seed=args.seed)
        built = time.perf_counter() - started
        started = time.perf_counter()
        found, _ = discover_and_classify(url, sample_rows=args.sample_rows, schemas=[], max_tables=100_000, warnings=[])
        elapsed = time.perf_counter() - started

    predicted = {key: (items[0].category if items else None) for key, items in found.suggestions.items()}
    true_positive, false_positive, false_negative = Counter(), Counter(), Counter()
    errors = []
    for key, label in labels.items():
        guess = predicted.get(key)
        if guess == label:
            if label:
                true_positive[label] += 1
            continue
        errors.append((key, label, guess))
        if guess:
            false_positive[guess] += 1
        if label:
            false_negative[label] += 1

    print(f"{len(labels)} labelled columns in {args.tables} tables ({args.rows} rows each, built in {built:.1f}s)")
    print(f"{'category':55} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    for category in sorted(set(true_positive) | set(false_positive) | set(false_negative)):
        tp, fp, fn = true_positive[category], false_positive[category], false_negative[category]
        marker = "*" if category in DIRECT_IDENTIFIERS else " "
        print(f"{marker}{category:54} {_ratio(tp, tp + fp):>9} {_ratio(tp, tp + fn):>7} {tp:>4} {fp:>4} {fn:>4}")
    tp = sum(true_positive[c] for c in DIRECT_IDENTIFIERS)
    fp = sum(false_positive[c] for c in DIRECT_IDENTIFIERS)
    fn = sum(false_negative[c] for c in DIRECT_IDENTIFIERS)
    print(f"direct identifiers (*): precision {_ratio(tp, tp + fp)} (goal >= 0.95), recall {_ratio(tp, tp + fn)} (goal >= 0.90)")
    overall_tp, overall_fp, overall_fn = sum(true_positive.values()), sum(false_positive.values()), sum(false_negative.values())
    print(f"all categories: precision {_ratio(overall_tp, overall_tp + overall_fp)}, recall {_ratio(overall_tp, overall_tp + overall_fn)}")
    print(f"discovery + classification: {elapsed:.2f}s for {args.tables} tables ({elapsed / max(args.tables, 1) * 1000:.1f} ms per table)")
    if args.show_errors:
        for (table, column), label, guess in sorted(errors, key=lambda e: (str(e[1]), e[0])):
            print(f"  {table}.{column}: labelled {label}, suggested {guess}")


if __name__ == "__main__":
    main()
