"""Analysis at scale: graph build time and memory, field lineage latency, and the full `ropa check`.

A synthetic catalogue of ``--systems`` systems with ``--fields-per-system`` fields each
(:func:`catalog.synth.synth_spec`) is applied with :func:`catalog.apply.apply_spec` into a SQLite
file under a temporary directory (the load time is printed too). Then:

* graph build: :meth:`catalog.graph.CatalogGraph.load`, wall time; its memory as the peak traced
  by ``tracemalloc`` during a second build (skip with ``--no-tracemalloc``: tracing slows the
  build), and the process peak RSS (``ru_maxrss``) after the first build;
* lineage: :func:`catalog.lineage.lineage` downstream from ``--queries`` (default 1,000) random
  field nodes, median and p95 (goal: p95 < 50 ms), once over all fields and once over the fields
  that lineage joins (most fields have none, which makes the first figure easy); the first query,
  which builds the cached lineage view, is timed on its own;
* check: :func:`catalog.rules.run_rules` on a fresh session, facts loading included, as
  `ropa check` runs it (goal: < 30 s).

A script that prints figures, never a test. Quick check:
``.venv/bin/python benchmarks/bench_analysis.py --systems 500 --fields-per-system 20``.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.apply import apply_spec
from catalog.graph import CatalogGraph, NodeKind
from catalog.lineage import Direction, lineage
from catalog.rules import run_rules
from catalog.store import init_catalog
from catalog.synth import synth_spec

LINEAGE_P95_GOAL_MS = 50.0
CHECK_GOAL_S = 30.0


def _peak_rss_mib() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=10_000)
    parser.add_argument("--fields-per-system", type=int, default=100)
    parser.add_argument("--queries", type=int, default=1_000, help="Lineage queries from random fields.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-tracemalloc", action="store_true", help="Skip the traced second graph build.")
    args = parser.parse_args(argv)

    print(f"catalogue: {args.systems} systems x {args.fields_per_system} fields = {args.systems * args.fields_per_system:,} fields")
    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as directory:
        catalog = init_catalog(f"sqlite:///{Path(directory) / 'catalog.db'}")
        try:
            started = time.perf_counter()
            spec = synth_spec(args.systems, args.fields_per_system, args.seed)
            generated = time.perf_counter()
            with catalog.session() as session:
                apply_spec(session, spec, source="manifest", target="bench")
            loaded = time.perf_counter()
            del spec
            print(f"load: synth {generated - started:.1f} s, apply + commit {loaded - generated:.1f} s")

            with catalog.session() as session:
                started = time.perf_counter()
                graph = CatalogGraph.load(session)
                build_s = time.perf_counter() - started
            rss = _peak_rss_mib()
            print(f"graph build: {build_s:.2f} s, {graph.graph.number_of_nodes():,} nodes, {graph.graph.number_of_edges():,} edges; "
                  f"process peak RSS {rss:,.0f} MiB")
            if not args.no_tracemalloc:
                with catalog.session() as session:
                    tracemalloc.start()
                    traced = CatalogGraph.load(session)
                    _current, peak = tracemalloc.get_traced_memory()
                    tracemalloc.stop()
                    del traced
                print(f"graph build memory (tracemalloc peak): {peak / (1024 * 1024):,.0f} MiB")

            fields = graph.nodes_of(NodeKind.FIELD)
            joined = sorted({key for source, target, _data in graph.field_lineage() for key in (source, target)})
            print(f"field lineage: {len(graph.field_lineage()):,} edges joining {len(joined):,} of {len(fields):,} fields")
            if fields:
                started = time.perf_counter()
                lineage(graph, fields[0], Direction.DOWNSTREAM)
                print(f"first lineage query (builds the cached lineage view): {(time.perf_counter() - started) * 1000:,.0f} ms")
            picker = random.Random(args.seed)
            for label, pool in (("random fields", fields), ("random fields with lineage", joined)):
                if not pool:
                    continue
                timings, reached = [], 0
                for key in [picker.choice(pool) for _ in range(args.queries)]:
                    started = time.perf_counter()
                    result = lineage(graph, key, Direction.DOWNSTREAM)
                    timings.append((time.perf_counter() - started) * 1000)
                    reached += len(result.nodes)
                p95 = _percentile(timings, 0.95)
                print(f"lineage ({len(timings)} {label}, downstream): median {statistics.median(timings):.2f} ms, "
                      f"p95 {p95:.2f} ms, max {max(timings):.2f} ms, mean nodes reached {reached / len(timings):.1f} "
                      f"[goal p95 < {LINEAGE_P95_GOAL_MS:.0f} ms: {'met' if p95 < LINEAGE_P95_GOAL_MS else 'NOT met'}]")
            del graph

            with catalog.session() as session:
                started = time.perf_counter()
                findings = run_rules(session)
                check_s = time.perf_counter() - started
            print(f"ropa check (facts + {len({f.rule_id for f in findings})} rules firing, {len(findings):,} findings): {check_s:.1f} s "
                  f"[goal < {CHECK_GOAL_S:.0f} s: {'met' if check_s < CHECK_GOAL_S else 'NOT met'}]")
            print(f"process peak RSS at the end: {_peak_rss_mib():,.0f} MiB")
        finally:
            catalog.dispose()


if __name__ == "__main__":
    main()
