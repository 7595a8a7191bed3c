"""The workbook: ICO layout read back with openpyxl, no formulas ever, stable bytes."""

from __future__ import annotations

import dataclasses
import io
import pickle
import re
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from catalog.apply import apply_spec
from catalog.record import (
    CONTROLLER_COLUMNS,
    CONTROLLER_SECTIONS,
    PROCESSOR_COLUMNS,
    SECTION_CATALOGUE,
    TRANSFER_HEADINGS,
    Record,
    build_record,
)
from catalog.specs import CatalogSpec
from exports.workbook import (
    CNIL_REGISTER_SHEET,
    CONTROLLER_SHEET,
    COVER_SHEET,
    INVENTORY_SHEET,
    LISTS_SHEET,
    OPTIONAL_COLOUR,
    PROCESSOR_SHEET,
    RECIPIENTS_SHEET,
    REQUIRED_COLOUR,
    RETENTION_SHEET,
    SECURITY_SHEET,
    SYSTEMS_SHEET,
    TAXONOMY_SHEET,
    TRANSFERS_SHEET,
    sheet_name,
    write_workbook,
)
from tests.factories import small_spec_data

#: A generation time for tests that compare files: without one the workbook says when it was written.
FIXED_TIME = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def _record(catalog, **kwargs) -> Record:
    with catalog.session() as session:
        return build_record(session, **kwargs)


@pytest.fixture
def workbook_path(loaded_catalog, tmp_path):
    path = tmp_path / "ropa.xlsx"
    write_workbook(_record(loaded_catalog), path)
    return path


def _sheet_xml(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist() if name.startswith("xl/worksheets/sheet")}


def test_sheets(workbook_path):
    workbook = load_workbook(workbook_path)
    assert workbook.sheetnames == [
        COVER_SHEET, CONTROLLER_SHEET, PROCESSOR_SHEET, TRANSFERS_SHEET, SYSTEMS_SHEET, INVENTORY_SHEET,
        RECIPIENTS_SHEET, RETENTION_SHEET, SECURITY_SHEET, TAXONOMY_SHEET, LISTS_SHEET,
    ]
    assert CONTROLLER_SHEET == "Controller record" and SYSTEMS_SHEET == "Systems and locations"
    assert [ws.title for ws in workbook if ws.sheet_state == "hidden"] == [LISTS_SHEET]


def test_controller_sheet_is_laid_out_as_the_ico_template(workbook_path):
    ws = load_workbook(workbook_path)[CONTROLLER_SHEET]
    # contact block, rows 1-6
    assert [ws.cell(row, 1).value for row in range(2, 6)] == ["Name", "Address", "Email", "Telephone"]
    assert (ws["B1"].value, ws["C1"].value, ws["D1"].value) == ("Controller", "Data Protection Officer", "Representative")
    assert (ws["B2"].value, ws["B4"].value, ws["C2"].value) == ("Acme IT Ltd", "privacy@acme.example", "Dee Pio")
    assert ws["A6"].value == "Key" and ws["D6"].value == "Kept under: UK GDPR, EU GDPR"
    # row 9: the 30 headings in order, A..AD
    assert [ws.cell(9, n).value for n in range(1, 31)] == [c.heading for c in CONTROLLER_COLUMNS]
    assert ws["AD9"].value == "Reasons for not adhering to policy document (if applicable)"
    # after the template: the activity, named as the annex sheets name it
    assert (ws["AE8"].value, ws["AE9"].value, ws["AE10"].value) == (SECTION_CATALOGUE, "Processing activity", "Client management")
    assert (ws["AF9"].value, ws["AF10"].value, ws["AG9"].value) == ("Activity id", "client-management", None)  # what reading it back keys on
    # row 8: section headings, merged across their columns
    first_of_section = {}
    for column in CONTROLLER_COLUMNS:
        first_of_section.setdefault(column.section, column.letter)
    assert [ws[f"{letter}8"].value for letter in first_of_section.values()] == list(CONTROLLER_SECTIONS)
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A8:K8", "L8:R8", "U8:W8", "X8:Y8", "Z8:AD8"} <= merged
    # one data row per controller activity, from row 10
    assert ws["A10"].value == "Sales" and ws["L10"].value == "Contract (Art 6(1)(b))"
    assert "Cloudco Inc (United States)" in ws["F10"].value  # countries by name, as elsewhere
    assert ws.max_row == 10
    assert ws.freeze_panes == "A10"
    assert ws.auto_filter.ref == "A9:AF10"
    assert ws["B10"].alignment.wrap_text


def test_required_headings_are_styled_apart(workbook_path):
    ws = load_workbook(workbook_path)[CONTROLLER_SHEET]
    fill = lambda cell: ws[cell].fill.fgColor.rgb[-6:]  # noqa: E731
    required, optional = REQUIRED_COLOUR[1:], OPTIONAL_COLOUR[1:]
    assert required != optional
    for column in CONTROLLER_COLUMNS:
        assert fill(f"{column.letter}9") == (required if column.required else optional), column.heading
    assert ws["A9"].font.b
    assert fill("AE9") == optional  # not an ICO template column
    assert (fill("B6"), fill("C6")) == (required, optional)  # the legend
    assert ws["B9"].comment.text.startswith("Art 30(1)(b)")


def test_widths_are_fitted_within_a_cap(workbook_path):
    ws = load_workbook(workbook_path)[CONTROLLER_SHEET]
    widths = [ws.column_dimensions[c.letter].width for c in CONTROLLER_COLUMNS]
    assert all(10 <= int(width) <= 60 for width in widths)  # Excel stores a width with the cell padding (+0.71 for Calibri 11)
    assert ws.column_dimensions["F"].width > ws.column_dimensions["X"].width  # recipients text vs "No"
    assert ws.row_dimensions[9].height > 2 * 15  # the long headings wrap onto several lines


def test_processor_transfer_and_system_sheets(workbook_path):
    workbook = load_workbook(workbook_path)
    processors = workbook[PROCESSOR_SHEET]
    # Art 30(2)(a): the organisation keeping this record is the processor; the rows are its controllers
    assert (processors["B1"].value, processors["B2"].value) == ("Processor", "Acme IT Ltd")
    assert load_workbook(workbook_path)[CONTROLLER_SHEET]["B1"].value == "Controller"
    assert [processors.cell(9, n).value for n in range(1, len(PROCESSOR_COLUMNS) + 1)] == [c.heading for c in PROCESSOR_COLUMNS]
    assert processors.max_row == 10 and processors["A10"].value.startswith("Client A plc")
    assert processors.freeze_panes == "A10"
    transfers = workbook[TRANSFERS_SHEET]
    assert [cell.value for cell in transfers[1]] == list(TRANSFER_HEADINGS)
    assert transfers.freeze_panes == "A2" and transfers.auto_filter.ref == f"A1:O{transfers.max_row}"
    flows = [row[0].value for row in transfers.iter_rows(min_row=2)]
    assert "crm-helpdesk" in flows and "crm-cloudco>helpdesk-in" in flows
    systems = workbook[SYSTEMS_SHEET]
    assert [row[0].value for row in systems.iter_rows(min_row=2)] == ["Backup vault", "CRM", "Client hosting"]
    assert systems["F3"].value == 1 and systems["F3"].data_type == "n"


def test_document_properties_and_bytes_are_stable(loaded_catalog, tmp_path):
    """The same record written with the same time gives the same bytes (tests and as-of exports rely on it)."""
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_workbook(_record(loaded_catalog), first, generated_at=FIXED_TIME)
    write_workbook(_record(loaded_catalog), second, generated_at=FIXED_TIME)
    assert first.read_bytes() == second.read_bytes()
    properties = load_workbook(first).properties
    assert properties.creator == "ropa-catalog"
    assert properties.created == properties.modified == datetime(2026, 11, 25, 9, 30)


def test_a_record_of_now_says_when_it_was_written(loaded_catalog, tmp_path):
    """`ropa export ropa`, `ropa demo` and the dashboard download build a record of now (no
    generated_at, so a record the dashboard keeps can be written later): the writer's clock."""
    before = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    write_workbook(_record(loaded_catalog), tmp_path / "now.xlsx")
    after = datetime.now(UTC).replace(tzinfo=None)
    workbook = load_workbook(tmp_path / "now.xlsx")
    assert before <= workbook.properties.created <= after
    cover = {row[0]: row[1] for row in _table(workbook[COVER_SHEET]) if row[0]}
    assert cover["Generated at"] == workbook.properties.created.isoformat() + "Z"


def test_generation_time_and_streams(loaded_catalog, tmp_path):
    moment = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    record = _record(loaded_catalog, generated_at=moment)
    buffer = io.BytesIO()
    write_workbook(record, buffer)
    properties = load_workbook(io.BytesIO(buffer.getvalue())).properties
    assert properties.created == properties.modified == datetime(2026, 11, 25, 9, 30)
    write_workbook(record, tmp_path / "file.xlsx")
    assert buffer.getvalue() == (tmp_path / "file.xlsx").read_bytes()  # a download gets the same bytes as a file


@dataclasses.dataclass(frozen=True)
class _Unreadable:
    def cells(self):
        raise RuntimeError("cannot read this row")


def test_a_failed_export_leaves_no_temporary_files(loaded_catalog, tmp_path, monkeypatch):
    """Rows wait in temporary files until the workbook is assembled; a failure must not leave them behind."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    record = dataclasses.replace(_record(loaded_catalog), inventory_rows=(_Unreadable(),))
    with pytest.raises(RuntimeError, match="cannot read this row"):
        write_workbook(record, io.BytesIO())
    assert list(scratch.iterdir()) == []


# ---- formula injection -------------------------------------------------------------------------

HOSTILE_NAME = '=HYPERLINK("http://x","y")'


@pytest.fixture
def hostile_workbook(catalog, tmp_path):
    data = small_spec_data()
    data["systems"][0]["name"] = HOSTILE_NAME
    data["systems"][0]["owner_team"] = "+44 sales"
    data["activities"][0]["purpose"] = "@SUM(A1:A9)"
    data["activities"][0]["business_function"] = "-1+2"
    data["activities"][0]["retention"] = "#N/A"
    data["parties"][0]["contract_ref"] = "\tDPA\x07-2024"
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
    path = tmp_path / "hostile.xlsx"
    write_workbook(_record(catalog), path)
    return path


def test_text_that_looks_like_a_formula_stays_text(hostile_workbook):
    workbook = load_workbook(hostile_workbook)
    systems = workbook[SYSTEMS_SHEET]
    cell = next(row[0] for row in systems.iter_rows(min_row=2) if row[0].value == HOSTILE_NAME)
    assert cell.data_type == "s" and cell.quotePrefix
    controller = workbook[CONTROLLER_SHEET]
    assert HOSTILE_NAME in controller["T10"].value  # location of personal data names the system
    assert controller["T10"].data_type == "s"
    assert (controller["A10"].value, controller["A10"].data_type, controller["A10"].quotePrefix) == ("-1+2", "s", True)
    assert controller["B10"].value.startswith("@SUM") and controller["B10"].quotePrefix
    assert (controller["J10"].value, controller["J10"].data_type) == ("#N/A", "s")  # not an error cell
    assert "Cloudco Inc: DPA-2024" in controller["G10"].value  # control character dropped, not refused
    for name, xml in _sheet_xml(hostile_workbook).items():
        assert not re.search(r"<f[ >/]", xml), f"{name} has a formula"
        assert 't="e"' not in xml


@pytest.mark.parametrize("text", ["\t=1+1", "\r=cmd", "+SUM(1)", "=1", "-", "@x"])
def test_every_formula_trigger_gets_a_quote_prefix(loaded_catalog, tmp_path, text):
    """Leading tab and CR cannot come through a manifest (specs strip whitespace), so set them on the row."""
    record = _record(loaded_catalog)
    row = dataclasses.replace(record.controller_rows[0], business_function=text)
    path = tmp_path / "trigger.xlsx"
    write_workbook(dataclasses.replace(record, controller_rows=(row,)), path)
    cell = load_workbook(path)[CONTROLLER_SHEET]["A10"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (text.replace("\r", "\n"), "s", True)
    assert not any(re.search(r"<f[ >/]", xml) for xml in _sheet_xml(path).values())


def test_text_shaped_like_xml_markup_is_escaped(loaded_catalog, tmp_path):
    """XlsxWriter would copy a string between <r> and </r> into the sheet unescaped (as rich text)."""
    markup = '<r><t>x</t></r></is></c><c r="B10"><f>1+1</f></c><c r="C10" t="inlineStr"><is><r><t>y</t></r>'
    record = _record(loaded_catalog)
    row = dataclasses.replace(record.controller_rows[0], business_function=markup)
    path = tmp_path / "markup.xlsx"
    write_workbook(dataclasses.replace(record, controller_rows=(row,)), path)
    cell = load_workbook(path)[CONTROLLER_SHEET]["A10"]
    assert (cell.value, cell.data_type) == (markup, "s")
    assert not any(re.search(r"<f[ >/]", xml) for xml in _sheet_xml(path).values())


# ---- cover, annexes and presentation -------------------------------------------------------------


def _table(ws) -> list[tuple]:
    return [row for row in ws.iter_rows(values_only=True)]


def test_cover_names_the_record_and_its_catalogue_state(loaded_catalog, tmp_path):
    record = _record(loaded_catalog, generated_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    path = tmp_path / "cover.xlsx"
    write_workbook(record, path)
    workbook = load_workbook(path)
    assert workbook.active.title == COVER_SHEET
    values = {row[0]: row[1] for row in _table(workbook[COVER_SHEET]) if row[0]}
    assert values["Organisation"].startswith("Acme IT Ltd")
    assert values["Data Protection Officer"] == "Dee Pio, dpo@acme.example"
    assert values["UK representative"].startswith("Not applicable (organisation established in United Kingdom")
    assert values["EU representative"] == "Not recorded"
    assert values["Regimes covered"] == "UK GDPR, EU GDPR"
    assert values["Generated at"] == "2026-11-25T09:30:00Z"
    assert values["Catalogue revision"].startswith(f"revision {record.revision.revision} (")
    assert values["Content SHA-256"] == record.content_sha256 and re.fullmatch(r"[0-9a-f]{64}", record.content_sha256)
    legend = next(row for row in workbook[COVER_SHEET].iter_rows() if row[0].value == "Key")
    fill = legend[1].fill.fgColor.rgb[-6:]
    assert legend[1].value.startswith("Required") and fill == REQUIRED_COLOUR[1:]


def test_annex_sheets(workbook_path):
    workbook = load_workbook(workbook_path)
    inventory = _table(workbook[INVENTORY_SHEET])
    assert inventory[0][:5] == ("System", "Dataset", "Field", "Category key", "Category of personal data")
    assert ("CRM", "contacts", "sort_code", "user.financial.bank_account", "Bank Account Information", None, "manifest", None) in inventory
    recipients = {row[0]: row for row in _table(workbook[RECIPIENTS_SHEET])[1:]}
    assert recipients["Helpdesk India Pvt"] == ("Helpdesk India Pvt", "Sub-processor", "India", None, "Cloudco Inc")
    assert "Client A plc" not in recipients  # a client we act for, not a recipient
    retention = _table(workbook[RETENTION_SHEET])[1:]
    assert ("Client management", "Name", "user.name", "6 years after contract end", "Processing activity") in retention
    security = _table(workbook[SECURITY_SHEET])
    assert security[0] == ("Scope", "Processing activity or system", "Id", "Security measure")
    assert ("System", "CRM", "crm", None) in security  # no measure on record shows as a blank
    taxonomy = {row[1]: row for row in _table(workbook[TAXONOMY_SHEET])[1:]}
    assert taxonomy["customer"][0] == "Data subject" and taxonomy["user.name"][2:] == ("Name", "User's real name.", "fideslang")
    assert "essential.service" in taxonomy


def test_basis_columns_offer_the_labels_their_cells_use(workbook_path):
    workbook = load_workbook(workbook_path)
    controller = workbook[CONTROLLER_SHEET]
    validations = {str(v.sqref): v for v in controller.data_validations.dataValidation}
    assert set(validations) == {"L10:L1048576", "M10:M1048576", "AA10:AA1048576"}
    lists = workbook[LISTS_SHEET]
    article6 = validations["L10:L1048576"]
    assert article6.type == "list" and article6.formula1 == "'Lists'!$A$2:$A$8"
    offered = [lists.cell(row, 1).value for row in range(2, 9)]
    assert controller["L10"].value in offered and "Public task (Art 6(1)(e))" in offered
    article9 = [cell.value for cell in lists["B"][1:] if cell.value]
    assert validations["M10:M1048576"].formula1 == f"'Lists'!$B$2:$B${len(article9) + 1}"
    assert "Health or social care (Art 9(2)(h))" in article9


def test_link_cells_holding_a_url_become_hyperlinks(catalog, tmp_path):
    data = small_spec_data()
    data["activities"][0].update(dpia_link="https://dpia.example/1", lia_link="javascript:alert(1)", consent_record_link="see https://x.example")
    data["parties"][0]["contract_ref"] = "http://contracts.example/dpa"
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
    path = tmp_path / "links.xlsx"
    write_workbook(_record(catalog), path)
    workbook = load_workbook(path)
    controller = workbook[CONTROLLER_SHEET]
    assert controller["W10"].hyperlink.target == "https://dpia.example/1"
    assert controller["O10"].value == "javascript:alert(1)" and controller["O10"].hyperlink is None
    assert controller["S10"].hyperlink is None  # text around a URL is not a link
    assert controller["B10"].hyperlink is None  # not a link column
    recipients = workbook[RECIPIENTS_SHEET]
    cloudco = next(row for row in recipients.iter_rows(min_row=2) if row[0].value == "Cloudco Inc")
    assert cloudco[3].hyperlink.target == "http://contracts.example/dpa"


def test_every_sheet_prints_landscape_one_page_wide_with_titles_and_footer(workbook_path):
    workbook = load_workbook(workbook_path)
    for ws in workbook:
        if ws.sheet_state == "hidden":
            continue
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth in (None, 1)  # absent means 1 page wide (ECMA-376 default)
        assert (ws.page_setup.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage, ws.page_setup.paperSize) == (0, True, 9)
        assert ws.oddFooter.left.text == "Page &P of &N"
        assert re.match(r"Catalogue revision: revision \d+ \(", ws.oddFooter.right.text)
    assert workbook[CONTROLLER_SHEET].print_title_rows == "$8:$9"
    assert workbook[TRANSFERS_SHEET].print_title_rows == "$1:$1"


# ---- CNIL layout -------------------------------------------------------------------------------


def test_cnil_layout_from_the_same_record(loaded_catalog, tmp_path):
    record = _record(loaded_catalog)
    path = tmp_path / "cnil.xlsx"
    write_workbook(record, path, template="cnil")
    workbook = load_workbook(path)
    assert workbook.sheetnames == [CNIL_REGISTER_SHEET, "Client management"]
    register = _table(workbook[CNIL_REGISTER_SHEET])
    assert register[0] == ("Activity", "Reference", "Created", "Updated", "Main purpose", "Sensitive data")
    name, reference, created, updated, purpose, sensitive = register[1]
    assert (name, reference, created, purpose, sensitive) == ("Client management", "client-management", None, "Manage client contracts", "No")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", updated)
    sheet = {row[0]: row[1] for row in _table(workbook["Client management"]) if row[0]}
    for section in ("Actors", "Purposes", "Categories of personal data and retention periods", "Sensitive data",
                    "Categories of data subjects", "Recipients", "Security measures", "Transfers outside the EU"):
        assert section in sheet
    assert sheet["Reference"] == "client-management" and sheet["Data protection officer"] == "Dee Pio, dpo@acme.example"
    assert sheet["Name"] == sheet["User Contact Email"] == "6 years after contract end"
    assert "Bank Account Information" not in sheet  # held in the CRM, declared by no activity
    assert sheet["Countries"] == record.controller_rows[0].third_countries and "Ireland (UK GDPR)" in sheet["Countries"]
    assert not any(re.search(r"<f[ >/]", xml) for xml in _sheet_xml(path).values())


def test_cnil_activity_sheets_get_valid_unique_names(loaded_catalog, tmp_path):
    record = _record(loaded_catalog)
    row = record.controller_rows[0]
    hostile = [dataclasses.replace(row, activity_name=name, activity_id=f"a{i}") for i, name in enumerate(
        ["Payroll [UK]: 2024/25 *draft?*", "Payroll [UK]: 2024/25 *draft?*", "'Quoted'", "x" * 40, "x" * 40, "Register"]
    )]
    path = tmp_path / "cnil.xlsx"
    write_workbook(dataclasses.replace(record, controller_rows=tuple(hostile)), path, template="cnil")
    names = load_workbook(path).sheetnames
    assert names == [
        "Register", "Payroll UK 2024 25 draft", "Payroll UK 2024 25 draft (2)", "Quoted", "x" * 31, "x" * 27 + " (2)", "Register (2)",
    ]


def test_a_register_of_many_activities_needs_few_open_files(loaded_catalog, tmp_path):
    """One sheet per activity: each sheet's row file is closed once the sheet is written, so a
    register of more activities than the process may open files still writes (limit set to 200)."""
    record = _record(loaded_catalog)
    first = record.controller_rows[0]
    rows = tuple(dataclasses.replace(first, activity_name=f"Activity {n}", activity_id=f"a{n}") for n in range(300))
    (tmp_path / "record.pickle").write_bytes(pickle.dumps(dataclasses.replace(record, controller_rows=rows)))
    script = (
        "import pickle, resource, sys\n"
        "from pathlib import Path\n"
        "from exports.workbook import write_workbook\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (200, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))\n"
        "folder = Path(sys.argv[1])\n"
        "write_workbook(pickle.loads((folder / 'record.pickle').read_bytes()), folder / 'cnil.xlsx', template='cnil')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=300)
    names = load_workbook(tmp_path / "cnil.xlsx", read_only=True).sheetnames
    assert len(names) == 301 and names[-1] == "Activity 299"


def test_sheet_names():
    taken: set[str] = set()
    assert sheet_name("a/b\\c", taken) == "a b c"
    assert sheet_name("A B C", taken) == "A B C (2)"  # Excel compares names case-insensitively
    assert sheet_name("***", taken) == "Sheet"
    assert sheet_name("History", taken) == "History (2)"  # reserved by Excel
    assert all(len(name) <= 31 for name in taken)


def test_unknown_template_is_refused(loaded_catalog, tmp_path):
    with pytest.raises(ValueError, match="unknown template 'fr'"):
        write_workbook(_record(loaded_catalog), tmp_path / "x.xlsx", template="fr")
