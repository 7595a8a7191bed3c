"""The demo organisation's workbook, read back with openpyxl and checked cell by cell against
its manifests (ropa/demo/kanj): one controller activity and one international transfer."""

import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from ropa.cli import app
from ropa.demo import demo_manifest_dir


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--database", f"sqlite:///{folder / 'c.db'}", "--out", str(folder / "ropa.xlsx")])
    assert result.exit_code == 0, result.output
    return load_workbook(folder / "ropa.xlsx")


def _manifest_activity(activity_id: str) -> dict:
    activities = yaml.safe_load((demo_manifest_dir() / "activities.yml").read_text())["activities"]
    return next(a for a in activities if a["id"] == activity_id)


def _row_starting(sheet, first_row: int, predicate) -> tuple:
    return next(row for row in sheet.iter_rows(min_row=first_row, values_only=True) if predicate(row))


def test_contract_management_row_cell_by_cell(workbook):
    manifest = _manifest_activity("client-contracts")
    sheet = workbook["Controller record"]
    row = _row_starting(sheet, 10, lambda r: r[1] and r[1].startswith(manifest["purpose"][:40]))
    assert row[0] == manifest["business_function"]                                  # A Business function
    assert "Data uses: Essential for Service" in row[1]                              # B Purpose (data-use label)
    assert row[2] is None                                                            # C no joint controller
    assert {"Customer", "Prospect", "Supplier/Vendor", "Consultant"} <= set(row[3].split("; "))  # D individuals
    assert {"Work email address", "Home address", "Job Title"} <= set(row[4].split("; "))       # E categories
    assert "Microsoft Ireland Operations Ltd" in row[5] and "Group companies: Kanj Technologies (Ireland) Ltd (IE)" in row[5]  # F
    assert "Deskflow Software Ltd: DPA-2023-002" in row[6]                           # G contract links
    assert row[9].startswith(manifest["retention"])                                  # J retention
    assert "Firewalls" in row[10]                                                    # K security
    assert row[11] == "Contract (Art 6(1)(b))"                                       # L Article 6
    assert row[12] is None                                                           # M no Article 9 condition
    assert "Data portability (Art 20)" in row[15] and "Object" not in row[15]        # P rights derived from basis
    assert row[16] == "No"                                                           # Q no automated decisions
    assert row[17] == manifest["source_of_data"]                                     # R source
    assert "CRM and client contracts" in row[19] and "United Kingdom" in row[19]    # T location of data
    assert (row[20], row[21]) == ("No", "Not required")                              # U, V DPIA
    assert row[23] == "No"                                                           # X no breach
    assert row[27] == manifest["retention_policy_link"]                              # AB policy link
    assert row[28] == "Yes"                                                          # AC retained per policy


def test_singapore_archive_transfer_is_a_gap_under_both_regimes(workbook):
    sheet = workbook["International transfers"]
    headings = [cell.value for cell in sheet[1]]
    row = dict(zip(headings, _row_starting(sheet, 2, lambda r: r[0] == "backup-vault-to-dr-archive" and r[8] == "Singapore")))
    assert row["Exporter"] == "Backup vault"
    assert row["Origin country"] == "United Kingdom"
    assert row["UK GDPR status"] == "Restricted transfer" and row["EU GDPR status"] == "Restricted transfer"
    assert row["Transfer mechanism"] is None
    assert row["Gap (restricted, no mechanism)"] == "Yes (UK GDPR, EU GDPR)"
