"""The Article 30 record as an Excel workbook laid out like the UK ICO documentation template.

Sheets: "Controller record" (ICO controller template: contact block in rows 1-6, section headings
in row 8, the 30 column headings in row 9, one activity per row from row 10), "Processor record"
(Article 30(2), same layout), "International transfers" and "Systems and locations".

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
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from catalog.record import (
    CONTROLLER_COLUMNS,
    PROCESSOR_COLUMNS,
    SYSTEM_HEADINGS,
    TRANSFER_HEADINGS,
    Contact,
    OrganisationContacts,
    Record,
    RecordColumn,
)

CONTROLLER_SHEET = "Controller record"
PROCESSOR_SHEET = "Processor record"
TRANSFERS_SHEET = "International transfers"
SYSTEMS_SHEET = "Systems and locations"

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

#: Leading characters that make a spreadsheet (or a CSV import of it) read text as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Control characters XML 1.0 cannot hold; openpyxl refuses them, so they are dropped.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

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
        text = _ILLEGAL_XML.sub("", str(value))
        cell.value = text.replace("\r\n", "\n").replace("\r", "\n")  # XML reads a bare CR as LF anyway
        cell.data_type = "s"  # openpyxl would make '=...' a formula and '#N/A' an error
        if text.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def _write_row(ws: Worksheet, row: int, values: Sequence[str | int]) -> None:
    for column, value in enumerate(values, start=1):
        _put(ws, row, column, value).alignment = WRAP_TOP


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
    _style_heading(_put(ws, legend_row, 2, "Required by Article 30 or DPA 2018 Sch 1"), REQUIRED_FILL)
    _style_heading(_put(ws, legend_row, 3, "Optional (good practice)"), OPTIONAL_FILL)
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
    for offset, row in enumerate(rows):
        _write_row(ws, FIRST_DATA_ROW + offset, row.cells())
    _finish_table(ws, HEADING_ROW, len(columns), len(rows))


def _table_sheet(ws: Worksheet, headings: Sequence[str], rows: Sequence) -> None:
    """A plain table: styled header in row 1, one row per entry."""
    for column, heading in enumerate(headings, start=1):
        _style_heading(_put(ws, 1, column, heading), TABLE_HEADER_FILL)
    for offset, row in enumerate(rows):
        _write_row(ws, 2 + offset, row.cells())
    _finish_table(ws, 1, len(headings), len(rows))


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


def build_workbook(record: Record) -> Workbook:
    """The workbook in memory (for callers that add sheets or stream it themselves)."""
    workbook = Workbook()
    controller = workbook.active
    controller.title = CONTROLLER_SHEET
    _template_sheet(controller, record, CONTROLLER_COLUMNS, record.controller_rows)
    _template_sheet(workbook.create_sheet(PROCESSOR_SHEET), record, PROCESSOR_COLUMNS, record.processor_rows)
    _table_sheet(workbook.create_sheet(TRANSFERS_SHEET), TRANSFER_HEADINGS, record.transfer_rows)
    _table_sheet(workbook.create_sheet(SYSTEMS_SHEET), SYSTEM_HEADINGS, record.system_rows)

    moment = _document_time(record)
    properties = workbook.properties
    properties.creator = properties.lastModifiedBy = CREATOR
    properties.created = properties.modified = moment
    name = record.organisation.controller.name if record.organisation else ""
    properties.title = f"Record of processing activities{f' - {name}' if name else ''}"
    properties.subject = "Article 30 UK GDPR / GDPR"
    return workbook


def write_workbook(record: Record, destination: Path | BinaryIO) -> None:
    """Write the record as an .xlsx file (a path, or a binary stream such as a download buffer).

    openpyxl's own ``save`` stamps the current time into the properties and the zip entries;
    writing through ExcelWriter with a fixed-time zip keeps the bytes a function of the record.
    """
    workbook = build_workbook(record)
    moment = _document_time(record)
    date_time = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
    target = str(destination) if isinstance(destination, Path) else destination
    archive = _FixedTimeZipFile(target, date_time)
    try:
        ExcelWriter(workbook, archive).save()
    except BaseException:
        archive.close()
        raise
