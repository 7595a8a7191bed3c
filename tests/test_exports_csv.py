"""The record as CSV: one file per table, UTF-8 with BOM, no formula can run on import."""

from __future__ import annotations

import csv
import dataclasses
from datetime import UTC, datetime

from catalog.record import Record, build_record
from exports.csv_export import write_record_csv


def _record(catalog) -> Record:
    with catalog.session() as session:
        return build_record(session)


def _read(path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_one_file_per_table_plus_cover(loaded_catalog, tmp_path):
    record = _record(loaded_catalog)
    paths = write_record_csv(record, tmp_path / "csv")
    assert [path.name for path in paths] == ["cover.csv", *(f"{table.name}.csv" for table in record.tables())]
    for path, table in zip(paths[1:], record.tables(), strict=True):
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), path.name
        rows = _read(path)
        assert tuple(rows[0]) == table.headings
        assert len(rows) == 1 + len(table.rows)
    controller = _read(tmp_path / "csv" / "controller_record.csv")
    assert controller[1][0] == "Sales" and controller[1][11] == "Contract (Art 6(1)(b))"
    cover = dict(_read(tmp_path / "csv" / "cover.csv")[1:])
    assert cover["Content SHA-256"] == record.content_sha256
    assert controller[0][-2:] == ["Processing activity", "Activity id"] and controller[1][-2:] == ["Client management", "client-management"]


def test_cover_says_when_the_files_were_written(loaded_catalog, tmp_path):
    record = _record(loaded_catalog)
    write_record_csv(record, tmp_path / "fixed", generated_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    assert dict(_read(tmp_path / "fixed" / "cover.csv")[1:])["Generated at"] == "2026-11-25T09:30:00Z"
    before = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    write_record_csv(record, tmp_path / "now")
    written = datetime.fromisoformat(dict(_read(tmp_path / "now" / "cover.csv")[1:])["Generated at"].removesuffix("Z"))
    assert before <= written <= datetime.now(UTC).replace(tzinfo=None)


def test_formula_like_text_is_apostrophe_prefixed(loaded_catalog, tmp_path):
    record = _record(loaded_catalog)
    hostile = dataclasses.replace(record.controller_rows[0], business_function='=HYPERLINK("http://x","y")', purposes="@SUM(A1)\x07", retention="\r=cmd")
    write_record_csv(dataclasses.replace(record, controller_rows=(hostile,)), tmp_path)
    row = _read(tmp_path / "controller_record.csv")[1]
    assert row[0] == '\'=HYPERLINK("http://x","y")'
    assert row[1] == "'@SUM(A1)"  # control character dropped too
    assert row[9] == "'\n=cmd"
    systems = _read(tmp_path / "systems_and_locations.csv")
    assert systems[0][5] == "Datasets" and systems[2][5] == "1"  # numbers stay numbers
