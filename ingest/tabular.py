"""Reading spreadsheet tables (xlsx and CSV) safely, for the sources that import them.

Existing records and vendors' sub-processor lists arrive as spreadsheets whose header row is not
always the first one, whose headings vary in wording, and whose cells hold several values at
once. This module reads one sheet into rows of text under the headings a source recognises,
without ever evaluating anything:

* the file size is checked before any parsing, and rows and columns are capped while reading, so
  a zip bomb or a runaway sheet stops with a clear error instead of filling memory;
* xlsx is read with openpyxl in read-only mode with cached values (defusedxml guards the XML); a
  formula without a cached value is read as empty with a warning, never evaluated;
* CSV is read with the csv module (delimiter sniffed, UTF-8 with or without BOM); a cell that
  looks like a formula is kept as the text it is.
"""

from __future__ import annotations

import csv
from contextlib import closing
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from catalog.suggest import nearest
from catalog.taxonomy import Taxonomy, TaxonomyKind, load_taxonomy
from catalog.vocab import Article9Condition, LawfulBasis
from ingest.errors import IngestError, LocatedError
from ingest.yaml_source import load_yaml

#: Default limits; sources expose the file limit as an option so tests can use a small one.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 300
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
HEADER_SCAN_ROWS = 30

XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
CSV_DELIMITERS = ",;\t|"
#: Cell text a spreadsheet could take for a formula (see exports.text); kept as text here.
FORMULA_TRIGGERS = ("=", "+", "-", "@")
#: What people type for "nothing here"; read as an empty cell.
BLANK_WORDS = frozenset({"", "n/a", "na", "n.a.", "-", "--", "—", "–", "none", "not applicable", "nil", "null"})

Cell = str  # every cell is read as text; "" when empty


def normalise_heading(text: str) -> str:
    """Case, accents, punctuation and spacing do not matter: 'Purpose(s) of processing:' == 'purposes of processing'."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(character for character in decomposed if not unicodedata.combining(character))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain.casefold()).split())


def heading_variants(text: str) -> set[str]:
    """The heading normalised, and normalised without parenthesised asides ('(if applicable)')."""
    return {normalise_heading(text), normalise_heading(re.sub(r"\([^()]*\)", " ", str(text)))} - {""}


def is_blank(text: str) -> bool:
    """Empty or an N/A-style placeholder."""
    return " ".join(str(text).split()).casefold() in BLANK_WORDS


def split_cell(text: str, separators: str = "\n;,") -> list[str]:
    """The values of a cell holding several (line breaks, semicolons, commas), blanks dropped."""
    if is_blank(text):
        return []
    pattern = "[" + re.escape(separators) + "]"
    return [part.strip() for part in re.split(pattern, text) if not is_blank(part)]


def scoped_source(name: str, scope: str, max_length: int = 40) -> str:
    """The provenance string ``name:scope`` within the catalogue's 40 characters (a long scope is
    shortened with a hash of itself, so two long scopes stay distinct)."""
    value = f"{name}:{scope}"
    if len(value) <= max_length:
        return value
    digest = hashlib.sha1(scope.encode()).hexdigest()[:6]
    return f"{name}:{scope[: max_length - len(name) - 8]}-{digest}"


def check_file(path: Path, max_bytes: int, shown: str | None = None) -> str:
    """The name shown in messages; IngestError when the file is missing, is a directory, or is
    over the size limit (checked before any parsing). A missing file is named by its whole path,
    once."""
    shown = shown or path.name
    if path.is_dir():
        raise IngestError([LocatedError("is a directory; give a file", str(path))])
    if not path.is_file():
        raise IngestError([LocatedError("no such file", str(path))])
    size = path.stat().st_size
    if size > max_bytes:
        raise IngestError([LocatedError(
            f"file is {size:,} bytes, over the limit of {max_bytes:,} bytes; nothing was read (raise the limit with --max-bytes if the file is trusted)",
            shown,
        )])
    return shown


@dataclass(frozen=True)
class TableRow:
    """One data row: its 1-based row number and its cells by column index."""

    number: int  # as a spreadsheet program shows it
    cells: tuple[Cell, ...]

    def get(self, column: int | None) -> Cell:
        return self.cells[column] if column is not None and column < len(self.cells) else ""


@dataclass
class Table:
    """A sheet read as text: its headings, the columns a source recognised, the data rows below the header."""

    file: str  # as shown in messages, with the sheet for a workbook
    header_row: int
    headings: tuple[str, ...]
    columns: dict[str, int]  # field key -> column index
    rows: list[TableRow]
    warnings: list[LocatedError] = field(default_factory=list)

    def heading(self, key: str) -> str:
        return self.headings[self.columns[key]]

    def at(self, row: TableRow, key: str, message: str, suggestion: str | None = None) -> LocatedError:
        """A problem located at one cell: file, row, column number and heading."""
        column = self.columns.get(key)
        return LocatedError(
            message, self.file, row.number, None if column is None else column + 1,
            field_path=f"column '{self.headings[column]}'" if column is not None else "", suggestion=suggestion,
        )

    def value(self, row: TableRow, key: str) -> Cell:
        """The cell under a recognised column; "" when the column is absent or the cell is N/A-style."""
        text = row.get(self.columns.get(key))
        return "" if is_blank(text) else text


# ------------------------------------------------------------------------------------------------
# Column recognition
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnVocabulary:
    """The headings a source knows: field key -> accepted headings (compared normalised)."""

    synonyms: Mapping[str, Iterable[str]]
    required: tuple[str, ...] = ()
    hint: str = ""  # how a person can name other headings, shown when no header row is found

    def lookup(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for key, headings in self.synonyms.items():
            for heading in headings:
                for variant in heading_variants(heading):
                    table.setdefault(variant, key)
        return table

    def with_mapping(self, extra: Mapping[str, str]) -> ColumnVocabulary:
        """This vocabulary plus a mapping file's ``heading -> key`` entries (which win)."""
        synonyms = {key: list(headings) for key, headings in self.synonyms.items()}
        for heading, key in extra.items():
            synonyms.setdefault(key, [])
            synonyms[key].insert(0, heading)
            for other, headings in synonyms.items():  # a mapped heading means only what the mapping says
                if other != key:
                    synonyms[other] = [h for h in headings if heading_variants(h).isdisjoint(heading_variants(heading))]
        return ColumnVocabulary(synonyms, self.required, self.hint)

    def match(self, headings: Iterable[str]) -> dict[str, int]:
        """Recognised columns: key -> index of the first column whose heading names it."""
        lookup, found = self.lookup(), {}
        for index, heading in enumerate(headings):
            for variant in sorted(heading_variants(heading), key=len, reverse=True):
                key = lookup.get(variant)
                if key is not None and key not in found:
                    found[key] = index
                    break
        return found

    def all_headings(self) -> list[str]:
        return [heading for headings in self.synonyms.values() for heading in headings]


def load_column_mapping(path: Path, keys: Iterable[str], max_bytes: int = MAX_FILE_BYTES) -> dict[str, str]:
    """A YAML mapping file ``columns: {heading in the sheet: field key}``; IngestError (file, line,
    nearest key) on unknown keys or a wrong shape. Loaded with the project's safe YAML loader."""
    shown = check_file(path, max_bytes, str(path))
    document = load_yaml(path, shown)
    keys = sorted(keys)
    data = document.data
    if not isinstance(data, dict) or set(data) != {"columns"} or not isinstance(data["columns"], dict):
        raise IngestError([LocatedError(
            "a column mapping file holds one key, 'columns', mapping sheet headings to fields, e.g. 'columns: {Finalidad: purpose}'",
            shown, document.line_of(()),
        )])
    mapping: dict[str, str] = {}
    errors: list[LocatedError] = []
    for heading, key in data["columns"].items():
        line = document.line_of(("columns", heading))
        if not isinstance(heading, str) or not isinstance(key, str):
            errors.append(LocatedError("headings and fields must be text", shown, line, field_path=f"columns.{heading}"))
        elif key not in keys:
            errors.append(LocatedError(
                f"unknown field '{key}' (fields: {', '.join(keys)})", shown, line, field_path=f"columns.{heading}", suggestion=nearest(key, keys),
            ))
        else:
            mapping[heading] = key
    if errors:
        raise IngestError(errors)
    return mapping


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------


def _text(value: Any) -> Cell:
    """A cell value as text: integral numbers without '.0', dates in ISO form, control characters dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def _too_many(shown: str, what: str, limit: int) -> IngestError:
    return IngestError([LocatedError(f"more than {limit:,} {what}: refused (is this the right file?)", shown)])


def _csv_rows(path: Path, shown: str) -> Iterator[tuple[int, list[Cell]]]:
    """Records of a CSV file numbered as a spreadsheet program shows them (a cell with line breaks
    does not shift the rows below it)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise IngestError([LocatedError(f"not UTF-8 text (byte {error.start}); save the file as CSV UTF-8", shown, line)]) from None
    sample = text[:65_536]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record
    except csv.Error as error:
        raise IngestError([LocatedError(f"malformed CSV: {error} (line {reader.line_num})", shown, number + 1)]) from None


#: The first bytes of an Excel 97-2003 workbook (an OLE2 compound file).
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _misnamed(path: Path, shown: str) -> IngestError | None:
    """What a file named .xlsx that openpyxl cannot open really is, when that is plain: CSV or
    other text saved under the wrong name, or an old .xls workbook. None when it looks like a
    damaged workbook."""
    try:
        with path.open("rb") as stream:
            head = stream.read(4096)
    except OSError:
        return None
    if head.startswith(b"PK"):  # a zip: a workbook, damaged
        return None
    if not head.strip():
        return IngestError([LocatedError("is empty, not an xlsx workbook", shown)])
    if head.startswith(OLE2_SIGNATURE):
        return IngestError([LocatedError("an Excel 97-2003 (.xls) workbook, not .xlsx", shown, hint="save it as .xlsx (Excel Workbook) or as CSV")])
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut at the end of what was read
            return None
        text = head[: error.start].decode("utf-8-sig")
    first = text.splitlines()[0] if text.strip() else ""
    if any(delimiter in first for delimiter in CSV_DELIMITERS):
        return IngestError([LocatedError("holds CSV text, not an xlsx workbook", shown, 1, hint=f"rename it to {path.stem}.csv")])
    return IngestError([LocatedError("holds plain text, not an xlsx workbook", shown, 1)])


def _xlsx_sheet_rows(path: Path, shown: str, sheet: str | None, pick: Callable[[list[str], Callable[[str], list[list[Cell]]]], str]) -> tuple[str, Iterator[tuple[int, list[Cell]]], list[LocatedError]]:
    """Rows of one worksheet as text, with formulas never evaluated; without ``sheet``, ``pick``
    chooses one from the names and a function giving a sheet's first rows.

    The workbook is opened twice in read-only mode: once for cached values, once for the cell
    types, so that a formula whose result was never saved is told apart from an empty cell.
    """
    from openpyxl import load_workbook  # openpyxl parses the XML with defusedxml when it is installed

    def unreadable(error: Exception, row: int | None = None) -> IngestError:
        cause = error.__cause__ or error  # openpyxl wraps the XML parser's own reason (e.g. EntitiesForbidden)
        return IngestError([LocatedError(f"not a readable xlsx workbook ({type(cause).__name__}: {cause})", shown, row)])

    try:
        values_book = load_workbook(path, read_only=True, data_only=True)
        formulas_book = load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # BadZipFile, KeyError, InvalidFileException, XML and DTD errors
        raise (_misnamed(path, shown) or unreadable(error)) from None
    names = list(values_book.sheetnames)

    def head(name: str) -> list[list[Cell]]:
        rows = values_book[name].iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS, values_only=True)
        return [[_text(value) for value in row[:MAX_COLUMNS]] for row in rows]

    try:
        if sheet is None:
            sheet = pick(names, head)
        elif sheet not in names:
            raise IngestError([LocatedError(f"no sheet named '{sheet}' (sheets: {', '.join(names)})", shown, suggestion=nearest(sheet, names))])
    except Exception as error:
        values_book.close()
        formulas_book.close()
        if isinstance(error, IngestError):
            raise
        raise unreadable(error) from None
    located = f"{shown}[{sheet}]"
    warnings: list[LocatedError] = []

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        number = 0
        try:
            values = values_book[sheet].iter_rows(min_row=1)
            kinds = formulas_book[sheet].iter_rows(min_row=1)
            for number, (value_row, kind_row) in enumerate(zip(values, kinds), start=1):
                cells: list[Cell] = []
                for value_cell, kind_cell in zip(value_row, kind_row):
                    value = getattr(value_cell, "value", None)
                    if value is None and getattr(kind_cell, "data_type", None) == "f":
                        warnings.append(LocatedError(
                            "formula without a saved value: read as empty, not evaluated (open and save the file in a spreadsheet program to store its values)",
                            located, number, len(cells) + 1,
                        ))
                    cells.append(_text(value))
                while cells and not cells[-1]:
                    cells.pop()
                yield number, cells
        except IngestError:
            raise
        except Exception as error:  # a damaged sheet part found while reading it
            raise unreadable(error, number + 1) from None
        finally:
            values_book.close()
            formulas_book.close()

    return located, rows(), warnings


def read_table(
    path: Path,
    vocabulary: ColumnVocabulary,
    *,
    sheet: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_rows: int = MAX_ROWS,
    min_matches: int = 2,
) -> Table:
    """Read one sheet of an xlsx or CSV file: find the header row (the row among the first 30
    naming most known headings, with every required one), then the data rows below it.

    Without ``sheet``, a workbook's first sheet with such a header row is read. IngestError, with
    nothing read, on a file over ``max_bytes``, an unreadable file, or no header row.
    """
    path = Path(path)
    shown = check_file(path, max_bytes)
    suffix = path.suffix.casefold()

    header = _HeaderRow(vocabulary, min_matches)

    def pick(names: list[str], head: Callable[[str], list[list[Cell]]]) -> str:
        for name in names:
            if header.find(head(name)) is not None:
                return name
        raise IngestError([header.missing(shown)])

    if suffix in XLSX_SUFFIXES:
        located, stream, warnings = _xlsx_sheet_rows(path, shown, sheet, pick)
    elif suffix in CSV_SUFFIXES:
        if sheet is not None:
            raise IngestError([LocatedError("--sheet applies to xlsx workbooks, not CSV files", shown)])
        located, stream, warnings = shown, _csv_rows(path, shown), []
    else:
        raise IngestError([LocatedError(f"unsupported file type '{path.suffix}': use .xlsx or .csv", shown)])

    with closing(stream):
        return _table_from(stream, located, warnings, header, max_rows)


@dataclass(frozen=True)
class _HeaderRow:
    """How the header row is recognised: the row among the first 30 naming most known headings,
    at least ``min_matches`` of them and every required one."""

    vocabulary: ColumnVocabulary
    min_matches: int

    def find(self, rows: list[list[Cell]]) -> tuple[int, dict[str, int]] | None:
        best: tuple[int, dict[str, int]] | None = None
        for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
            found = self.vocabulary.match(cells)
            if len(found) >= self.min_matches and all(key in found for key in self.vocabulary.required):
                if best is None or len(found) > len(best[1]):
                    best = (index, found)
        return best

    def missing(self, where: str) -> LocatedError:
        examples = ", ".join(f"'{h}'" for h in self.vocabulary.all_headings()[:6])
        needed = f"; required: {', '.join(self.vocabulary.required)}" if self.vocabulary.required else ""
        return LocatedError(
            f"no header row found in the first {HEADER_SCAN_ROWS} rows: expected headings such as {examples}{needed}"
            + (f" ({self.vocabulary.hint})" if self.vocabulary.hint else ""), where,
        )


def _table_from(stream: Iterator[tuple[int, list[Cell]]], located: str, warnings: list[LocatedError], header_row: _HeaderRow, max_rows: int) -> Table:
    """The header row among the first rows, then every data row below it, within the limits."""
    scanned: list[tuple[int, list[Cell]]] = []
    for number, cells in stream:
        scanned.append((number, cells))
        if len(scanned) >= HEADER_SCAN_ROWS:
            break
    header = header_row.find([cells for _, cells in scanned])
    if header is None:
        raise IngestError([header_row.missing(located)])
    index, columns = header
    header_number, headings = scanned[index]
    body = scanned[index + 1:]
    rows: list[TableRow] = []
    errors: list[LocatedError] = []

    def take(number: int, cells: list[Cell]) -> None:
        if len(cells) > MAX_COLUMNS:
            raise _too_many(located, "columns", MAX_COLUMNS)
        if all(is_blank(cell) for cell in cells):
            return
        for column, cell in enumerate(cells):
            if len(cell) > MAX_CELL_CHARS:
                errors.append(LocatedError(f"cell holds {len(cell):,} characters, over {MAX_CELL_CHARS:,}", located, number, column + 1))
        rows.append(TableRow(number, tuple(cells)))
        if len(rows) > max_rows:
            raise _too_many(located, "rows", max_rows)

    for number, cells in body:
        take(number, cells)
    for number, cells in stream:
        take(number, cells)
    if errors:
        raise IngestError(errors)
    width = len(headings)
    padded = [TableRow(row.number, row.cells + ("",) * max(0, width - len(row.cells))) for row in rows]
    return Table(located, header_number, tuple(headings), columns, padded, list(warnings))


def formula_like(text: str) -> bool:
    """Text a spreadsheet would run as a formula if it were pasted back; worth a warning, kept as text."""
    return text.startswith(FORMULA_TRIGGERS) and len(text) > 1 and not re.fullmatch(r"[-+]?\d[\d.,\s]*", text)


# ------------------------------------------------------------------------------------------------
# Free text to vocabulary (shared with the fides source, whose legal bases are fixed strings)
# ------------------------------------------------------------------------------------------------

_LAWFUL_LETTERS = {
    "a": LawfulBasis.CONSENT, "b": LawfulBasis.CONTRACT, "c": LawfulBasis.LEGAL_OBLIGATION,
    "d": LawfulBasis.VITAL_INTERESTS, "e": LawfulBasis.PUBLIC_TASK, "f": LawfulBasis.LEGITIMATE_INTERESTS,
    "ea": LawfulBasis.RECOGNISED_LEGITIMATE_INTEREST,
}
#: Words that name a basis, most specific first ('recognised legitimate interest' before 'legitimate interest').
_LAWFUL_WORDS = (
    ("recognised legitimate interest", LawfulBasis.RECOGNISED_LEGITIMATE_INTEREST),
    ("legitimate interest", LawfulBasis.LEGITIMATE_INTERESTS),
    ("legal obligation", LawfulBasis.LEGAL_OBLIGATION),
    ("vital interest", LawfulBasis.VITAL_INTERESTS),
    ("public task", LawfulBasis.PUBLIC_TASK),
    ("public interest", LawfulBasis.PUBLIC_TASK),
    ("official authority", LawfulBasis.PUBLIC_TASK),
    ("contract", LawfulBasis.CONTRACT),
    ("consent", LawfulBasis.CONSENT),
)
_ARTICLE9_WORDS = (
    ("explicit consent", Article9Condition.EXPLICIT_CONSENT),
    ("employment", Article9Condition.EMPLOYMENT_SOCIAL_SECURITY),
    ("social security", Article9Condition.EMPLOYMENT_SOCIAL_SECURITY),
    ("vital interest", Article9Condition.VITAL_INTERESTS),
    ("not for profit", Article9Condition.NOT_FOR_PROFIT),
    ("made public", Article9Condition.MADE_PUBLIC),
    ("legal claim", Article9Condition.LEGAL_CLAIMS),
    ("substantial public interest", Article9Condition.SUBSTANTIAL_PUBLIC_INTEREST),
    ("public health", Article9Condition.PUBLIC_HEALTH),
    ("health or social care", Article9Condition.HEALTH_SOCIAL_CARE),
    ("social care", Article9Condition.HEALTH_SOCIAL_CARE),
    ("medical", Article9Condition.HEALTH_SOCIAL_CARE),
    ("archiving", Article9Condition.ARCHIVING_RESEARCH),
    ("research", Article9Condition.ARCHIVING_RESEARCH),
)


@dataclass(frozen=True)
class VocabularyMatch:
    """What a free-text value was read as: the values found, and a hint when none or several were."""

    values: tuple[str, ...]
    suggestion: str | None = None


def _named_in(text: str, phrases: tuple[tuple[str, Any], ...]) -> list[str]:
    """Values whose phrase occurs in the text, in the order the text names them; a phrase inside a
    longer one already matched (legitimate interest in recognised legitimate interest) is not counted."""
    words = f" {normalise_heading(text)} "
    found: list[tuple[int, str]] = []
    for phrase, member in phrases:
        position = words.find(f" {phrase}")
        if position >= 0:
            found.append((position, member.value))
            words = words.replace(f" {phrase}", " " + "_" * len(phrase))
    return [value for _, value in sorted(found)]


def lawful_bases_in(text: str) -> VocabularyMatch:
    """Article 6(1) bases named in free text: 'Contract (Art 6(1)(b))', '6(1)(f) legitimate interests',
    'Consent', 'Legal obligations'. Article references win over words; several bases may be named."""
    found: list[str] = []
    for letter in re.findall(r"6\s*[(.]?\s*1\s*[).]?\s*[(.]?\s*(ea|[a-f])\b", text.casefold()):
        found.append(_LAWFUL_LETTERS[letter].value)
    if not found:
        found = _named_in(text, _LAWFUL_WORDS)
    labels = {basis.label.casefold(): basis.value for basis in LawfulBasis}
    suggestion = None if found else labels.get(nearest(text.casefold(), labels) or "")
    return VocabularyMatch(tuple(dict.fromkeys(found)), suggestion)


def article9_conditions_in(text: str) -> VocabularyMatch:
    """Article 9(2) conditions named in free text: 'Explicit consent (Art 9(2)(a))', '9(2)(h)', or
    fideslang's wording ('Reasons of substantial public interest (with a basis in law)')."""
    members = list(Article9Condition)
    found = [members["abcdefghij".index(letter)].value for letter in re.findall(r"9\s*[(.]?\s*2\s*[).]?\s*[(.]?\s*([a-j])\b", text.casefold())]
    if not found:
        found = _named_in(text, _ARTICLE9_WORDS)
    labels = {condition.label.casefold(): condition.value for condition in Article9Condition}
    suggestion = None if found else labels.get(nearest(text.casefold(), labels) or "")
    return VocabularyMatch(tuple(dict.fromkeys(found)), suggestion)


@cache
def _labels(taxonomy: Taxonomy, kind: TaxonomyKind) -> dict[str, str]:
    """Casefolded label -> key of one vocabulary, worked out once per taxonomy: markers are looked up per column."""
    return {entry.name.casefold(): key for key, entry in taxonomy.entries(kind).items()}


def taxonomy_key_for(kind: TaxonomyKind, text: str) -> str | None:
    """The taxonomy key a cell value names: the key itself, or a label in any case ('Work email
    address', 'IP Address', 'Customers'); a trailing '(special category, Art 9)' note is ignored."""
    taxonomy = load_taxonomy()
    value = " ".join(str(text).split())
    if taxonomy.get(kind, value) is not None:
        return value
    bare = re.sub(r"\s*\([^()]*\)\s*$", "", value).casefold()
    labels = _labels(taxonomy, kind)
    for candidate in (bare, bare.removesuffix("s"), bare.removesuffix("es")):
        if candidate in labels:
            return labels[candidate]
    return None


def taxonomy_suggestion(kind: TaxonomyKind, text: str) -> str | None:
    """The nearest key to free text: the most general key whose last segment is the text
    ('Email' -> user.contact.email), else the taxonomy's own nearest key."""
    taxonomy = load_taxonomy()
    value = " ".join(str(text).split())
    leaf = normalise_heading(value).replace(" ", "_")
    same_leaf = [key for key in taxonomy.entries(kind) if key.rsplit(".", 1)[-1] == leaf]
    return min(same_leaf, key=lambda key: (key.count("."), key)) if same_leaf else taxonomy.suggest(kind, value)
