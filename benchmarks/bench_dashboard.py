"""Server time to the first full render of each dashboard page on a large synthetic catalogue.

Applies ``catalog.synth.synth_spec(N, 5)`` (10,000 systems by default) into a SQLite file, then
runs the app headless with Streamlit's AppTest and times each page. First the server's warm-up
(``dashboards.serve.warm_up``, which ``ropa dashboard`` runs as the
server starts and after each change, before any visitor asks), then the first visit, then every
page's first render and a rerun (what each visitor waits for on the server). The goal is under
2 s per page. For the data-flow map it also reports how many edges the browser is sent, which must
never exceed the map's drawing budget.

    .venv/bin/python benchmarks/bench_dashboard.py                 # 10,000 systems
    .venv/bin/python benchmarks/bench_dashboard.py --systems 1000  # quicker
    .venv/bin/python benchmarks/bench_dashboard.py --database /tmp/synth.db   # reuse a loaded file

Prints a table as it goes; exits 1 if the map ever sends more edges than its budget (times are only
reported). A page slower than ``--timeout`` ends the measurements (its script thread cannot be stopped).
Beside each wall-clock time it prints the CPU seconds the process used, and the load average before
and after: on a machine shared with other work the CPU time is the steadier figure to compare.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.apply import apply_spec
from catalog.flowmap import DEFAULT_BUDGET
from catalog.store import DATABASE_URL_ENV, init_catalog, open_catalog
from catalog.synth import synth_spec

APP = ROOT / "dashboards" / "app.py"
GOAL_SECONDS = 2.0


def load(path: Path, systems: int, fields: int) -> float:
    """Apply the synthetic catalogue into a new SQLite file; seconds taken."""
    started = time.perf_counter()
    spec = synth_spec(systems, fields)
    catalog = init_catalog(f"sqlite:///{path}")
    try:
        with catalog.session() as session:
            apply_spec(session, spec, source="manifest", target=f"synth:{systems}x{fields}")
    finally:
        catalog.dispose()
    return time.perf_counter() - started


def pages() -> list[str]:
    """Every page script the app may register, in navigation order where known."""
    # The activities page derives the Article 30 registers (catalog.record), once the slowest: last.
    order = ["overview", "flow_map", "transfers", "lineage", "findings", "register", "review", "history", "activities"]
    present = {path.stem for path in (ROOT / "dashboards" / "views").glob("*.py") if path.stem != "__init__"}
    return [name for name in order if name in present] + sorted(present - set(order))


def map_edges(app) -> int | None:
    charts = app.get("graphviz_chart")
    if not charts:
        return None
    spec = charts[0].proto.spec
    return sum(1 for line in spec.splitlines() if " -> " in line and "legend_" not in line)


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


class Stopwatch:
    """Wall-clock and process CPU seconds of a block (the app's script thread runs in this process)."""

    def __enter__(self) -> Self:
        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.started, time.process_time() - self.cpu_started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=10_000, help="synthetic systems (default 10,000)")
    parser.add_argument("--fields", type=int, default=5, help="fields per system (default 5)")
    parser.add_argument("--database", type=Path, help="a SQLite file: loaded if missing, reused if present")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a page may take before measuring stops (default 900)")
    args = parser.parse_args()

    from streamlit.testing.v1 import AppTest

    workdir = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    path = args.database or workdir / "synth.db"
    if path.exists():
        print(f"catalogue: reusing {path}")
    else:
        seconds = load(path, args.systems, args.fields)
        print(f"catalogue: {args.systems} systems x {args.fields} fields applied into {path} in {seconds:.1f} s")
    url = f"sqlite:///{path}"
    open_catalog(url).dispose()  # fails early when the file is not a current catalogue
    os.environ[DATABASE_URL_ENV] = url
    os.environ.setdefault("ROPA_LOCAL_ROLE", "dpo")

    print(f"load average (1, 5, 15 min): {load_average()}")
    from dashboards import serve

    with Stopwatch() as warm:  # what dashboards.serve does while the server starts and after each change
        serve.warm_up()
    print(f"server warm-up, before any visitor (imports, snapshot of the catalogue): {warm.wall:.2f} s ({warm.cpu:.2f} s CPU)")
    with Stopwatch() as cold:
        app = AppTest.from_file(str(APP), default_timeout=max(args.timeout, 900)).run()
    if app.exception:
        print("the app failed:", [e.value for e in app.exception], flush=True)
        return 2
    print(f"first visit (the rest of the imports, overview): {cold.wall:.2f} s ({cold.cpu:.2f} s CPU)", flush=True)
    print(f"(served by `streamlit run` without the warm-up, the first visitor after a change would wait for both: {warm.wall + cold.wall:.2f} s)")

    print()
    print(f"{'page':<12} {'first render':>13} {'CPU':>7} {'rerun':>8}  {'goal':<6} {'map edges sent':>15}  problems", flush=True)
    over_budget = False
    for name in pages():
        try:
            with Stopwatch() as first:
                app.switch_page(f"views/{name}.py").run(timeout=args.timeout)
        except RuntimeError as exc:  # AppTest's timeout: the page's script thread cannot be stopped
            print(f"{name:<12} {f'> {args.timeout:.0f} s':>13}  TIMEOUT ({exc}); measuring stops here", flush=True)
            break
        with Stopwatch() as again:
            app.run(timeout=args.timeout)
        problems = [e.value for e in app.exception] + [e.value for e in app.error]
        edges = map_edges(app) if name == "flow_map" else None
        if edges is not None and edges > DEFAULT_BUDGET:
            over_budget = True
        verdict = "ok" if first.wall < GOAL_SECONDS else "SLOW"
        sent = "" if edges is None else f"{edges} / {DEFAULT_BUDGET}"
        print(f"{name:<12} {first.wall:>11.2f} s {first.cpu:>5.2f} s {again.wall:>6.2f} s  {verdict:<6} {sent:>15}  "
              f"{'; '.join(str(p)[:80] for p in problems)}", flush=True)
    print(f"\nload average (1, 5, 15 min): {load_average()}")
    if over_budget:
        print(f"\nFAIL: the map sent more than its budget of {DEFAULT_BUDGET} edges")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
