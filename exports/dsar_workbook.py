"""The DSAR map as an Excel workbook, for the person answering an access or erasure request.

Sheets: "Request" (the subject and category asked about, the activities about them), "Where the
data is" (one row per field, copy or party), "Recipients" (whom the data reaches, and whether
Article 19 asks us to tell them of a correction or erasure) and "Rights to pass on" (rectification,
erasure, restriction: where each applies and whom to tell). Cells are written with the record
workbook's helpers, so catalogue text never becomes a formula (exports.text) and the styling
matches; the file is byte-stable for the same map.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from catalog.dsar import DsarMap
from exports.workbook import (
    BOLD,
    CREATOR,
    FIXED_DOCUMENT_TIME,
    TABLE_HEADER_FILL,
    TITLE_FONT,
    WRAP_TOP,
    _finish_table,
    _FixedTimeZipFile,
    _put,
    _style_heading,
    _write_row,
)

REQUEST_SHEET = "Request"
HOLDINGS_SHEET = "Where the data is"
RECIPIENTS_SHEET = "Recipients"
RIGHTS_SHEET = "Rights to pass on"

HOLDING_HEADINGS = ("Where", "Kind", "How", "Categories", "Countries", "Retention", "Via")
RECIPIENT_HEADINGS = ("Recipient", "Role", "Countries", "Tell of corrections and erasure (Art 19)")
RIGHT_HEADINGS = ("Right", "Article", "Applies to activities", "Recipients to tell (Art 19)")


def _table(ws, headings, rows) -> None:
    for column, heading in enumerate(headings, start=1):
        _style_heading(_put(ws, 1, column, heading), TABLE_HEADER_FILL)
    for offset, values in enumerate(rows):
        _write_row(ws, 2 + offset, values)
    _finish_table(ws, 1, len(headings), len(rows))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def build_dsar_workbook(dsar_map: DsarMap) -> Workbook:
    """The workbook in memory."""
    workbook = Workbook()
    request = workbook.active
    request.title = REQUEST_SHEET
    _put(request, 1, 1, "Data subject request: where the data is").font = TITLE_FONT
    lines = [
        ("Data subject", dsar_map.subject),
        ("Category", dsar_map.category or "All personal data"),
        ("Activities about the subject", ", ".join(dsar_map.activities) or "none recorded"),
        ("Places holding the data", len(dsar_map.holdings)),
        ("Recipients", len(dsar_map.recipients)),
    ]
    for row, (label, value) in enumerate(lines, start=3):
        _put(request, row, 1, label).font = BOLD
        _put(request, row, 2, value).alignment = WRAP_TOP
    request.column_dimensions["A"].width, request.column_dimensions["B"].width = 30, 90

    _table(workbook.create_sheet(HOLDINGS_SHEET), HOLDING_HEADINGS, [
        (h["where"], h["kind"], h["how"], h["categories"], h["countries"], h["retention"], h["via"]) for h in dsar_map.as_rows()
    ])
    _table(workbook.create_sheet(RECIPIENTS_SHEET), RECIPIENT_HEADINGS, [
        (r.name, r.role.replace("_", " "), ", ".join(r.countries), "Yes" if r.notify else "No") for r in dsar_map.recipients
    ])
    _table(workbook.create_sheet(RIGHTS_SHEET), RIGHT_HEADINGS, [
        (r.name, r.article, ", ".join(r.activities) or "-", ", ".join(r.notify) or "-") for r in dsar_map.rights
    ])
    properties = workbook.properties
    properties.creator = properties.lastModifiedBy = CREATOR
    properties.created = properties.modified = FIXED_DOCUMENT_TIME
    properties.title = f"Data subject request map - {dsar_map.subject}"
    return workbook


def write_dsar_workbook(dsar_map: DsarMap, dest: Path | BinaryIO) -> None:
    """Write the DSAR map as an .xlsx file (a path or a binary stream); same map, same bytes."""
    workbook = build_dsar_workbook(dsar_map)
    moment = FIXED_DOCUMENT_TIME
    archive = _FixedTimeZipFile(str(dest) if isinstance(dest, Path) else dest, (moment.year, moment.month, moment.day, 0, 0, 0))
    try:
        ExcelWriter(workbook, archive).save()
    except BaseException:
        archive.close()
        raise
