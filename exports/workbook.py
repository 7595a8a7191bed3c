"""The Article 30 record as an Excel workbook, laid out like the UK ICO template or the CNIL register.

ICO layout (the default): "Cover" (who keeps the record, regimes, catalogue revision, content
hash, colour key), "Controller record" (ICO controller template: contact block in rows 1-6,
section headings in row 8, the 30 column headings in row 9, one activity per row from row 10),
"Processor record" (Article 30(2), same layout), then the annexes: "International transfers",
"Systems and locations", "Data inventory", "Recipients and sub-processors", "Retention schedule",
"Security measures" and "Taxonomy". A hidden "Lists" sheet holds the drop-down values of the
basis columns. CNIL layout: a "Register" sheet listing the activities, then one sheet per activity.
Every sheet prints landscape, fitted to the page width, with its header rows repeated and a footer
giving the page number and the catalogue revision.

Two properties matter beyond looks:

* No cell is ever a formula. Catalogue text comes from manifests, databases and a web form, so a
  system named ``=HYPERLINK(...)`` must stay text: every string is written as a string cell, and
  text a spreadsheet could take for a formula (leading ``= + - @``, tab, CR) also gets the
  quote-prefix style, the file-format equivalent of typing an apostrophe.
* The same catalogue gives the same file: document properties and zip entry times are fixed
  (or taken from ``record.generated_at``), so regenerated workbooks diff cleanly.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal, get_args
from urllib.parse import urlsplit

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from catalog.record import (
    COLUMN_CHOICES,
    CONTROLLER_COLUMNS,
    INVENTORY_HEADINGS,
    LINK_HEADINGS,
    PROCESSOR_COLUMNS,
    RECIPIENT_HEADINGS,
    RETENTION_HEADINGS,
    SECURITY_HEADINGS,
    SYSTEM_HEADINGS,
    TAXONOMY_HEADINGS,
    TRANSFER_HEADINGS,
    Contact,
    ControllerRow,
    OrganisationContacts,
    Record,
    RecordColumn,
)
from exports.text import spreadsheet_text

COVER_SHEET = "Cover"
CONTROLLER_SHEET = "Controller record"
PROCESSOR_SHEET = "Processor record"
TRANSFERS_SHEET = "International transfers"
SYSTEMS_SHEET = "Systems and locations"
INVENTORY_SHEET = "Data inventory"
RECIPIENTS_SHEET = "Recipients and sub-processors"
RETENTION_SHEET = "Retention schedule"
SECURITY_SHEET = "Security measures"
TAXONOMY_SHEET = "Taxonomy"
LISTS_SHEET = "Lists"
CNIL_REGISTER_SHEET = "Register"

Template = Literal["ico", "cnil"]
TEMPLATES: tuple[str, ...] = get_args(Template)

#: Row layout of the two template sheets (as the ICO template).
CONTACT_FIRST_ROW = 1
SECTION_ROW = 8
HEADING_ROW = 9
FIRST_DATA_ROW = 10

CREATOR = "ropa-catalog"
#: Document time when the record carries none, so unchanged catalogues give unchanged files.
FIXED_DOCUMENT_TIME = datetime(2020, 1, 1)

MIN_WIDTH, MAX_WIDTH, HEADING_WRAP = 10, 60, 20
LINE_HEIGHT, MAX_HEADING_HEIGHT = 15, 150

REQUIRED_FILL = PatternFill("solid", fgColor="C6E0B4")   # green, as the ICO template
OPTIONAL_FILL = PatternFill("solid", fgColor="BDD7EE")   # blue, as the ICO template
SECTION_FILL = PatternFill("solid", fgColor="305496")
TABLE_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
SECTION_FONT = Font(bold=True, color="FFFFFF")
BOLD = Font(bold=True)
THIN = Side(style="thin", color="A6A6A6")
HEADER_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
HEADING_ALIGNMENT = Alignment(wrap_text=True, vertical="top", horizontal="center")
LINK_FONT = Font(color="0563C1", underline="single")
TITLE_FONT = Font(bold=True, size=14)

REQUIRED_LEGEND = "Required by Article 30 or DPA 2018 Sch 1"
OPTIONAL_LEGEND = "Optional (good practice)"

#: Excel refuses these in sheet names, and names longer than 31 characters.
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MAX_SHEET_NAME = 31
#: Names Excel keeps for itself (compared case-insensitively).
RESERVED_SHEET_NAMES = frozenset({"history"})

CONTACT_FIELDS = (("Name", "name"), ("Address", "address"), ("Email", "email"), ("Telephone", "phone"))


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------


def _put(ws: Worksheet, row: int, column: int, value: str | int | None):
    """Write a value so that text always stays text (never a formula, never an error code)."""
    cell = ws.cell(row=row, column=column)
    if value is None or value == "":
        return cell
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        cell.value, formula_like = spreadsheet_text(value)  # XML reads a bare CR as LF anyway
        cell.data_type = "s"  # openpyxl would make '=...' a formula and '#N/A' an error
        if formula_like:
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def web_link(value: object) -> str | None:
    """The value as a link target when it is one http(s) URL and nothing else; None otherwise
    (no javascript:, file: or mailto: targets, no text with spaces around a URL)."""
    if not isinstance(value, str) or any(character.isspace() or character in '"<>' for character in value):
        return None
    parts = urlsplit(value)
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _write_row(ws: Worksheet, row: int, values: Sequence[str | int], link_columns: frozenset[int] = frozenset()) -> None:
    for column, value in enumerate(values, start=1):
        cell = _put(ws, row, column, value)
        cell.alignment = WRAP_TOP
        if column in link_columns and (target := web_link(value)):
            cell.hyperlink, cell.font = target, LINK_FONT


def _link_columns(headings: Sequence[str]) -> frozenset[int]:
    return frozenset(number for number, heading in enumerate(headings, start=1) if heading in LINK_HEADINGS)


def _style_heading(cell, fill: PatternFill) -> None:
    cell.font, cell.fill, cell.alignment, cell.border = BOLD, fill, HEADING_ALIGNMENT, HEADER_BORDER


def _fit_widths(ws: Worksheet, heading_row: int, column_count: int) -> None:
    """Width of each column from its longest line of content, within a cap; headings wrap."""
    widths = [MIN_WIDTH] * column_count
    for row in ws.iter_rows(min_row=heading_row, min_col=1, max_col=column_count):
        for index, cell in enumerate(row):
            if cell.value is None:
                continue
            longest = max(len(line) for line in str(cell.value).split("\n"))
            if cell.row == heading_row:
                longest = min(longest, HEADING_WRAP)
            widths[index] = max(widths[index], min(MAX_WIDTH, longest + 2))
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    heading_lines = [
        math.ceil(len(str(cell.value)) * 1.1 / (widths[index] - 1))
        for index, cell in enumerate(ws[heading_row][:column_count]) if cell.value is not None
    ]
    if max(heading_lines, default=1) > 1:
        ws.row_dimensions[heading_row].height = min(MAX_HEADING_HEIGHT, LINE_HEIGHT * max(heading_lines) + 4)


def _finish_table(ws: Worksheet, heading_row: int, column_count: int, row_count: int) -> None:
    """Freeze the header, put an autofilter on it, fit the widths."""
    last_row = heading_row + max(row_count, 0)
    ws.freeze_panes = ws.cell(row=heading_row + 1, column=1).coordinate
    ws.auto_filter.ref = f"A{heading_row}:{get_column_letter(column_count)}{last_row}"
    _fit_widths(ws, heading_row, column_count)


# --------------------------------------------------------------------------------------------
# Template sheets (controller and processor)
# --------------------------------------------------------------------------------------------


def _contact_block(ws: Worksheet, organisation: OrganisationContacts | None, regimes: Sequence[str]) -> None:
    """Rows 1-6: who keeps the record (Article 30(1)(a)), and the colour key."""
    blocks: list[tuple[str, Contact | None]] = (
        organisation.blocks() if organisation else [("Controller", None), ("Data Protection Officer", None), ("Representative", None)]
    )
    for offset, (title, contact) in enumerate(blocks, start=2):
        _style_heading(_put(ws, CONTACT_FIRST_ROW, offset, title), TABLE_HEADER_FILL)
        for row, (_, attribute) in enumerate(CONTACT_FIELDS, start=CONTACT_FIRST_ROW + 1):
            _put(ws, row, offset, getattr(contact, attribute) if contact else "").alignment = WRAP_TOP
    for row, (label, _) in enumerate(CONTACT_FIELDS, start=CONTACT_FIRST_ROW + 1):
        _put(ws, row, 1, label).font = BOLD
    legend_row = CONTACT_FIRST_ROW + len(CONTACT_FIELDS) + 1
    _put(ws, legend_row, 1, "Key").font = BOLD
    _style_heading(_put(ws, legend_row, 2, REQUIRED_LEGEND), REQUIRED_FILL)
    _style_heading(_put(ws, legend_row, 3, OPTIONAL_LEGEND), OPTIONAL_FILL)
    if regimes:
        _put(ws, legend_row, 4, "Kept under: " + ", ".join(regimes)).alignment = WRAP_TOP


def _column_headings(ws: Worksheet, columns: Sequence[RecordColumn]) -> None:
    """Row 8: section headings merged over their columns; row 9: column headings, coloured by
    whether the law requires them, each with the provision it rests on as a note."""
    start = 0
    while start < len(columns):
        end = start
        while end + 1 < len(columns) and columns[end + 1].section == columns[start].section:
            end += 1
        cell = _put(ws, SECTION_ROW, columns[start].number, columns[start].section)
        cell.font, cell.fill, cell.alignment = SECTION_FONT, SECTION_FILL, HEADING_ALIGNMENT
        if end > start:
            ws.merge_cells(f"{columns[start].letter}{SECTION_ROW}:{columns[end].letter}{SECTION_ROW}")
        start = end + 1
    for column in columns:
        cell = _put(ws, HEADING_ROW, column.number, column.heading)
        _style_heading(cell, REQUIRED_FILL if column.required else OPTIONAL_FILL)
        note = Comment(f"{column.article}\n{'Required' if column.required else 'Optional'}", CREATOR)
        note.width, note.height = 220, 60
        cell.comment = note


def _template_sheet(ws: Worksheet, record: Record, columns: Sequence[RecordColumn], rows: Sequence) -> None:
    _contact_block(ws, record.organisation, record.regime_labels)
    _column_headings(ws, columns)
    links = _link_columns([column.heading for column in columns])
    for offset, row in enumerate(rows):
        _write_row(ws, FIRST_DATA_ROW + offset, row.cells(), links)
    _finish_table(ws, HEADING_ROW, len(columns), len(rows))
    _print_setup(ws, record, f"{SECTION_ROW}:{HEADING_ROW}")


def _table_sheet(ws: Worksheet, record: Record, headings: Sequence[str], rows: Sequence) -> None:
    """A plain table: styled header in row 1, one row per entry."""
    for column, heading in enumerate(headings, start=1):
        _style_heading(_put(ws, 1, column, heading), TABLE_HEADER_FILL)
    links = _link_columns(headings)
    for offset, row in enumerate(rows):
        _write_row(ws, 2 + offset, row.cells(), links)
    _finish_table(ws, 1, len(headings), len(rows))
    _print_setup(ws, record, "1:1")


def _print_setup(ws: Worksheet, record: Record, title_rows: str | None) -> None:
    """Landscape, one page wide, header rows on every page, page numbers and the catalogue
    revision in the footer, so a printed page can be traced to the catalogue state it shows."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.left.text = "Page &P of &N"
    revision = record.revision.text() if record.revision else "no ingest run"
    ws.oddFooter.right.text = f"Catalogue revision: {revision}".replace("&", "&&")


def _choice_lists(workbook: Workbook) -> dict[str, str]:
    """The hidden "Lists" sheet with one column per drop-down; column key -> range reference.

    Excel limits a literal list to 255 characters, which the Article 9 labels exceed, so the
    validations point at cells instead."""
    ws = workbook.create_sheet(LISTS_SHEET)
    ws.sheet_state = "hidden"
    references: dict[str, str] = {}
    columns: dict[tuple[str, ...], str] = {}
    headings = {column.key: column.heading for column in CONTROLLER_COLUMNS}
    for key, choices in COLUMN_CHOICES.items():
        if choices not in columns:
            number = len(columns) + 1
            _put(ws, 1, number, headings[key]).font = BOLD
            for offset, choice in enumerate(choices, start=2):
                _put(ws, offset, number, choice)
            letter = get_column_letter(number)
            columns[choices] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(choices) + 1}"
        references[key] = columns[choices]
    return references


def _basis_validations(ws: Worksheet, references: dict[str, str]) -> None:
    """Drop-downs on the basis columns of the controller sheet, offering the labels its cells use.
    A warning, not a stop: a value outside the list (kept from an import) stays possible."""
    for column in CONTROLLER_COLUMNS:
        if column.key in references:
            validation = DataValidation(
                type="list", formula1=references[column.key], allow_blank=True, showErrorMessage=True,
                errorStyle="warning", errorTitle=column.heading[:32], error="Not one of the listed values.",
            )
            validation.add(f"{column.letter}{FIRST_DATA_ROW}:{column.letter}1048576")
            ws.add_data_validation(validation)


def _cover_sheet(ws: Worksheet, record: Record) -> None:
    """What the record is and which catalogue state it shows, then the colour key."""
    _put(ws, 1, 1, "Record of processing activities (Article 30)").font = TITLE_FONT
    row = 3
    for label, value in record.cover():
        _put(ws, row, 1, label).font = BOLD
        _put(ws, row, 2, value).alignment = WRAP_TOP
        row += 1
    row += 1
    _put(ws, row, 1, "Key").font = BOLD
    _style_heading(_put(ws, row, 2, REQUIRED_LEGEND), REQUIRED_FILL)
    _style_heading(_put(ws, row + 1, 2, OPTIONAL_LEGEND), OPTIONAL_FILL)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 28, 90
    _print_setup(ws, record, None)


# --------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------


class _FixedTimeZipFile(zipfile.ZipFile):
    """A zip whose entries all carry one timestamp, so equal content gives equal bytes."""

    def __init__(self, file, date_time: tuple[int, int, int, int, int, int]):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._date_time = date_time

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._date_time)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as source:
            self.writestr(arcname or Path(filename).name, source.read(), compress_type, compresslevel)


def _document_time(record: Record) -> datetime:
    moment = record.generated_at or FIXED_DOCUMENT_TIME
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _ico_sheets(workbook: Workbook, record: Record) -> None:
    cover = workbook.active
    cover.title = COVER_SHEET
    _cover_sheet(cover, record)
    controller = workbook.create_sheet(CONTROLLER_SHEET)
    _template_sheet(controller, record, CONTROLLER_COLUMNS, record.controller_rows)
    _template_sheet(workbook.create_sheet(PROCESSOR_SHEET), record, PROCESSOR_COLUMNS, record.processor_rows)
    for title, headings, rows in (
        (TRANSFERS_SHEET, TRANSFER_HEADINGS, record.transfer_rows),
        (SYSTEMS_SHEET, SYSTEM_HEADINGS, record.system_rows),
        (INVENTORY_SHEET, INVENTORY_HEADINGS, record.inventory_rows),
        (RECIPIENTS_SHEET, RECIPIENT_HEADINGS, record.recipient_rows),
        (RETENTION_SHEET, RETENTION_HEADINGS, record.retention_rows),
        (SECURITY_SHEET, SECURITY_HEADINGS, record.security_rows),
        (TAXONOMY_SHEET, TAXONOMY_HEADINGS, record.taxonomy_rows),
    ):
        _table_sheet(workbook.create_sheet(title), record, headings, rows)
    _basis_validations(controller, _choice_lists(workbook))


# --------------------------------------------------------------------------------------------
# CNIL register layout
# --------------------------------------------------------------------------------------------

#: Columns of the CNIL register's summary sheet.
CNIL_REGISTER_HEADINGS = ("Activity", "Reference", "Created", "Updated", "Main purpose", "Sensitive data")


def sheet_name(text: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: no []:*?/\\ , no leading or trailing apostrophe, at most 31
    characters, and unique among ``taken`` (case-insensitively, as Excel compares); adds it to ``taken``."""
    base = _SHEET_NAME_FORBIDDEN.sub(" ", text)
    base = re.sub(r"\s+", " ", base).strip().strip("'").strip() or "Sheet"
    name, counter = base[:MAX_SHEET_NAME].rstrip(), 1
    while name.casefold() in taken or name.casefold() in RESERVED_SHEET_NAMES:
        counter += 1
        suffix = f" ({counter})"
        name = base[: MAX_SHEET_NAME - len(suffix)].rstrip() + suffix
    taken.add(name.casefold())
    return name


def _cnil_register(ws: Worksheet, record: Record) -> None:
    """The summary: one line per controller activity, as the CNIL register opens."""
    dates = {entry.activity_id: entry for entry in record.activity_dates}
    rows = []
    for row in record.controller_rows:
        updated = dates.get(row.activity_id)
        rows.append([
            row.activity_name, row.activity_id, "",
            updated.last_asserted_at.date().isoformat() if updated and updated.last_asserted_at else "",
            row.purposes.split("\n", 1)[0], "Yes" if (row.special_category or row.criminal_offence) else "No",
        ])
    for column, heading in enumerate(CNIL_REGISTER_HEADINGS, start=1):
        _style_heading(_put(ws, 1, column, heading), TABLE_HEADER_FILL)
    for offset, cells in enumerate(rows, start=2):
        _write_row(ws, offset, cells)
    _finish_table(ws, 1, len(CNIL_REGISTER_HEADINGS), len(rows))
    _print_setup(ws, record, "1:1")


def _cnil_activity_sections(record: Record, row: ControllerRow) -> list[tuple[str, list[tuple[str, str]]]]:
    """The CNIL activity sheet's sections, each a list of (item, text), from the same Record."""
    organisation = record.organisation
    contact = lambda value: value.text() if value else ""  # noqa: E731
    representatives = [organisation.uk_representative, organisation.eu_representative] if organisation else []
    retention = [
        (f"{entry.category} ({entry.applies_to})" if entry.applies_to != "Processing activity" else entry.category, entry.retention)
        for entry in record.retention_rows if entry.activity_id == row.activity_id
    ]
    return [
        ("Actors", [
            ("Controller", contact(organisation.controller) if organisation else ""),
            ("Data protection officer", contact(organisation.dpo) if organisation else ""),
            ("Representative", "; ".join(contact(item) for item in representatives if item)),
            ("Joint controllers", row.joint_controller),
        ]),
        ("Purposes", [("Main purpose", row.purposes)]),
        ("Categories of personal data and retention periods", retention or [("Categories of personal data", row.personal_data)]),
        ("Sensitive data", [("Special category or criminal offence data", "; ".join(row.sensitive_categories) or "No")]),
        ("Categories of data subjects", [("Data subjects", row.data_subjects)]),
        ("Recipients", [("Recipients", row.recipients), ("Contracts with processors", row.processor_contracts)]),
        ("Security measures", [("Measures", row.security_measures)]),
        ("Transfers outside the EU", [("Countries", row.third_countries), ("Safeguards", row.exceptional_transfer_safeguards)]),
    ]


def _cnil_activity_sheet(ws: Worksheet, record: Record, row: ControllerRow) -> None:
    _put(ws, 1, 1, row.activity_name).font = TITLE_FONT
    _put(ws, 2, 1, "Reference").font = BOLD
    _put(ws, 2, 2, row.activity_id)
    line = 4
    for section, items in _cnil_activity_sections(record, row):
        cell = _put(ws, line, 1, section)
        cell.font, cell.fill = SECTION_FONT, SECTION_FILL
        ws.merge_cells(start_row=line, start_column=1, end_row=line, end_column=2)
        line += 1
        for item, text in items:
            _put(ws, line, 1, item).font = BOLD
            _put(ws, line, 2, text).alignment = WRAP_TOP
            line += 1
        line += 1
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 40, 100
    _print_setup(ws, record, None)


def _cnil_sheets(workbook: Workbook, record: Record) -> None:
    register = workbook.active
    register.title = CNIL_REGISTER_SHEET
    _cnil_register(register, record)
    taken = {CNIL_REGISTER_SHEET.casefold()}
    for row in record.controller_rows:
        _cnil_activity_sheet(workbook.create_sheet(sheet_name(row.activity_name, taken)), record, row)


def build_workbook(record: Record, template: Template = "ico") -> Workbook:
    """The workbook in memory (for callers that add sheets or stream it themselves)."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template '{template}': use one of {', '.join(TEMPLATES)}")
    workbook = Workbook()
    (_ico_sheets if template == "ico" else _cnil_sheets)(workbook, record)

    moment = _document_time(record)
    properties = workbook.properties
    properties.creator = properties.lastModifiedBy = CREATOR
    properties.created = properties.modified = moment
    name = record.organisation.controller.name if record.organisation else ""
    properties.title = f"Record of processing activities{f' - {name}' if name else ''}"
    properties.subject = "Article 30 UK GDPR / GDPR"
    return workbook


def write_workbook(record: Record, destination: Path | BinaryIO, template: Template = "ico") -> None:
    """Write the record as an .xlsx file (a path, or a binary stream such as a download buffer),
    in the ICO layout or the CNIL register layout.

    openpyxl's own ``save`` stamps the current time into the properties and the zip entries;
    writing through ExcelWriter with a fixed-time zip keeps the bytes a function of the record.
    """
    workbook = build_workbook(record, template)
    moment = _document_time(record)
    date_time = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
    target = str(destination) if isinstance(destination, Path) else destination
    archive = _FixedTimeZipFile(target, date_time)
    try:
        ExcelWriter(workbook, archive).save()
    except BaseException:
        archive.close()
        raise
