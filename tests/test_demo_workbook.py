"""The demo organisation's workbook, read back with openpyxl and checked cell by cell against
its manifests (ropa/demo/kanj): controller activities, the cover, the processor record and the
international transfers, as an auditor and a DPO read them."""

import re

import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from catalog.taxonomy import TaxonomyKind, load_taxonomy
from ropa.cli import app
from ropa.demo import demo_manifest_dir

#: Column letters of the controller sheet -> index in a row tuple.
COLUMN = {letter: index for index, letter in enumerate(
    [*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "AA", "AB", "AC", "AD", "AE"]
)}


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


def _controller_row(workbook, activity_id: str) -> tuple:
    """The controller row of an activity, found by column AE (the activity's name)."""
    name = _manifest_activity(activity_id)["name"]
    return _row_starting(workbook["Controller record"], 10, lambda r: r[COLUMN["AE"]] == name)


def _labels(kind: TaxonomyKind, keys) -> set[str]:
    taxonomy = load_taxonomy()
    return {taxonomy.label(kind, key) for key in keys}


def _table(sheet) -> list[dict]:
    headings = [cell.value for cell in sheet[1]]
    return [dict(zip(headings, row)) for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_contract_management_row_cell_by_cell(workbook):
    manifest = _manifest_activity("client-contracts")
    row = _controller_row(workbook, "client-contracts")
    assert row[0] == manifest["business_function"]                                  # A Business function
    assert row[1].startswith(manifest["purpose"][:40])                               # B Purpose
    assert "Data uses: Essential for Service" in row[1]                              #   (data-use label)
    assert row[2] is None                                                            # C no joint controller
    # D, E: what the activity declares (its flows carry nothing more), not all its systems hold
    assert set(row[3].split("; ")) == _labels(TaxonomyKind.DATA_SUBJECT, manifest["data_subjects"])
    assert set(row[4].split("; ")) == _labels(TaxonomyKind.DATA_CATEGORY, manifest["data_categories"])
    assert "Bank Account Information" not in row[4]  # the finance system's bank details are the invoicing activity's
    assert "Microsoft Ireland Operations Ltd" in row[5]                              # F recipients, countries by name
    assert "Group companies: Kanj Technologies (Ireland) Ltd (Ireland)" in row[5]
    assert not re.search(r"\([A-Z]{2}(, [A-Z]{2})*\)", row[5])                      #   no ISO codes
    assert "Deskflow Software Ltd: DPA-2023-002" in row[6]                           # G contract links
    assert row[9].startswith(manifest["retention"])                                  # J retention
    assert "Firewalls" in row[10]                                                    # K security
    assert row[11] == "Contract (Art 6(1)(b))"                                       # L Article 6
    assert row[12] is None                                                           # M no Article 9 condition
    assert "Data portability (Art 20)" in row[15] and "Object" not in row[15]        # P rights derived from basis
    assert row[16] is None                                                           # Q not recorded: the policy is silent on automated decisions
    assert row[17] == manifest["source_of_data"]                                     # R source
    assert "CRM and client contracts" in row[19] and "United Kingdom" in row[19]    # T location of data
    assert (row[20], row[21]) == ("No", "Not required")                              # U, V DPIA
    assert row[23] is None                                                           # X no breach record: not recorded, not "No"
    assert row[25:30] == ("Not applicable",) * 5                                     # Z-AD no special category data: Sch 1 n/a
    assert row[COLUMN["AE"]] == manifest["name"]                                     # AE the activity


def test_staff_accounts_row_shows_what_the_activity_declares(workbook):
    """The auditor's example: declared [employee] and five categories; Microsoft 365 and the
    helpdesk hold client and bank data too, which must not appear here."""
    manifest = _manifest_activity("staff-accounts")
    row = _controller_row(workbook, "staff-accounts")
    assert row[3] == "Employee"
    assert set(row[4].split("; ")) == _labels(TaxonomyKind.DATA_CATEGORY, manifest["data_categories"])
    assert len(row[4].split("; ")) == 5


def test_sources_come_from_the_policy_or_stay_blank(workbook):
    for activity_id in ("enquiries-complaints", "complaint-investigation", "service-monitoring"):
        assert _controller_row(workbook, activity_id)[17] == _manifest_activity(activity_id)["source_of_data"]
    assert _controller_row(workbook, "backup-dr")[17] is None  # the policy does not say: no default


def test_third_countries_include_adequate_ones_by_regime(workbook):
    """The helpdesk in Dublin is a third country under UK GDPR (adequate), not under EU GDPR."""
    countries = _controller_row(workbook, "service-delivery")[7].split("; ")
    assert "Ireland (UK GDPR)" in countries
    assert {"Brazil", "India"} <= {country.split(" (")[0] for country in countries}


def test_cover_says_when_and_what_applies(workbook):
    cover = {row[0]: row[1] for row in workbook["Cover"].iter_rows(values_only=True) if row[0]}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", cover["Generated at"])
    assert workbook.properties.created.year >= 2026  # not the old fixed 2020-01-01
    assert cover["UK representative"].startswith("Not applicable (organisation established in United Kingdom")
    assert cover["EU representative"] == "Not recorded"  # organisation.yml: the Privacy Team should confirm


def test_processor_record_heads_kanj_as_the_processor(workbook):
    sheet = workbook["Processor record"]
    assert (sheet["B1"].value, sheet["B2"].value) == ("Processor", "Kanj Technologies Ltd")
    safeguards = "\n".join(row[5] or "" for row in sheet.iter_rows(min_row=10, values_only=True))
    assert "adequacy" in safeguards and "United States: adequacy" not in safeguards  # regime and instrument named
    assert re.search(r"\((UK|EU) GDPR\): adequacy, \S", safeguards)


def test_every_sheet_names_an_activity_the_same_way(workbook):
    controller = {row[COLUMN["AE"]] for row in workbook["Controller record"].iter_rows(min_row=10, values_only=True)}
    processors = {
        row["Processing activity or system"] for row in _table(workbook["Security measures"])
        if row["Scope"] == "Processing activity" and row["Id"].startswith("hosting-")
    }
    assert {row["Processing activity"] for row in _table(workbook["Retention schedule"])} == controller
    named = set()
    for row in _table(workbook["International transfers"]):
        cell = row["Processing activity"] or ""
        if cell.startswith("Every activity using "):  # a system's hosting serves each activity using the system
            named.update(cell.split(": ", 1)[1].split("; "))
        elif cell:
            named.add(cell)
    assert named <= controller | processors
    hosting = [row for row in _table(workbook["International transfers"]) if row["Flow"].endswith("@aws")]
    assert hosting and all(row["Processing activity"].startswith("Every activity using ") for row in hosting)
    security = {row["Processing activity or system"] for row in _table(workbook["Security measures"]) if row["Scope"] == "Processing activity"}
    assert security == controller | processors


def test_singapore_archive_transfer_is_a_uk_gap_and_both_sides_agree(workbook):
    row = _row_starting(workbook["International transfers"], 2, lambda r: r[0] == "backup-vault-to-dr-archive" and r[8] == "Singapore")
    row = dict(zip([cell.value for cell in workbook["International transfers"][1]], row))
    assert row["Exporter"] == "Backup vault" and row["Origin country"] == "United Kingdom"
    assert row["UK GDPR status"] == "Restricted transfer"
    mechanism = row["Transfer mechanism"].splitlines()
    assert "UK GDPR: no transfer mechanism on record" in mechanism
    assert row["Gap (restricted, no mechanism)"].startswith("Yes (UK GDPR")
    # the EU GDPR cells say the same thing as each other, whatever the status
    eu_restricted = row["EU GDPR status"] == "Restricted transfer"
    assert ("EU GDPR: no transfer mechanism on record" in mechanism) == eu_restricted == ("EU GDPR" in row["Gap (restricted, no mechanism)"])


def test_transfer_cells_name_the_instrument(workbook):
    transfers = _table(workbook["International transfers"])
    vaultline = next(row for row in transfers if row["Flow"] == "backup-vault-to-vaultline")
    assert vaultline["UK GDPR status"] == "Adequacy (certified importer): SI 2023/1028; importer holds DPF-UK-Extension"
    assert "UK GDPR: adequacy, SI 2023/1028; importer holds DPF-UK-Extension" in vaultline["Transfer mechanism"].splitlines()
    helpdesk = next(row for row in transfers if row["Flow"] == "crm-to-helpdesk")
    assert helpdesk["UK GDPR status"] == "Adequacy: DPA 2018 Schedule 21 paragraph 5"


def test_uk_addendum_alone_is_not_shown_as_eu_sccs(workbook):
    """Sahyadri: only the UK Addendum is on record, so the EU side of an EU-restricted transfer says
    that no EU SCCs are on record (parties.yml says they are signed: the catalogue does not hold them)."""
    transfers = _table(workbook["International transfers"])
    eu_restricted = [row for row in transfers if row["Importer"].startswith("Sahyadri") and row["EU GDPR status"] == "Restricted transfer"]
    assert eu_restricted
    for row in eu_restricted:
        lines = row["Transfer mechanism"].splitlines()
        assert "UK GDPR: UK Addendum to EU SCCs" in lines
        eu_line = next(line for line in lines if line.startswith("EU GDPR"))
        assert "no EU SCCs on record" in eu_line
