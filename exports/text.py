"""Making catalogue text safe for spreadsheets, shared by every tabular export.

Catalogue text comes from manifests, databases and a web form, so a system named
``=HYPERLINK(...)`` must never become a formula in Excel or LibreOffice, whether it arrives in an
.xlsx cell or through a CSV import. Each format marks such text its own way (the workbook with the
quote-prefix style, CSV with a leading apostrophe); this module decides which text needs it.
"""

from __future__ import annotations

import re

#: Leading characters that make a spreadsheet (or a CSV import of it) read text as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Control characters XML 1.0 cannot hold (openpyxl refuses them); dropped from every export.
_ILLEGAL_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def spreadsheet_text(value: object) -> tuple[str, bool]:
    """The text to store (control characters dropped, CR as LF) and whether a spreadsheet could
    take it for a formula (judged before CR becomes LF, so ``\\r=cmd`` counts)."""
    text = _ILLEGAL_CONTROL.sub("", str(value))
    return text.replace("\r\n", "\n").replace("\r", "\n"), text.startswith(FORMULA_TRIGGERS)
