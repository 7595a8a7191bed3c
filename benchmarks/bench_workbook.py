"""How long, and how much memory, writing the record workbook takes at scale.

Builds a synthetic :class:`catalog.record.Record` directly (10,000 activities and 1,000,000
data-inventory rows at ``--scale 1``; no database involved) and writes the same tables three ways,
each in a fresh forked process so one writer's memory does not colour the next:

* ``ropa write_workbook``: :func:`exports.workbook.write_workbook`, the real ICO workbook (XlsxWriter
  in constant-memory mode, with the cover, contact block, styles, notes, links, drop-downs, fitted
  widths and print set-up; its time and memory include the cover's content hash over every row);
* ``xlsxwriter constant_memory``: the same cells, bare, streamed row by row (strings stay strings);
* ``pandas to_excel (openpyxl)``: one DataFrame per table through pandas' default xlsx engine.

The goals (issue #5): within 2x of bare XlsxWriter, faster than pandas.

Peak memory is the growth of the process's high-water resident set (VmHWM) over its size when
the writer started. Run ``.venv/bin/python benchmarks/bench_workbook.py --scale 0.01`` for a quick
check. Prints a table and the ratios to the goals; asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.record import (  # noqa: E402
    CONTROLLER_COLUMNS,
    CatalogueRevision,
    Contact,
    ControllerRow,
    InventoryRow,
    OrganisationContacts,
    Record,
)
from exports.text import spreadsheet_text  # noqa: E402
from exports.workbook import write_workbook  # noqa: E402

FULL_ACTIVITIES = 10_000
FULL_INVENTORY_ROWS = 1_000_000
FIELDS_PER_DATASET, DATASETS_PER_SYSTEM = 20, 10


def synthetic_record(activities: int, inventory_rows: int) -> Record:
    """A record of the given size with realistic cell lengths (no database)."""
    controller_rows = tuple(
        ControllerRow(
            activity_id=f"activity-{number:05d}", activity_name=f"Activity {number}", special_category=number % 7 == 0,
            **{column.key: f"{column.heading[:24]} for activity {number}; " * (1 + number % 3) for column in CONTROLLER_COLUMNS},
        )
        for number in range(activities)
    )
    inventory = tuple(
        InventoryRow(
            system_id=f"system-{number // (FIELDS_PER_DATASET * DATASETS_PER_SYSTEM)}",
            system=f"System {number // (FIELDS_PER_DATASET * DATASETS_PER_SYSTEM)}",
            dataset=f"schema.table_{number // FIELDS_PER_DATASET % DATASETS_PER_SYSTEM}", field=f"column_{number % FIELDS_PER_DATASET}",
            category_key="user.contact.email", category="User Contact Email",
            special="Special category (Art 9): health" if number % 50 == 0 else "", source="database",
        )
        for number in range(inventory_rows)
    )
    organisation = OrganisationContacts(Contact("Bench Ltd", "1 High St", "privacy@bench.example"), Contact("DPO", email="dpo@bench.example"))
    return Record(
        organisation=organisation, regimes=("uk_gdpr", "eu_gdpr"), controller_rows=controller_rows, processor_rows=(),
        transfer_rows=(), system_rows=(), inventory_rows=inventory, revision=CatalogueRevision(1, None),
    )


def _tables(record: Record):
    """(sheet name, headings, rows of cells) for every non-empty table, as the other writers get them."""
    for table in record.tables():
        if table.rows:
            yield table.name[:31], table.headings, (row.cells() for row in table.rows)


def write_with_ropa(record: Record, path: Path) -> None:
    write_workbook(record, path)


def write_with_xlsxwriter(record: Record, path: Path) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    for name, headings, rows in _tables(record):
        sheet = workbook.add_worksheet(name)
        sheet.write_row(0, 0, headings)
        for number, cells in enumerate(rows, start=1):
            for column, value in enumerate(cells):
                if isinstance(value, str):
                    if value:  # blank cells are left out, as write_workbook leaves them out
                        sheet.write_string(number, column, spreadsheet_text(value)[0])
                else:
                    sheet.write_number(number, column, value)
    workbook.close()


def write_with_pandas(record: Record, path: Path) -> None:
    import pandas as pd

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, headings, rows in _tables(record):
            pd.DataFrame(list(rows), columns=list(headings)).to_excel(writer, sheet_name=name, index=False)


WRITERS: dict[str, Callable[[Record, Path], None]] = {
    "ropa write_workbook": write_with_ropa,
    "xlsxwriter constant_memory": write_with_xlsxwriter,
    "pandas to_excel (openpyxl)": write_with_pandas,
}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _measure(writer: str, record: Record, path: Path, results) -> None:
    """Child process: time one writer and the growth of the resident high-water mark."""
    baseline = _status_kib("VmRSS")
    start = time.perf_counter()
    WRITERS[writer](record, path)
    seconds = time.perf_counter() - start
    results.put((seconds, max(0, _status_kib("VmHWM") - baseline) / 1024, path.stat().st_size / 1024 / 1024))


def run(scale: float, writers: list[str]) -> list[tuple[str, float, float, float]]:
    activities, inventory_rows = max(1, round(FULL_ACTIVITIES * scale)), max(1, round(FULL_INVENTORY_ROWS * scale))
    print(f"Building a synthetic record: {activities:,} activities, {inventory_rows:,} inventory rows ...", flush=True)
    start = time.perf_counter()
    record = synthetic_record(activities, inventory_rows)
    print(f"  built in {time.perf_counter() - start:.1f} s", flush=True)
    for module in ("pandas", "xlsxwriter"):  # imported here so their import is not counted as writing memory
        importlib.import_module(module)
    context = multiprocessing.get_context("fork")  # the child shares the record instead of pickling it
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for writer in writers:
            print(f"Writing with {writer} ...", flush=True)
            results = context.Queue()
            child = context.Process(target=_measure, args=(writer, record, Path(folder) / f"{len(rows)}.xlsx", results))
            child.start()
            child.join()
            if child.exitcode != 0:
                print(f"  failed (exit code {child.exitcode})", flush=True)
                continue
            rows.append((writer, *results.get()))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Fraction of 10,000 activities / 1,000,000 inventory rows (e.g. 0.01).")
    parser.add_argument("--writer", action="append", choices=list(WRITERS), help="Only these writers (repeatable); all by default.")
    args = parser.parse_args(argv)
    rows = run(args.scale, args.writer or list(WRITERS))
    print()
    print(f"{'writer':<28} {'seconds':>9} {'peak MiB':>9} {'file MiB':>9}")
    for writer, seconds, peak, size in rows:
        print(f"{writer:<28} {seconds:>9.1f} {peak:>9.0f} {size:>9.1f}")
    seconds = {writer: elapsed for writer, elapsed, *_ in rows}
    if ours := seconds.get("ropa write_workbook"):
        for other, goal in (("xlsxwriter constant_memory", "goal: at most 2x"), ("pandas to_excel (openpyxl)", "goal: below 1x")):
            if other in seconds:
                print(f"ropa / {other}: {ours / seconds[other]:.2f}x ({goal})")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"(scale {args.scale}, Python {sys.version.split()[0]}, load average {load}, pid {os.getpid()})")


if __name__ == "__main__":
    main()
