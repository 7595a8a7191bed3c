"""The ``ropa-sheet`` source: an existing Article 30 spreadsheet, read into processing activities.

Organisations moving to the catalogue usually have a filled-in ICO template, or a home-made sheet
with similar headings. The header row is found among the first 30 rows by its headings (row 9 in
the ICO template and in this project's own export), compared without case or punctuation and
with synonyms; a YAML mapping file names any other heading (``columns: {Finalidad: purpose}``).

Each row becomes one activity: id from business function and purpose, name from the first line of
the purpose. Cells holding several values are split; values that match a taxonomy key or label
become keys, and free text that matches nothing is reported with the nearest key. Columns the
catalogue derives rather than stores (recipients, third countries, locations, rights) are read,
checked and reported, so a person can record the parties and flows behind them. The sheet is the
whole truth for its scope: a row removed from it retires its activity on the next run.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from pydantic import Field, ValidationError

from catalog.jurisdictions import UnknownCountryError, load_jurisdictions
from catalog.record import CONTROLLER_COLUMNS
from catalog.specs import CatalogSpec
from catalog.specs.common import ID_PATTERN, slug, unique_id
from catalog.store import Catalog
from catalog.suggest import nearest
from catalog.taxonomy import TaxonomyKind, load_taxonomy
from catalog.vocab import DpiaProgress
from ingest.base import IngestReport, Source, SourceConfig, apply_and_report
from ingest.errors import IngestError, LocatedError, format_field_path, validation_problems
from ingest.tabular import (
    MAX_FILE_BYTES,
    ColumnVocabulary,
    Table,
    TableRow,
    article9_conditions_in,
    formula_like,
    lawful_bases_in,
    load_column_mapping,
    scoped_source,
    split_cell,
    taxonomy_key_for,
    taxonomy_suggestion,
    read_table,
)

SOURCE_NAME = "ropa-sheet"
DATA_USES_PREFIX = "data uses:"
#: What our own export writes when nothing is recorded; read as empty.
EXPORT_DEFAULTS = {"automated_decision_making": {"no"}, "source_of_data": {"collected from the data subject"}}
ICO_RETENTION_HEADING = next(column.heading for column in CONTROLLER_COLUMNS if column.key == "retention")
DATASET_RETENTION_LINE = re.compile(r"^[^:\n]+ / [^:\n]+: ")
ACTIVITY_ID = re.compile(ID_PATTERN)
#: The regime our export notes after a country that is a third country under one regime only.
REGIME_NOTE = re.compile(r"\s*\((?:UK|EU) GDPR\)$")
YES, NO = {"yes", "y", "true", "required"}, {"no", "n", "false", "not required"}

#: Record columns (catalog.record keys) -> the field each fills here; "derived" columns are recomputed by the catalogue.
_ICO_KEYS = {
    "business_function": "business_function", "purposes": "purpose", "joint_controller": "joint_controller",
    "data_subjects": "data_subjects", "personal_data": "data_categories", "recipients": "recipients",
    "processor_contracts": "derived", "third_countries": "third_countries",
    "exceptional_transfer_safeguards": "transfer_safeguards", "retention": "retention",
    "security_measures": "security_measures", "lawful_basis": "lawful_basis", "article9_condition": "article9_condition",
    "legitimate_interests": "legitimate_interest", "lia_link": "lia_link", "rights": "derived",
    "automated_decision_making": "automated_decision_making", "data_source": "source_of_data",
    "consent_record_link": "consent_record_link", "locations": "derived", "dpia_required": "dpia_required",
    "dpia_progress": "dpia_progress", "dpia_link": "dpia_link", "breach_occurred": "derived",
    "breach_record_link": "breach_record_link", "schedule1_condition": "schedule1_condition",
    "schedule1_lawful_basis": "derived", "retention_policy_link": "retention_policy_link",
    "retention_policy_followed": "retention_policy_followed", "retention_policy_deviation": "retention_policy_deviation",
}

#: Headings of home-made sheets, beside the ICO template's own (compared without case or punctuation).
_SYNONYMS: dict[str, list[str]] = {
    "activity": ["Activity", "Processing activity", "Activity name", "Name of processing activity", "Processing operation"],
    "activity_id": ["Activity id", "Activity reference", "Activity ref"],
    "business_function": ["Department", "Business area", "Business unit", "Function", "Team"],
    "purpose": ["Purpose", "Purposes", "Purposes of processing", "Purpose of the processing", "Processing purpose", "Purpose(s)"],
    "data_subjects": ["Data subjects", "Categories of data subjects", "Data subject categories", "Individuals", "Categories of individuals"],
    "data_categories": ["Personal data", "Data categories", "Categories of data", "Personal data categories", "Categories of personal data", "Data collected"],
    "recipients": ["Recipients", "Categories of recipients", "Recipient categories", "Disclosed to"],
    "third_countries": ["Countries", "Third countries", "International transfers", "Transfers", "Third country transfers", "Transfers to third countries"],
    "transfer_safeguards": ["Safeguards", "Transfer safeguards", "Transfer mechanism"],
    "retention": ["Retention", "Retention period", "Retention schedule", "Time limits for erasure", "How long kept"],
    "security_measures": ["Security measures", "Technical and organisational measures", "TOMs", "Security"],
    "lawful_basis": ["Lawful basis", "Legal basis", "Lawful basis for processing", "Legal basis for processing", "Article 6 lawful basis", "Article 6 basis"],
    "article9_condition": ["Article 9 condition", "Special category condition", "Article 9 basis", "Special category basis"],
    "legitimate_interest": ["Legitimate interest", "Legitimate interests"],
    "lia_link": ["LIA", "Legitimate interests assessment", "LIA link"],
    "automated_decision_making": ["Automated decision-making", "Automated decision making", "Profiling"],
    "source_of_data": ["Source of data", "Source of the personal data", "Data source", "Source"],
    "dpia_required": ["DPIA required", "DPIA required?", "DPIA needed"],
    "dpia_progress": ["DPIA progress", "DPIA status"],
    "dpia_link": ["DPIA link", "Link to DPIA", "DPIA"],
    "consent_record_link": ["Consent record", "Link to consent record"],
    "breach_record_link": ["Breach record", "Link to breach record"],
    "schedule1_condition": ["Schedule 1 condition", "DPA 2018 Schedule 1 condition"],
    "retention_policy_link": ["Retention policy", "Retention policy link"],
    "retention_policy_followed": ["Retention policy followed", "Retained per policy"],
    "retention_policy_deviation": ["Retention policy deviation", "Reasons for not following policy"],
    "joint_controller": ["Joint controller", "Joint controllers"],
    "derived": ["Rights available to individuals", "Location of personal data", "Rights", "Link to contract with processor"],
}


def column_vocabulary() -> ColumnVocabulary:
    """The headings this source knows: the ICO template's, verbatim, then the synonyms above."""
    synonyms: dict[str, list[str]] = {key: [] for key in _SYNONYMS}
    for column in CONTROLLER_COLUMNS:
        synonyms[_ICO_KEYS[column.key]].append(column.heading)
    for key, headings in _SYNONYMS.items():
        synonyms[key].extend(headings)
    return ColumnVocabulary(synonyms, required=("purpose",), hint="or name your headings in a --mapping file")


#: Field names a mapping file may use.
MAPPING_FIELDS = tuple(_SYNONYMS)


class _RowReader:
    """Reads one row into ActivitySpec data, collecting located warnings."""

    def __init__(self, table: Table, warnings: list[LocatedError]):
        self.table, self.warnings = table, warnings
        self.jurisdictions = load_jurisdictions()
        self.taxonomy = load_taxonomy()

    def warn(self, row: TableRow, key: str, message: str, suggestion: str | None = None) -> None:
        self.warnings.append(self.table.at(row, key, message, suggestion))

    def keys(self, row: TableRow, key: str, kind: TaxonomyKind) -> list[str]:
        """Taxonomy keys named in a cell; values naming none are reported with the nearest key."""
        found: list[str] = []
        for value in self._values(self.table.value(row, key)):
            matched = taxonomy_key_for(kind, value)
            if matched is None:
                self.warn(row, key, f"'{value}' matches no {kind.label} key or label: not recorded", taxonomy_suggestion(kind, value))
            elif matched not in found:
                found.append(matched)
        return found

    @staticmethod
    def _values(cell: str) -> list[str]:
        """Values of a list cell: split on lines and semicolons, then on commas unless the piece names a key as a whole."""
        values: list[str] = []
        for piece in split_cell(cell, "\n;"):
            if any(taxonomy_key_for(kind, piece) for kind in TaxonomyKind):
                values.append(piece)
            else:
                values.extend(split_cell(piece, ","))
        return values

    def purposes(self, row: TableRow) -> tuple[list[str], list[str]]:
        """(data use keys, lines of purpose text): 'Data uses: ...' lines (our own export) and lines
        naming a data use become keys; the rest is the purpose in words."""
        uses: list[str] = []
        text: list[str] = []
        for line in split_cell(self.table.value(row, "purpose"), "\n"):
            if line.casefold().startswith(DATA_USES_PREFIX):
                for value in split_cell(line[len(DATA_USES_PREFIX):], ";"):
                    matched = taxonomy_key_for(TaxonomyKind.DATA_USE, value)
                    if matched is None:
                        self.warn(row, "purpose", f"'{value}' matches no data use key or label: not recorded", taxonomy_suggestion(TaxonomyKind.DATA_USE, value))
                    elif matched not in uses:
                        uses.append(matched)
            elif (matched := taxonomy_key_for(TaxonomyKind.DATA_USE, line)) is not None:
                uses.append(matched)
            else:
                text.append(line)
        if text and not uses:
            suggestion = taxonomy_suggestion(TaxonomyKind.DATA_USE, text[0])
            if suggestion:
                self.warn(row, "purpose", "purpose kept as text: it names no data use key", suggestion)
        return uses, text

    def basis(self, row: TableRow, key: str) -> str | None:
        """The one Article 6(1) basis or Article 9(2) condition a cell names; several: the first, with a warning."""
        cell = self.table.value(row, key)
        if not cell:
            return None
        parse, what = (lawful_bases_in, "Article 6(1) lawful basis") if key == "lawful_basis" else (article9_conditions_in, "Article 9(2) condition")
        match = parse(cell)
        if not match.values:
            self.warn(row, key, f"'{cell}' names no {what}: not recorded", match.suggestion)
            return None
        if len(match.values) > 1:
            self.warn(row, key, f"several values named for {what} ({', '.join(match.values)}): '{match.values[0]}' recorded; split the activity per basis")
        return match.values[0]

    def yes_no(self, row: TableRow, key: str) -> bool | None:
        cell = self.table.value(row, key).casefold()
        if not cell:
            return None
        if cell in YES or cell in NO:
            return cell in YES
        self.warn(row, key, f"'{cell}' is not yes or no: not recorded")
        return None

    def dpia_progress(self, row: TableRow) -> str | None:
        cell = self.table.value(row, "dpia_progress")
        if not cell:
            return None
        for progress in DpiaProgress:
            if cell.casefold() in (progress.value, progress.label.casefold()):
                return progress.value
        self.warn(row, "dpia_progress", f"'{cell}' is not a DPIA progress", nearest_label(cell, DpiaProgress))
        return None

    def activity_id(self, row: TableRow, taken: set[str]) -> str | None:
        """The id the sheet gives the activity (our export's 'Activity id' column), so that reading
        the record back finds the same activities; None when there is none, or it cannot be used."""
        ident = self.table.value(row, "activity_id")
        if not ident:
            return None
        if not ACTIVITY_ID.fullmatch(ident):
            self.warn(row, "activity_id", f"'{ident}' is not an activity id (lower-case letters, digits, '-' and '_'): an id is made from the purpose", slug(ident) or None)
            return None
        if ident in taken:
            self.warn(row, "activity_id", f"activity id '{ident}' is on an earlier row too: this row gets an id made from its purpose")
            return None
        taken.add(ident)
        return ident

    def countries(self, row: TableRow) -> None:
        """Third countries named in the sheet: checked and reported, since the record derives them from flows.
        Our export notes the regime under which an adequate country is a third country ('Ireland (UK GDPR)')."""
        codes: list[str] = []
        for value in (REGIME_NOTE.sub("", cell) for cell in split_cell(self.table.value(row, "third_countries"))):
            if self.jurisdictions.region(value) is not None:
                continue
            try:
                codes.append(self.jurisdictions.normalise_country(value))
            except UnknownCountryError as error:
                self.warn(row, "third_countries", f"unknown country '{value}': not recorded", error.suggestion)
        if codes:
            self.warn(row, "third_countries", f"transfers to {', '.join(dict.fromkeys(codes))} are in the sheet; the record derives third countries from flows, so record the recipients there as parties with flows")

    def noted(self, row: TableRow, key: str, what: str) -> None:
        cell = self.table.value(row, key)
        if cell:
            self.warn(row, key, f"{what} '{' '.join(cell.split())[:120]}' not linked: record them as parties (and flows) in a manifest")

    def retention(self, row: TableRow) -> str | None:
        """The activity's retention. In the ICO layout our export adds 'System / dataset: period'
        lines for datasets kept differently; those belong to the datasets and are left out."""
        lines = split_cell(self.table.value(row, "retention"), "\n")
        if "retention" in self.table.columns and self.table.heading("retention") == ICO_RETENTION_HEADING:
            lines = [line for line in lines if not DATASET_RETENTION_LINE.match(line)]
        return "\n".join(lines) or None

    def text(self, row: TableRow, key: str) -> str | None:
        cell = self.table.value(row, key)
        if cell.casefold() in EXPORT_DEFAULTS.get(key, ()):
            return None
        return cell or None


def nearest_label(text: str, enum) -> str | None:
    return nearest(text, [member.value for member in enum] + [member.label for member in enum])


def read_activities(table: Table) -> tuple[list[dict], list[int], list[LocatedError]]:
    """Activity data (ActivitySpec input), the sheet row of each, and warnings."""
    warnings = list(table.warnings)
    reader = _RowReader(table, warnings)
    activities: list[dict] = []
    row_numbers: list[int] = []
    taken: set[str] = set()
    for row in table.rows:
        for key, column in table.columns.items():
            if key != "derived" and formula_like(row.get(column)):
                reader.warn(row, key, "cell starts like a spreadsheet formula: kept as text, never evaluated")
        uses, purpose_lines = reader.purposes(row)
        if not uses and not purpose_lines:
            if any(table.value(row, key) for key in table.columns if key != "derived"):
                reader.warn(row, "purpose", "row has no purpose: skipped")
            continue
        function = table.value(row, "business_function")
        name = table.value(row, "activity") or (purpose_lines[0] if purpose_lines else load_taxonomy().label(TaxonomyKind.DATA_USE, uses[0]))
        ident = reader.activity_id(row, taken)
        if ident is None:
            ident = unique_id(slug(f"{function} {purpose_lines[0] if purpose_lines else name}") or "activity", taken)
        else:
            name = name.removesuffix(f" ({ident})")  # our export names an activity 'Name (id)' where names repeat
        data: dict = {"id": ident, "name": " ".join(name.split()), "purpose": "\n".join(purpose_lines)}
        if function:
            data["business_function"] = function
        optional = {
            "purposes": uses,
            "data_subjects": reader.keys(row, "data_subjects", TaxonomyKind.DATA_SUBJECT),
            "data_categories": reader.keys(row, "data_categories", TaxonomyKind.DATA_CATEGORY),
            "lawful_basis": reader.basis(row, "lawful_basis"),
            "article9_condition": reader.basis(row, "article9_condition"),
            "retention": reader.retention(row),
            "security_measures": split_cell(table.value(row, "security_measures"), "\n;"),
            "legitimate_interest": reader.text(row, "legitimate_interest"),
            "lia_link": reader.text(row, "lia_link"),
            "automated_decision_making": reader.text(row, "automated_decision_making"),
            "source_of_data": reader.text(row, "source_of_data"),
            "consent_record_link": reader.text(row, "consent_record_link"),
            "dpia_required": reader.yes_no(row, "dpia_required"),
            "dpia_progress": reader.dpia_progress(row),
            "dpia_link": reader.text(row, "dpia_link"),
            "breach_record_link": reader.text(row, "breach_record_link"),
            "schedule1_condition": reader.text(row, "schedule1_condition"),
            "retention_policy_link": reader.text(row, "retention_policy_link"),
            "retention_policy_followed": reader.yes_no(row, "retention_policy_followed"),
            "retention_policy_deviation": reader.text(row, "retention_policy_deviation"),
            "transfer_safeguards": reader.text(row, "transfer_safeguards"),
        }
        data.update({key: value for key, value in optional.items() if value not in (None, [], "")})
        reader.countries(row)
        reader.noted(row, "recipients", "recipients")
        reader.noted(row, "joint_controller", "joint controller")
        row_numbers.append(row.number)
        activities.append(data)
    return activities, row_numbers, warnings


def load_ropa_sheet(
    path: Path, *, sheet: str | None = None, mapping: Path | None = None, max_bytes: int = MAX_FILE_BYTES,
) -> tuple[CatalogSpec, dict[tuple, str], list[LocatedError]]:
    """Read a spreadsheet record into a spec of activities; IngestError (file, row, column) on problems."""
    vocabulary = column_vocabulary()
    if mapping is not None:
        vocabulary = vocabulary.with_mapping(load_column_mapping(Path(mapping), MAPPING_FIELDS, max_bytes))
    table = read_table(Path(path), vocabulary, sheet=sheet, max_bytes=max_bytes)
    activities, row_numbers, warnings = read_activities(table)
    try:
        spec = CatalogSpec.model_validate({"activities": activities})
    except ValidationError as error:  # a value no cell check caught, e.g. an over-long text
        raise IngestError(
            LocatedError(problem.message, table.file, row_numbers[problem.loc[1]], field_path=format_field_path(problem.loc[2:]), suggestion=problem.suggestion)
            for problem in validation_problems(error, CatalogSpec)
        ) from None
    refs = {("activities", index): f"{table.file}:{number}" for index, number in enumerate(row_numbers)}
    return spec, refs, warnings


def ingest_ropa_sheet(
    catalog: Catalog, path: Path, *, sheet: str | None = None, mapping: Path | None = None, scope: str | None = None,
    max_bytes: int = MAX_FILE_BYTES, actor: str = "", allow_empty: bool = False,
) -> IngestReport:
    """Ingest one sheet as one run of ``ropa-sheet:<scope>`` (default scope: the file name, and the sheet when given)."""
    started = time.monotonic()
    path = Path(path)
    spec, refs, warnings = load_ropa_sheet(path, sheet=sheet, mapping=mapping, max_bytes=max_bytes)
    scope = slug(scope or (path.stem + (f"-{sheet}" if sheet else ""))) or "sheet"
    return apply_and_report(
        catalog, spec, source=scoped_source(SOURCE_NAME, scope), target=str(path), actor=actor,
        source_refs=refs, warnings=warnings, complete=True, started=started, allow_empty=allow_empty,
    )


class RopaSheetSource(Source):
    """An existing record of processing activities kept as a spreadsheet (ICO template or home-made)."""

    name = SOURCE_NAME
    description = "An existing ROPA spreadsheet (ICO template, this project's export, or a home-made xlsx/CSV): one activity per row."

    class Config(SourceConfig):
        file: Path = Field(description="The spreadsheet: .xlsx or .csv.")
        sheet: str | None = Field(default=None, description="Worksheet to read (default: the first whose header row names a purpose column).")
        mapping: Path | None = Field(default=None, description="YAML file 'columns: {heading: field}' for headings the source does not know.")
        scope: str | None = Field(default=None, description="Provenance scope telling sheets apart (default: the file name, plus the sheet).")
        max_bytes: int = Field(default=MAX_FILE_BYTES, gt=0, description="Refuse files larger than this many bytes, before parsing.")

    def run(self, catalog: Catalog, config: Config, actor: str = "") -> IngestReport:
        return ingest_ropa_sheet(
            catalog, config.file, sheet=config.sheet, mapping=config.mapping, scope=config.scope,
            max_bytes=config.max_bytes, actor=actor, allow_empty=config.allow_empty,
        )
