"""The subprocessors source: a vendor's published list in, sub-processor parties under the
processor out, with the onward transfers they imply; bad lists change nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import select

from catalog.graph import CatalogGraph
from catalog.jurisdictions import Regime
from catalog.models import Party
from catalog.transfers import derive_transfers
from ingest.errors import IngestError, LocatedError
from ingest.registry import run_source
from ingest.subprocessors import ingest_subprocessors, transfer_terms
from catalog.vocab import TransferMechanism
from tests.factories import table_counts

MODULES = {"subprocessors": "ingest.subprocessors:SubprocessorsSource"}

VENDOR_LIST = [
    ["Subprocessor", "Nature of processing", "Location of processing", "Website", "Transfer mechanism"],
    ["Amazon Web Services EMEA SARL", "Cloud hosting", "Ireland, Germany", "https://aws.amazon.com", "N/A"],
    ["Amazon Web Services EMEA SARL", "Backups", "USA", "https://aws.amazon.com", "SCCs and UK Addendum"],
    ["Zendesk, Inc.", "Customer support tickets", "United States of America", "https://zendesk.com", "EU-US DPF and UK Extension"],
    ["Helpdesk Services Pvt", "Support staff", "India", "", "Standard Contractual Clauses"],
    ["Globex Analytics", "Product analytics", "Worldwide", "", ""],
    ["Mystery Ltd", "Storage", "France", "", "Pinky promise"],
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def parties(catalog, parent: str = "cloudco") -> dict[str, Party]:
    with catalog.session() as session:
        rows = session.exec(select(Party).where(Party.parent_id == parent, Party.retired_run_id.is_(None))).all()
        return {row.id: row for row in rows}


def rejected(catalog, path: Path, processor: str = "cloudco", **options) -> list[LocatedError]:
    before = table_counts(catalog)
    with pytest.raises(IngestError) as raised:
        ingest_subprocessors(catalog, path, processor, **options)
    assert table_counts(catalog) == before
    return raised.value.errors


def messages(errors) -> str:
    return "\n".join(str(error) for error in errors)


def test_vendor_csv_becomes_sub_processors_with_onward_transfers(loaded_catalog, tmp_path):
    path = write_csv(tmp_path / "cloudco-subprocessors.csv", VENDOR_LIST)
    report = run_source("subprocessors", loaded_catalog, {"file": path, "processor": "cloudco"}, modules=MODULES)
    assert report.source == "subprocessors:cloudco" and not report.errors
    found = parties(loaded_catalog)
    aws = found["cloudco-amazon-web-services-emea-sarl"]  # two rows, one party
    assert (aws.role, aws.parent_id, aws.country, aws.processing_countries) == ("sub_processor", "cloudco", "IE", ["DE", "US"])
    assert (aws.description, aws.transfer_mechanism) == ("Cloud hosting; Backups", TransferMechanism.UK_ADDENDUM.value)
    zendesk = found["cloudco-zendesk-inc"]
    assert (zendesk.name, zendesk.country, zendesk.certifications, zendesk.transfer_mechanism) == ("Zendesk, Inc.", "US", ["DPF", "DPF-UK-Extension"], None)
    helpdesk = found["cloudco-helpdesk-services-pvt"]
    assert (helpdesk.country, helpdesk.transfer_mechanism) == ("IN", TransferMechanism.EU_SCC_MODULE_3.value)
    assert found["cloudco-globex-analytics"].country == "US"  # 'Worldwide': the processor's country
    assert found["cloudco-mystery-ltd"].country == "FR"
    assert "helpdesk-in" in found and found["helpdesk-in"].source == "manifest"  # the manifest's own entry is left alone

    text = messages(report.warnings)
    assert "cloudco-subprocessors.csv:6:3: column 'Location of processing': 'Worldwide' names no country" in text
    assert "cloudco-subprocessors.csv:7:5: column 'Transfer mechanism': 'Pinky promise' names no transfer mechanism" in text

    with loaded_catalog.session() as session:
        transfers = derive_transfers(CatalogGraph.load(session))
    onward = {(t.importer, t.destination): t for t in transfers if t.via == ("party:cloudco",)}
    india = onward[("party:cloudco-helpdesk-services-pvt", "IN")]
    assert india.exporter == "party:cloudco" and india.mechanism == TransferMechanism.EU_SCC_MODULE_3.value
    assert india.gap_under == (Regime.UK_GDPR,)  # EU SCCs alone: restricted under UK GDPR with no UK tool on record
    assert ("party:cloudco-amazon-web-services-emea-sarl", "IE") in onward


def test_second_run_changes_nothing_and_a_dropped_sub_processor_is_retired(loaded_catalog, tmp_path):
    path = write_csv(tmp_path / "list.csv", VENDOR_LIST)
    first = ingest_subprocessors(loaded_catalog, path, "cloudco")
    second = ingest_subprocessors(loaded_catalog, path, "cloudco")
    assert (second.added, second.updated, second.retired) == (0, 0, 0) and second.unchanged == first.read

    write_csv(path, [row for row in VENDOR_LIST if not row[0].startswith("Globex")])
    third = ingest_subprocessors(loaded_catalog, path, "cloudco")
    assert (third.added, third.updated, third.retired) == (0, 0, 1)
    with loaded_catalog.session() as session:
        assert session.get(Party, "cloudco-globex-analytics").retired_run_id == third.run_id
        assert session.get(Party, "cloudco").retired_run_id is None and session.get(Party, "cloudco").source == "manifest"


def test_vendor_xlsx_with_title_rows_and_other_headings(loaded_catalog, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sub-processors"
    sheet.append(["Metrics LLC sub-processors, updated 1 March 2026"])
    sheet.append([])
    sheet.append(["Entity name", "Service", "Data location", "Applicable services"])
    sheet.append(["Snowflake Inc.", "Data warehouse", "EU", "Analytics"])
    sheet.append(["Twilio", "SMS", "UK; US", "Alerts"])
    path = tmp_path / "metrics.xlsx"
    workbook.save(path)
    ingest_subprocessors(loaded_catalog, path, "metrics")
    found = parties(loaded_catalog, "metrics")
    assert found["metrics-snowflake-inc"].country == "AT" and "IE" in found["metrics-snowflake-inc"].processing_countries
    assert (found["metrics-twilio"].country, found["metrics-twilio"].processing_countries) == ("GB", ["US"])
    assert found["metrics-twilio"].description == "SMS"


def test_lists_of_two_processors_do_not_retire_each_other(loaded_catalog, tmp_path):
    ingest_subprocessors(loaded_catalog, write_csv(tmp_path / "a.csv", VENDOR_LIST[:3]), "cloudco")
    ingest_subprocessors(loaded_catalog, write_csv(tmp_path / "b.csv", [VENDOR_LIST[0], VENDOR_LIST[4]]), "metrics")
    assert "cloudco-amazon-web-services-emea-sarl" in parties(loaded_catalog, "cloudco")
    assert set(parties(loaded_catalog, "metrics")) == {"metrics-helpdesk-services-pvt"}


@pytest.mark.parametrize("text, expected", [
    ("EU SCCs (Module 3) + UK IDTA", (TransferMechanism.UK_IDTA, [])),
    ("Binding Corporate Rules", (TransferMechanism.BCR, [])),
    ("Data Privacy Framework", (None, ["DPF"])),
    ("UK Extension to the EU-US DPF", (None, ["DPF", "DPF-UK-Extension"])),
    ("Adequacy", (None, [])),
])
def test_transfer_mechanism_wording(text, expected):
    assert transfer_terms(text) == expected


# ---- bad and hostile input ----------------------------------------------------------------------


def test_the_processor_must_exist(loaded_catalog, tmp_path):
    path = write_csv(tmp_path / "list.csv", VENDOR_LIST)
    error = messages(rejected(loaded_catalog, path, processor="cloudc0"))
    assert "no party 'cloudc0' in the catalogue" in error and "(did you mean 'cloudco'?)" in error


def test_formula_injection_is_kept_as_text(loaded_catalog, tmp_path):
    payload = '=HYPERLINK("http://evil.example","Support")'
    path = write_csv(tmp_path / "list.csv", [VENDOR_LIST[0], ["Acme Support", payload, "UK", "", ""], ["-2+3", "Hosting", "UK", "", ""]])
    report = ingest_subprocessors(loaded_catalog, path, "cloudco")
    found = parties(loaded_catalog)
    assert found["cloudco-acme-support"].description == payload
    assert found["cloudco-2-3"].name == "-2+3"
    text = messages(report.warnings)
    assert "list.csv:2:2: column 'Nature of processing': cell starts like a spreadsheet formula: kept as text, never evaluated" in text
    formula_country = write_csv(tmp_path / "country.csv", [VENDOR_LIST[0], ["Acme Support", "Support", "+44 UK", "", ""]])
    assert "unknown country '+44 UK'" in messages(rejected(loaded_catalog, formula_country))


def test_formulas_in_a_workbook_are_not_evaluated(loaded_catalog, tmp_path):
    workbook = Workbook()
    workbook.active.append(["Vendor", "Purpose", "Country"])
    workbook.active.append(["Acme Mail", "Email", '=IF(TRUE,"US","GB")'])
    path = tmp_path / "formula.xlsx"
    workbook.save(path)
    report = ingest_subprocessors(loaded_catalog, path, "cloudco")
    assert parties(loaded_catalog)["cloudco-acme-mail"].country == "US"  # the processor's, not the formula's
    assert "formula.xlsx[Sheet]:2:3: formula without a saved value: read as empty, not evaluated" in messages(report.warnings)


def test_an_unknown_country_is_a_located_error_with_the_nearest_not_the_processors_country(loaded_catalog, tmp_path):
    path = write_csv(tmp_path / "list.csv", [*VENDOR_LIST[:4], ["Twilio Inc.", "SMS", "Untied States", "", "DPF"], ["Mystery Ltd", "Storage", "Ireland; Atlantis", "", ""]])
    errors = rejected(loaded_catalog, path)
    assert [str(error) for error in errors] == [
        "list.csv:5:3: column 'Location of processing': unknown country 'Untied States' (did you mean 'US'?)",
        "list.csv:6:3: column 'Location of processing': unknown country 'Atlantis'",
    ]


def test_a_list_with_only_its_header_row_is_refused_unless_allowed(loaded_catalog, tmp_path):
    path = write_csv(tmp_path / "list.csv", VENDOR_LIST)
    ingest_subprocessors(loaded_catalog, path, "cloudco")
    write_csv(path, VENDOR_LIST[:1])
    [error] = rejected(loaded_catalog, path)
    assert error.message == f"nothing to ingest in {path}: no entries read, so this run would retire the 5 entries earlier subprocessors:cloudco runs asserted"
    report = ingest_subprocessors(loaded_catalog, path, "cloudco", allow_empty=True)
    assert report.retired == 5 and parties(loaded_catalog) == {"helpdesk-in": parties(loaded_catalog)["helpdesk-in"]}


def test_an_xlsx_that_is_really_csv_text_says_so(loaded_catalog, tmp_path):
    path = tmp_path / "list.xlsx"
    write_csv(path, VENDOR_LIST)
    [error] = rejected(loaded_catalog, path)
    assert str(error) == "list.xlsx:1: holds CSV text, not an xlsx workbook; rename it to list.csv"


def test_a_missing_file_and_a_directory_are_named_once(loaded_catalog, tmp_path):
    assert [str(e) for e in rejected(loaded_catalog, tmp_path / "nosuch.csv")] == [f"{tmp_path / 'nosuch.csv'}: no such file"]
    assert [str(e) for e in rejected(loaded_catalog, tmp_path)] == [f"{tmp_path}: is a directory; give a file"]


def test_a_file_over_the_size_limit_is_refused_before_parsing(loaded_catalog, tmp_path):
    path = write_csv(tmp_path / "list.csv", VENDOR_LIST)
    assert "over the limit of 100 bytes" in messages(rejected(loaded_catalog, path, max_bytes=100))


@pytest.mark.parametrize("rows, expected", [
    ([["Company address", "Phone"], ["1 Road", "123"]], "no header row found in the first 30 rows"),
    ([["Purpose", "Location"], ["Hosting", "US"]], "required: name"),
])
def test_lists_without_a_recognisable_header_are_refused(loaded_catalog, tmp_path, rows, expected):
    assert expected in messages(rejected(loaded_catalog, write_csv(tmp_path / "list.csv", rows)))


def test_a_truncated_workbook_is_refused(loaded_catalog, tmp_path):
    workbook = Workbook()
    workbook.active.append(["Vendor", "Purpose", "Country"])
    good = tmp_path / "good.xlsx"
    workbook.save(good)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert "broken.xlsx: not a readable xlsx workbook" in messages(rejected(loaded_catalog, broken))
