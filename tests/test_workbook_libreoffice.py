"""The workbook as other readers see it: LibreOffice Calc (headless, converted to CSV per sheet)
and pandas. openpyxl reading back what openpyxl wrote proves less than an independent reader."""

from __future__ import annotations

import csv
import shutil
import subprocess

import pandas as pd
import pytest

from catalog.apply import apply_spec
from catalog.record import CONTROLLER_SHEET_COLUMNS, INVENTORY_HEADINGS, SYSTEM_HEADINGS, Record, build_record
from catalog.specs import CatalogSpec
from exports.workbook import CONTROLLER_SHEET, HEADING_ROW, INVENTORY_SHEET, SYSTEMS_SHEET, write_workbook
from tests.factories import small_spec_data

HOSTILE_NAME = '=HYPERLINK("http://x","y")'
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
#: Comma-separated, double-quoted, UTF-8, from row 1; cell text rather than formulas; every sheet (-1).
CSV_FILTER = 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1'


@pytest.fixture
def hostile_record(sqlite_catalog) -> Record:
    data = small_spec_data()
    data["systems"][0]["name"] = HOSTILE_NAME
    data["activities"][0]["business_function"] = "-1+2"
    with sqlite_catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
    with sqlite_catalog.session() as session:
        return build_record(session)


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed (apt-get install --no-install-recommends libreoffice-calc)")
def test_libreoffice_reads_the_cells_and_runs_no_formula(hostile_record, tmp_path):
    workbook = tmp_path / "ropa.xlsx"
    write_workbook(hostile_record, workbook)
    command = [
        SOFFICE, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--norestore",
        "--convert-to", CSV_FILTER, "--outdir", str(tmp_path / "csv"), str(workbook),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=180)

    def sheet(title: str) -> list[list[str]]:
        with (tmp_path / "csv" / f"ropa-{title}.csv").open(encoding="utf-8", newline="") as handle:
            return list(csv.reader(handle))

    controller = sheet(CONTROLLER_SHEET)
    assert controller[HEADING_ROW - 1][: len(CONTROLLER_SHEET_COLUMNS)] == [column.heading for column in CONTROLLER_SHEET_COLUMNS]
    row = hostile_record.controller_rows[0]
    assert controller[HEADING_ROW][: len(CONTROLLER_SHEET_COLUMNS)] == row.cells()
    assert controller[HEADING_ROW][0] == "-1+2"  # not evaluated to 1
    systems = sheet(SYSTEMS_SHEET)
    assert systems[0] == list(SYSTEM_HEADINGS)
    assert HOSTILE_NAME in [line[0] for line in systems[1:]]  # text, not the formula's result "y"
    assert sheet(INVENTORY_SHEET)[0] == list(INVENTORY_HEADINGS)


def test_pandas_reads_the_controller_sheet_and_the_tables(hostile_record, tmp_path):
    workbook = tmp_path / "ropa.xlsx"
    write_workbook(hostile_record, workbook)
    controller = pd.read_excel(workbook, sheet_name=[CONTROLLER_SHEET], header=HEADING_ROW - 1)[CONTROLLER_SHEET]
    assert list(controller.columns) == [column.heading for column in CONTROLLER_SHEET_COLUMNS]
    assert len(controller) == len(hostile_record.controller_rows) == 1
    first = controller.iloc[0]
    assert first["Business function"] == "-1+2" and first["Article 6 lawful basis for processing personal data"] == "Contract (Art 6(1)(b))"
    tables = pd.read_excel(workbook, sheet_name=[SYSTEMS_SHEET, INVENTORY_SHEET], header=0)
    systems = tables[SYSTEMS_SHEET]
    assert list(systems.columns) == list(SYSTEM_HEADINGS)
    assert HOSTILE_NAME in systems["System"].tolist() and systems["Datasets"].dtype.kind == "i"
    assert len(tables[INVENTORY_SHEET]) == len(hostile_record.inventory_rows)
