"""The DSAR map as an Excel workbook, for the person answering an access or erasure request.

Sheets: "Request" (the subject and category asked about, the activities about them), "Where the
data is" (one row per field, copy or party), "Recipients" (whom the data reaches, and whether
Article 19 asks us to tell them of a correction or erasure) and "Rights to pass on" (rectification,
erasure, restriction: where each applies and whom to tell). Written with the record workbook's
:class:`~exports.workbook.WorkbookWriter`, so catalogue text never becomes a formula and the
styling matches; the file is byte-stable for the same map.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from catalog.dsar import DsarMap
from exports.workbook import FIXED_DOCUMENT_TIME, open_workbook

REQUEST_SHEET = "Request"
HOLDINGS_SHEET = "Where the data is"
RECIPIENTS_SHEET = "Recipients"
RIGHTS_SHEET = "Rights to pass on"

HOLDING_HEADINGS = ("Where", "Kind", "How", "Categories", "Countries", "Retention", "Via")
RECIPIENT_HEADINGS = ("Recipient", "Role", "Countries", "Tell of corrections and erasure (Art 19)")
RIGHT_HEADINGS = ("Right", "Article", "Applies to activities", "Recipients to tell (Art 19)")


def write_dsar_workbook(dsar_map: DsarMap, dest: str | os.PathLike | BinaryIO) -> None:
    """Write the DSAR map as an .xlsx file (a path or a binary stream); same map, same bytes."""
    with open_workbook(dest, FIXED_DOCUMENT_TIME, f"Data subject request map - {dsar_map.subject}") as writer:
        request = writer.add_sheet(REQUEST_SHEET)
        writer.put(request, 0, 0, "Data subject request: where the data is", "title")
        writer.write_labels(request, 2, [
            ("Data subject", dsar_map.subject),
            ("Category", dsar_map.category or "All personal data"),
            ("Activities about the subject", ", ".join(dsar_map.activities) or "none recorded"),
            ("Places holding the data", len(dsar_map.holdings)),
            ("Recipients", len(dsar_map.recipients)),
        ])
        request.set_column(0, 0, 30)
        request.set_column(1, 1, 90)

        writer.table_sheet(HOLDINGS_SHEET, HOLDING_HEADINGS, [
            (h["where"], h["kind"], h["how"], h["categories"], h["countries"], h["retention"], h["via"]) for h in dsar_map.as_rows()
        ])
        writer.table_sheet(RECIPIENTS_SHEET, RECIPIENT_HEADINGS, [
            (r.name, r.role.replace("_", " "), ", ".join(r.countries), "Yes" if r.notify else "No") for r in dsar_map.recipients
        ])
        writer.table_sheet(RIGHTS_SHEET, RIGHT_HEADINGS, [
            (r.name, r.article, ", ".join(r.activities) or "-", ", ".join(r.notify) or "-") for r in dsar_map.rights
        ])
