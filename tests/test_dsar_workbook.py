"""The DSAR map as a workbook: sheets, text kept as text, stable bytes, and `ropa dsar --out`."""

import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from catalog.apply import apply_spec
from catalog.dsar import dsar_map
from catalog.specs import CatalogSpec
from exports.dsar_workbook import (
    HOLDINGS_SHEET,
    RECIPIENTS_SHEET,
    REQUEST_SHEET,
    RIGHTS_SHEET,
    write_dsar_workbook,
)
from ropa import analysis_commands
from tests.factories import small_spec_data


def _map(catalog, **options):
    with catalog.session() as session:
        return dsar_map(session, subject="customer", **options)


def _rows(path, sheet):
    return list(load_workbook(path)[sheet].iter_rows(values_only=True))


def test_sheets_follow_the_map(loaded_catalog, tmp_path):
    result = _map(loaded_catalog)
    path = tmp_path / "dsar.xlsx"
    write_dsar_workbook(result, path)
    assert load_workbook(path).sheetnames == [REQUEST_SHEET, HOLDINGS_SHEET, RECIPIENTS_SHEET, RIGHTS_SHEET]
    request = {row[0]: row[1] for row in _rows(path, REQUEST_SHEET) if row[0]}
    assert request["Data subject"] == "customer" and request["Category"] == "All personal data"
    holdings = _rows(path, HOLDINGS_SHEET)
    assert holdings[0] == ("Where", "Kind", "How", "Categories", "Countries", "Retention", "Via")
    assert [row[0] for row in holdings[1:]] == [row["where"] for row in result.as_rows()]
    assert any(row[0] == "crm.contacts.email" for row in holdings)
    recipients = {row[0]: row for row in _rows(path, RECIPIENTS_SHEET)[1:]}
    assert set(recipients) == {r.name for r in result.recipients} and "Cloudco Inc" in recipients
    rights = _rows(path, RIGHTS_SHEET)
    assert [row[0] for row in rights[1:]] == [r.name for r in result.rights]


def test_same_map_same_bytes_and_formulas_stay_text(catalog, tmp_path):
    data = small_spec_data()
    data["systems"][0]["name"] = "=HYPERLINK(\"http://evil.example\",\"CRM\")"
    data["parties"][0]["name"] = "+cmd|' /C calc'!A0"
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
    result = _map(catalog)
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_dsar_workbook(result, first)
    write_dsar_workbook(result, second)
    assert first.read_bytes() == second.read_bytes()
    workbook = load_workbook(first)
    for ws in workbook:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    party = next(row for row in workbook[RECIPIENTS_SHEET].iter_rows(min_row=2) if str(row[0].value).startswith("+cmd"))
    assert party[0].data_type == "s" and party[0].quotePrefix


def test_dsar_command_writes_the_workbook(loaded_catalog, tmp_path):
    app = typer.Typer()
    analysis_commands.register(app)
    runner = CliRunner()
    out = tmp_path / "out" / "dsar.xlsx"
    result = runner.invoke(app, ["dsar", "--subject", "customer", "--category", "user.contact", "--out", str(out), "--database", loaded_catalog.url])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output.replace("\n", "")
    assert {row[0]: row[1] for row in _rows(out, REQUEST_SHEET) if row[0]}["Category"] == "user.contact"
    wrong = runner.invoke(app, ["dsar", "--subject", "customer", "--out", str(tmp_path / "dsar.csv"), "--database", loaded_catalog.url])
    assert wrong.exit_code == 1 and "must be an .xlsx file" in wrong.output
