"""The Article 30 record as CSV files: one per table, for tools that do not read .xlsx.

UTF-8 with a byte-order mark, because Excel opens a BOM-less CSV in the local code page and
mangles every accented name. Text a spreadsheet would take for a formula gets a leading
apostrophe (the CSV form of the workbook's quote prefix), decided by the same helper.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from catalog.record import Record
from exports.text import spreadsheet_text

COVER_FILE = "cover.csv"


def _csv_cell(value: object) -> object:
    """Numbers as they are; text cleaned and, where it could run as a formula, apostrophe-prefixed."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text, formula_like = spreadsheet_text(value)
    return f"'{text}" if formula_like else text


def _write(path: Path, headings, rows) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([_csv_cell(heading) for heading in headings])
        writer.writerows([_csv_cell(cell) for cell in row] for row in rows)


def write_record_csv(record: Record, directory: Path, generated_at: datetime | None = None) -> list[Path]:
    """Write ``cover.csv`` and ``<table>.csv`` for every table of the record; returns the paths.
    The cover's generation time is the record's own moment (as of), else ``generated_at``, else now."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / COVER_FILE]
    _write(paths[0], ("Item", "Value"), record.cover(generated_at or datetime.now(UTC)))
    for table in record.tables():
        path = directory / f"{table.name}.csv"
        _write(path, table.headings, (row.cells() for row in table.rows))
        paths.append(path)
    return paths
