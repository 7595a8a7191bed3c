"""The Article 30 record as an Excel workbook, laid out like the UK ICO template or the CNIL register.

ICO layout (the default): "Cover" (who keeps the record, regimes, generation time, catalogue
revision, content hash, colour key), "Controller record" (ICO controller template: contact block
in rows 1-6, section headings in row 8, the 30 column headings in row 9, one activity per row from
row 10, then columns AE and AF naming the activity as the annex sheets do and giving its id), "Processor record" (Article
30(2), same layout, the organisation's block titled "Processor"), then the annexes: "International transfers",
"Systems and locations", "Data inventory", "Recipients and sub-processors", "Retention schedule",
"Security measures" and "Taxonomy". A hidden "Lists" sheet holds the drop-down values of the
basis columns. CNIL layout: a "Register" sheet listing the activities, then one sheet per activity.
Every sheet prints landscape, fitted to the page width, with its header rows repeated and a footer
giving the page number and the catalogue revision.

Workbooks are written with XlsxWriter in constant-memory mode: each row goes to a temporary file
as soon as the next one starts, so a million-row data inventory takes no more memory than ten rows.
The price is that every sheet is written top to bottom, row by row (column widths, which depend on
all rows, are measured in a first pass). :class:`WorkbookWriter` holds that machinery and the cell
rules for every workbook the project writes (the DSAR workbook uses it too).

Two properties matter beyond looks:

* No cell is ever a formula. Catalogue text comes from manifests, databases and a web form, so a
  system named ``=HYPERLINK(...)`` must stay text: every string is written as a string cell, and
  text a spreadsheet could take for a formula (leading ``= + - @``, tab, CR) also gets the
  quote-prefix style, the file-format equivalent of typing an apostrophe.
* The cover and the document properties say when the record was generated: the record's own
  moment when it shows a past state (``--as-of``), else the time given to :func:`write_workbook`,
  else the time of writing. The same record written at the same time gives the same bytes
  (XlsxWriter fixes the zip entry times), so tests and as-of exports compare files; the content
  SHA-256 on the cover identifies the content whatever the time.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import BinaryIO, Literal, get_args
from urllib.parse import urlsplit

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from catalog.record import (
    COLUMN_CHOICES,
    CONTROLLER_COLUMNS,
    CONTROLLER_SHEET_COLUMNS,
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
    column_letter,
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

#: Row layout of the two template sheets (as the ICO template), in Excel's row numbers (from 1;
#: XlsxWriter counts rows and columns from 0).
CONTACT_FIRST_ROW = 1
SECTION_ROW = 8
HEADING_ROW = 9
FIRST_DATA_ROW = 10
LAST_EXCEL_ROW = 1_048_576

CREATOR = "ropa-catalog"
#: Document time of workbooks that show no moment of their own (the DSAR map), so the same map
#: gives the same file. The record workbook says when it was generated instead.
FIXED_DOCUMENT_TIME = datetime(2020, 1, 1)

MIN_WIDTH, MAX_WIDTH, HEADING_WRAP = 10, 60, 20
LINE_HEIGHT, MAX_HEADING_HEIGHT = 15, 150
#: Comment boxes of the column headings, in pixels.
NOTE_WIDTH, NOTE_HEIGHT = 293, 80
PAPER_A4 = 9
#: Excel's limits: characters of a link target, links per sheet.
MAX_URL_LENGTH, MAX_LINKS_PER_SHEET = 2079, 65_530

REQUIRED_COLOUR = "#C6E0B4"   # green, as the ICO template
OPTIONAL_COLOUR = "#BDD7EE"   # blue, as the ICO template
SECTION_COLOUR = "#305496"
TABLE_HEADER_COLOUR = "#D9E1F2"
LINK_COLOUR = "#0563C1"
BORDER_COLOUR = "#A6A6A6"

_WRAP_TOP = {"text_wrap": True, "valign": "top"}
_HEADING = {**_WRAP_TOP, "align": "center", "bold": True, "border": 1, "border_color": BORDER_COLOUR, "pattern": 1}
#: Cell styles by name, as XlsxWriter format properties (each workbook makes its own formats).
STYLES: dict[str, dict[str, object]] = {
    "plain": {},
    "text": _WRAP_TOP,
    "link": {**_WRAP_TOP, "font_color": LINK_COLOUR, "underline": 1},
    "bold": {"bold": True},
    "title": {"bold": True, "font_size": 14},
    "band": {"bold": True, "font_color": "#FFFFFF", "bg_color": SECTION_COLOUR, "pattern": 1},
    "section": {**_WRAP_TOP, "align": "center", "bold": True, "font_color": "#FFFFFF", "bg_color": SECTION_COLOUR, "pattern": 1},
    "required": {**_HEADING, "bg_color": REQUIRED_COLOUR},
    "optional": {**_HEADING, "bg_color": OPTIONAL_COLOUR},
    "table heading": {**_HEADING, "bg_color": TABLE_HEADER_COLOUR},
}

REQUIRED_LEGEND = "Required by Article 30 or DPA 2018 Sch 1"
OPTIONAL_LEGEND = "Optional (good practice)"

#: Excel refuses these in sheet names, and names longer than 31 characters.
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MAX_SHEET_NAME = 31
#: Names Excel keeps for itself (compared case-insensitively).
RESERVED_SHEET_NAMES = frozenset({"history"})

CONTACT_FIELDS = (("Name", "name"), ("Address", "address"), ("Email", "email"), ("Telephone", "phone"))


# --------------------------------------------------------------------------------------------
# Writing cells
# --------------------------------------------------------------------------------------------


def web_link(value: object) -> str | None:
    """The value as a link target when it is one http(s) URL and nothing else, short enough for
    Excel; None otherwise (no javascript:, file: or mailto: targets, no text with spaces around a URL)."""
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH or any(character.isspace() or character in '"<>' for character in value):
        return None
    parts = urlsplit(value)
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


class _PlainTextWorksheet(Worksheet):
    """A worksheet whose strings are always escaped text.

    In constant-memory mode XlsxWriter copies a string that starts with ``<r>`` and ends with
    ``</r>`` into the sheet XML unescaped, taking it for rich text; catalogue text shaped like that
    could then inject cells or formulas. This project writes no rich text, so such a string is
    escaped like any other (it has no edge whitespace to preserve)."""

    def _xml_rich_inline_string(self, string, attributes=()):
        self._xml_inline_string(string, False, list(attributes))


class WorkbookWriter:
    """One .xlsx being written row by row, with its formats and the rule that keeps text text."""

    def __init__(self, stream: BinaryIO, temporary_folder: str):
        self.book = xlsxwriter.Workbook(stream, {
            "constant_memory": True, "tmpdir": temporary_folder, "use_zip64": True,
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        })
        self._formats: dict[tuple[str, bool], Format] = {}
        self._sheets: list[Worksheet] = []

    def format(self, style: str, quoted: bool = False) -> Format:
        """The workbook's format for a style, optionally with the quote prefix."""
        key = (style, quoted)
        if key not in self._formats:
            self._formats[key] = self.book.add_format({**STYLES[style], "quote_prefix": True} if quoted else STYLES[style])
        return self._formats[key]

    def add_sheet(self, name: str) -> Worksheet:
        """A new sheet after the others. The previous sheet, written by now, closes its row file:
        XlsxWriter would keep one open per sheet until the end, and a CNIL register of thousands
        of activities would run out of file handles (the packager reopens it)."""
        if self._sheets:
            self._sheets[-1]._opt_close()
        sheet = self.book.add_worksheet(name, worksheet_class=_PlainTextWorksheet)
        self._sheets.append(sheet)
        return sheet

    def put(self, ws: Worksheet, row: int, column: int, value: object, style: str = "text") -> None:
        """Write a value (row and column from 0) so that text always stays text: a string cell,
        never a formula or an error code, quote-prefixed when a spreadsheet could evaluate it."""
        if value is None or value == "":
            return
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(row, column, value, self.format(style))
            return
        text, formula_like = spreadsheet_text(value)
        if text:
            ws.write_string(row, column, text, self.format(style, formula_like))

    def write_rows(self, ws: Worksheet, first_row: int, rows: Iterable[Sequence[object]], link_columns: frozenset[int]) -> None:
        """Rows of cells from ``first_row``; a link column's cell holding a web link becomes a hyperlink."""
        for row, values in enumerate(rows, start=first_row):
            for column, value in enumerate(values):
                if column in link_columns and (target := web_link(value)) and ws.hlink_count < MAX_LINKS_PER_SHEET:
                    ws.write_url(row, column, target, self.format("link"), target)
                else:
                    self.put(ws, row, column, value)

    def write_labels(self, ws: Worksheet, first_row: int, lines: Iterable[tuple[str, object]]) -> int:
        """(label, value) lines: the label bold in column A, the value in B; returns the next row."""
        row = first_row
        for label, value in lines:
            self.put(ws, row, 0, label, "bold")
            self.put(ws, row, 1, value)
            row += 1
        return row

    def write_table(
        self, ws: Worksheet, heading_row: int, headings: Sequence[str], rows: Sequence[Sequence[object]],
        heading_styles: Sequence[str] | None = None, notes: Sequence[str] = (),
    ) -> None:
        """Headings in ``heading_row`` (from 0), then one row per entry; the header frozen, an
        autofilter on it, widths fitted to the content. ``rows`` is read twice (widths, then cells)."""
        widths = fitted_widths(headings, rows)
        for column, heading in enumerate(headings):
            self.put(ws, heading_row, column, heading, heading_styles[column] if heading_styles else "table heading")
        for column, note in enumerate(notes):
            ws.write_comment(heading_row, column, note, {"author": CREATOR, "width": NOTE_WIDTH, "height": NOTE_HEIGHT})
        if height := heading_height(headings, widths):
            ws.set_row(heading_row, height)
        links = frozenset(column for column, heading in enumerate(headings) if heading in LINK_HEADINGS)
        self.write_rows(ws, heading_row + 1, rows, links)
        ws.freeze_panes(heading_row + 1, 0)
        ws.autofilter(heading_row, 0, heading_row + len(rows), len(headings) - 1)
        for column, width in enumerate(widths):
            ws.set_column(column, column, width)

    def table_sheet(self, name: str, headings: Sequence[str], rows: Sequence[Sequence[object]], footer: str | None = None) -> Worksheet:
        """A plain table: styled header in row 1, one row per entry, printed with the header on every page."""
        ws = self.add_sheet(name)
        self.write_table(ws, 0, headings, rows)
        print_setup(ws, (0, 0), footer)
        return ws

    def discard(self) -> None:
        """Close the sheets' row files of a workbook that will not be finished."""
        for sheet in self._sheets:
            sheet._opt_close()


def fitted_widths(headings: Sequence[str], rows: Iterable[Sequence[object]]) -> list[int]:
    """Width of each column from its longest line of content, within a cap; headings count up to
    HEADING_WRAP characters, as they wrap."""
    longest = [min(HEADING_WRAP, max(map(len, heading.split("\n")))) for heading in headings]
    for values in rows:
        for column, value in enumerate(values):
            if value is None:
                continue
            text = value if value.__class__ is str else str(value)
            length = len(text) if "\n" not in text else max(map(len, text.split("\n")))
            if length > longest[column]:
                longest[column] = length
    return [max(MIN_WIDTH, min(MAX_WIDTH, length + 2)) for length in longest]


def heading_height(headings: Sequence[str], widths: Sequence[int]) -> float | None:
    """Height of a heading row whose headings wrap onto several lines at these widths; None for one line."""
    lines = max((math.ceil(len(heading) * 1.1 / (width - 1)) for heading, width in zip(headings, widths) if heading), default=1)
    return min(MAX_HEADING_HEIGHT, LINE_HEIGHT * lines + 4) if lines > 1 else None


def print_setup(ws: Worksheet, title_rows: tuple[int, int] | None, footer: str | None) -> None:
    """Landscape A4, one page wide, ``title_rows`` (from 0) on every page, page numbers on the
    left of the footer and ``footer`` on the right, so a printed page can be traced to what it shows."""
    ws.set_landscape()
    ws.set_paper(PAPER_A4)
    ws.fit_to_pages(1, 0)
    if title_rows:
        ws.repeat_rows(*title_rows)
    ws.set_footer("&LPage &P of &N" + (f"&R{footer.replace('&', '&&')}" if footer else ""))


class RowCells(Sequence):
    """The cells of record rows, computed on each read: the inventory is too long to hold twice."""

    def __init__(self, rows: Sequence):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        return self.rows[index].cells()

    def __iter__(self) -> Iterator[list]:
        return (row.cells() for row in self.rows)


@contextmanager
def _binary_stream(destination: str | os.PathLike | BinaryIO) -> Iterator[BinaryIO]:
    if isinstance(destination, (str, os.PathLike)):
        with open(destination, "wb") as stream:
            yield stream
    else:
        yield destination


@contextmanager
def open_workbook(destination: str | os.PathLike | BinaryIO, created: datetime, title: str, subject: str = "") -> Iterator[WorkbookWriter]:
    """A :class:`WorkbookWriter` onto a path or a binary stream (a download buffer); the file is
    complete when the block ends. The rows wait in a private temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ropa-xlsx-") as folder, _binary_stream(destination) as stream:
        writer = WorkbookWriter(stream, folder)
        writer.book.set_properties({"title": title, "subject": subject, "author": CREATOR, "created": created})
        try:
            yield writer
        except BaseException:
            writer.discard()
            raise
        writer.book.close()


# --------------------------------------------------------------------------------------------
# Template sheets (controller and processor)
# --------------------------------------------------------------------------------------------


def _revision_footer(record: Record) -> str:
    return f"Catalogue revision: {record.revision.text() if record.revision else 'no ingest run'}"


def _contact_block(
    writer: WorkbookWriter, ws: Worksheet, organisation: OrganisationContacts | None, regimes: Sequence[str], role: str,
) -> None:
    """Rows 1-6: who keeps the record, as ``role`` (the controller, Art 30(1)(a); the processor,
    Art 30(2)(a)), its DPO and representative, then the colour key."""
    blocks: list[tuple[str, Contact | None]] = (
        organisation.blocks(role) if organisation else [(role, None), ("Data Protection Officer", None), ("Representative", None)]
    )
    top = CONTACT_FIRST_ROW - 1
    for column, (title, _) in enumerate(blocks, start=1):
        writer.put(ws, top, column, title, "table heading")
    for row, (label, attribute) in enumerate(CONTACT_FIELDS, start=top + 1):
        writer.put(ws, row, 0, label, "bold")
        for column, (_, contact) in enumerate(blocks, start=1):
            writer.put(ws, row, column, getattr(contact, attribute) if contact else "")
    legend_row = top + len(CONTACT_FIELDS) + 1
    writer.put(ws, legend_row, 0, "Key", "bold")
    writer.put(ws, legend_row, 1, REQUIRED_LEGEND, "required")
    writer.put(ws, legend_row, 2, OPTIONAL_LEGEND, "optional")
    if regimes:
        writer.put(ws, legend_row, 3, "Kept under: " + ", ".join(regimes))


def _section_headings(writer: WorkbookWriter, ws: Worksheet, columns: Sequence[RecordColumn]) -> None:
    """Row 8: section headings merged over their columns."""
    row, start = SECTION_ROW - 1, 0
    while start < len(columns):
        end = start
        while end + 1 < len(columns) and columns[end + 1].section == columns[start].section:
            end += 1
        if end > start:
            ws.merge_range(row, start, row, end, "", writer.format("section"))
        writer.put(ws, row, start, columns[start].section, "section")
        start = end + 1


def _template_sheet(
    writer: WorkbookWriter, name: str, record: Record, columns: Sequence[RecordColumn], rows: Sequence, role: str,
) -> Worksheet:
    """Contact block, section headings, then the column headings in row 9, coloured by whether the
    law requires them, each with the provision it rests on as a note, and one row per entry."""
    ws = writer.add_sheet(name)
    _contact_block(writer, ws, record.organisation, record.regime_labels, role)
    _section_headings(writer, ws, columns)
    writer.write_table(
        ws, HEADING_ROW - 1, [column.heading for column in columns], RowCells(rows),
        heading_styles=["required" if column.required else "optional" for column in columns],
        notes=[f"{column.article}\n{'Required' if column.required else 'Optional'}" for column in columns],
    )
    print_setup(ws, (SECTION_ROW - 1, HEADING_ROW - 1), _revision_footer(record))
    return ws


def _choice_lists(writer: WorkbookWriter) -> dict[str, str]:
    """The hidden "Lists" sheet with one column per drop-down; column key -> range reference.

    Excel limits a literal list to 255 characters, which the Article 9 labels exceed, so the
    validations point at cells instead."""
    ws = writer.add_sheet(LISTS_SHEET)
    ws.hide()
    headings = {column.key: column.heading for column in CONTROLLER_COLUMNS}
    lists: dict[tuple[str, ...], int] = {}
    for key, choices in COLUMN_CHOICES.items():
        if choices not in lists:
            writer.put(ws, 0, len(lists), headings[key], "bold")
            lists[choices] = len(lists)
    for row, choices in enumerate(_columns_as_rows(list(lists)), start=1):
        for column, choice in enumerate(choices):
            writer.put(ws, row, column, choice, "plain")
    references = {}
    for key, choices in COLUMN_CHOICES.items():
        letter = column_letter(lists[choices] + 1)
        references[key] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(choices) + 1}"
    return references


def _columns_as_rows(columns: Sequence[Sequence[str]]) -> list[list[str]]:
    """Lists side by side as rows (a sheet is written row by row); shorter lists end in blanks."""
    return [[column[row] if row < len(column) else "" for column in columns] for row in range(max(map(len, columns), default=0))]


def _basis_validations(ws: Worksheet, references: dict[str, str]) -> None:
    """Drop-downs on the basis columns of the controller sheet, offering the labels its cells use.
    A warning, not a stop: a value outside the list (kept from an import) stays possible."""
    for column in CONTROLLER_COLUMNS:
        if column.key in references:
            ws.data_validation(FIRST_DATA_ROW - 1, column.number - 1, LAST_EXCEL_ROW - 1, column.number - 1, {
                "validate": "list", "source": f"={references[column.key]}", "ignore_blank": True,
                "error_type": "warning", "error_title": column.heading[:32], "error_message": "Not one of the listed values.",
            })


def _cover_sheet(writer: WorkbookWriter, record: Record, generated_at: datetime) -> None:
    """What the record is, when it was generated and which catalogue state it shows, then the colour key."""
    ws = writer.add_sheet(COVER_SHEET)
    writer.put(ws, 0, 0, "Record of processing activities (Article 30)", "title")
    row = writer.write_labels(ws, 2, record.cover(generated_at)) + 1
    writer.put(ws, row, 0, "Key", "bold")
    writer.put(ws, row, 1, REQUIRED_LEGEND, "required")
    writer.put(ws, row + 1, 1, OPTIONAL_LEGEND, "optional")
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 90)
    print_setup(ws, None, _revision_footer(record))


def _ico_sheets(writer: WorkbookWriter, record: Record, generated_at: datetime) -> None:
    _cover_sheet(writer, record, generated_at)
    controller = _template_sheet(writer, CONTROLLER_SHEET, record, CONTROLLER_SHEET_COLUMNS, record.controller_rows, "Controller")
    _template_sheet(writer, PROCESSOR_SHEET, record, PROCESSOR_COLUMNS, record.processor_rows, "Processor")
    for title, headings, rows in (
        (TRANSFERS_SHEET, TRANSFER_HEADINGS, record.transfer_rows),
        (SYSTEMS_SHEET, SYSTEM_HEADINGS, record.system_rows),
        (INVENTORY_SHEET, INVENTORY_HEADINGS, record.inventory_rows),
        (RECIPIENTS_SHEET, RECIPIENT_HEADINGS, record.recipient_rows),
        (RETENTION_SHEET, RETENTION_HEADINGS, record.retention_rows),
        (SECURITY_SHEET, SECURITY_HEADINGS, record.security_rows),
        (TAXONOMY_SHEET, TAXONOMY_HEADINGS, record.taxonomy_rows),
    ):
        writer.table_sheet(title, headings, RowCells(rows), _revision_footer(record))
    _basis_validations(controller, _choice_lists(writer))


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


def _cnil_register(writer: WorkbookWriter, record: Record) -> None:
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
    writer.table_sheet(CNIL_REGISTER_SHEET, CNIL_REGISTER_HEADINGS, rows, _revision_footer(record))


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


def _cnil_activity_sheet(writer: WorkbookWriter, name: str, record: Record, row: ControllerRow) -> None:
    ws = writer.add_sheet(name)
    writer.put(ws, 0, 0, row.activity_name, "title")
    writer.put(ws, 1, 0, "Reference", "bold")
    writer.put(ws, 1, 1, row.activity_id, "plain")
    line = 3
    for section, items in _cnil_activity_sections(record, row):
        ws.merge_range(line, 0, line, 1, "", writer.format("band"))
        writer.put(ws, line, 0, section, "band")
        line = writer.write_labels(ws, line + 1, items) + 1
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 100)
    print_setup(ws, None, _revision_footer(record))


def _cnil_sheets(writer: WorkbookWriter, record: Record) -> None:
    _cnil_register(writer, record)
    taken = {CNIL_REGISTER_SHEET.casefold()}
    for row in record.controller_rows:
        _cnil_activity_sheet(writer, sheet_name(row.activity_name, taken), record, row)


# --------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------


def _document_time(record: Record, generated_at: datetime | None = None) -> datetime:
    """When the record was generated, as naive UTC to the second (XlsxWriter writes it as UTC):
    the moment a past-state record shows, else ``generated_at``, else now."""
    moment = record.generated_at or generated_at or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def write_workbook(
    record: Record, destination: str | os.PathLike | BinaryIO, template: Template = "ico", generated_at: datetime | None = None,
) -> None:
    """Write the record as an .xlsx file (a path, or a binary stream such as a download buffer),
    in the ICO layout or the CNIL register layout. The cover and the document properties give the
    generation time (see :func:`_document_time`); pass ``generated_at`` for reproducible bytes."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template '{template}': use one of {', '.join(TEMPLATES)}")
    name = record.organisation.controller.name if record.organisation else ""
    title = f"Record of processing activities{f' - {name}' if name else ''}"
    moment = _document_time(record, generated_at)
    with open_workbook(destination, moment, title, "Article 30 UK GDPR / GDPR") as writer:
        if template == "ico":
            _ico_sheets(writer, record, moment)
        else:
            _cnil_sheets(writer, record)
