"""The ``subprocessors`` source: a vendor's published sub-processor list, as parties under the vendor.

Processors publish their sub-processors as tables (CSV, or a spreadsheet) whose headings vary:
"Sub-processor" / "Entity name" / "Vendor"; "Purpose" / "Service" / "Nature of processing";
"Location" / "Country" / "Data location", often naming several countries or regions in one cell.
Each row becomes a party with role sub_processor whose parent is the processor, so the onward
transfers from the processor to its sub-processors show in the graph and the transfer register.

The list is the whole truth for its processor: the source is ``subprocessors:<processor id>``
and a sub-processor the vendor drops is retired on the next run.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from pydantic import Field, ValidationError
from sqlmodel import select

from catalog.jurisdictions import UnknownCountryError, load_jurisdictions
from catalog.models import Party
from catalog.specs import CatalogSpec
from catalog.specs.common import slug
from catalog.store import Catalog
from catalog.suggest import nearest
from catalog.vocab import PartyRole, TransferMechanism
from ingest.base import IngestReport, Source, SourceConfig, apply_and_report
from ingest.errors import IngestError, LocatedError, format_field_path, validation_problems
from ingest.tabular import (
    MAX_FILE_BYTES,
    ColumnVocabulary,
    Table,
    TableRow,
    formula_like,
    read_table,
    scoped_source,
    split_cell,
)

SOURCE_NAME = "subprocessors"

VOCABULARY = ColumnVocabulary(
    {
        "name": ["Sub-processor", "Subprocessor", "Sub-processors", "Subprocessors", "Sub processor", "Entity name", "Entity",
                 "Third party", "Third-party", "Vendor", "Provider", "Company", "Name", "Legal entity"],
        "purpose": ["Purpose", "Service", "Services", "Nature of processing", "Description", "Processing activities",
                    "Purpose of processing", "Nature and purpose of processing", "Function"],
        "location": ["Location", "Country", "Countries", "Entity country", "Location of processing", "Data location",
                     "Processing location", "Hosting location", "Location(s)", "Country of processing", "Headquarters"],
        "website": ["Website", "URL", "Web site"],
        "transfer_mechanism": ["Transfer mechanism", "Transfer mechanisms", "Safeguards", "Transfer safeguards", "Transfer tool"],
        "services": ["Applicable services", "Products", "Applicable products"],
    },
    required=("name",),
)

#: Transfer tools named in a cell, most specific first; processor to sub-processor SCCs are Module 3.
_MECHANISM_WORDS = (
    (r"\bidta\b|international data transfer agreement", TransferMechanism.UK_IDTA),
    (r"\baddendum\b", TransferMechanism.UK_ADDENDUM),
    (r"\buk\s+bcrs?\b", TransferMechanism.UK_BCR),
    (r"\bbcrs?\b|binding corporate rules", TransferMechanism.BCR),
    (r"\bsccs?\b|standard contractual clauses|model clauses", TransferMechanism.EU_SCC_MODULE_3),
)
_CERTIFICATION_WORDS = (
    (r"\bdpf\b|data privacy framework|privacy shield", "DPF"),
    (r"uk extension|data bridge", "DPF-UK-Extension"),
)


def transfer_terms(text: str) -> tuple[TransferMechanism | None, list[str]]:
    """(mechanism, certifications) named in a 'Transfer mechanism' cell."""
    lowered = text.casefold()
    mechanism = next((member for pattern, member in _MECHANISM_WORDS if re.search(pattern, lowered)), None)
    certifications = [name for pattern, name in _CERTIFICATION_WORDS if re.search(pattern, lowered)]
    if "DPF-UK-Extension" in certifications and "DPF" not in certifications:  # the extension presupposes the DPF
        certifications.insert(0, "DPF")
    return mechanism, certifications


def _processor(catalog: Catalog, processor: str) -> Party:
    """The current processor party; IngestError with the nearest party id when there is none."""
    with catalog.session() as session:
        parties = {row.id: row for row in session.exec(select(Party).where(Party.retired_run_id.is_(None))).all()}
        for row in parties.values():
            session.expunge(row)
    if processor not in parties:
        raise IngestError([LocatedError(
            f"no party '{processor}' in the catalogue: record the processor as a party first (e.g. in a manifest)",
            field_path="--processor", suggestion=nearest(processor, parties),
        )])
    return parties[processor]


class _ListReader:
    def __init__(self, table: Table, processor: Party):
        self.table, self.processor = table, processor
        self.jurisdictions = load_jurisdictions()
        self.warnings: list[LocatedError] = list(table.warnings)
        self.errors: list[LocatedError] = []

    def warn(self, row: TableRow, key: str, message: str, suggestion: str | None = None) -> None:
        self.warnings.append(self.table.at(row, key, message, suggestion))

    def countries(self, row: TableRow) -> list[str] | None:
        """Codes named in the location cell, in order; regions expanded; 'Worldwide' noted. None
        when a value names no known country (an error: recording the processor's country instead
        would hide a transfer)."""
        codes: list[str] = []
        unknown = False
        for value in split_cell(self.table.value(row, "location"), "\n;,/|"):
            found = self.country_codes(row, value)
            if found is None:
                unknown = True
                continue
            if not found:
                self.warn(row, "location", f"'{value}' names no country: the processor's country ({self.processor.country}) is recorded; ask the vendor where the data goes")
            codes.extend(found)
        return None if unknown else list(dict.fromkeys(codes))

    def country_codes(self, row: TableRow, value: str) -> list[str] | None:
        """Codes for one value ('USA', 'Ireland (EU)', 'EU'; [] for 'Worldwide'); None, with an error at its cell, when unknown."""
        error: UnknownCountryError | None = None
        for candidate in dict.fromkeys([value, re.sub(r"\s*\([^()]*\)", "", value).strip()]):
            region = self.jurisdictions.region(candidate)
            if region is not None:
                return region
            try:
                return [self.jurisdictions.normalise_country(candidate)]
            except UnknownCountryError as unknown:
                error = error or unknown
        self.errors.append(self.table.at(row, "location", f"unknown country '{value}'", error.suggestion if error else None))
        return None

    def party(self, row: TableRow) -> dict | None:
        name = " ".join(self.table.value(row, "name").split())
        for key, column in self.table.columns.items():
            if formula_like(row.get(column)):
                self.warn(row, key, "cell starts like a spreadsheet formula: kept as text, never evaluated")
        if not name:
            if any(self.table.value(row, key) for key in self.table.columns):
                self.warn(row, "name", "row names no sub-processor: skipped")
            return None
        codes = self.countries(row)
        if codes is None:
            return None
        if not codes:
            if not self.table.value(row, "location"):
                self.warn(row, "name", f"no location for '{name}': the processor's country ({self.processor.country}) is recorded")
            codes = [self.processor.country]
        data: dict = {
            "id": slug(f"{self.processor.id}-{name}"), "name": name, "role": PartyRole.SUB_PROCESSOR.value,
            "parent": self.processor.id, "country": codes[0],
        }
        if codes[1:]:
            data["processing_countries"] = codes[1:]
        purpose = " ".join(self.table.value(row, "purpose").split())
        if purpose:
            data["description"] = purpose
        terms = self.table.value(row, "transfer_mechanism")
        if terms:
            mechanism, certifications = transfer_terms(terms)
            if mechanism:
                data["transfer_mechanism"] = mechanism.value
            if certifications:
                data["certifications"] = certifications
            if not mechanism and not certifications:
                self.warn(row, "transfer_mechanism", f"'{terms}' names no transfer mechanism (SCCs, IDTA, UK Addendum, BCR) or DPF certification: not recorded")
        return data


def _merge(parties: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Rows naming the same sub-processor (one per location or service, as vendors often list them) as one party."""
    merged: dict[str, tuple[int, dict]] = {}
    for number, party in parties:
        if party["id"] not in merged:
            merged[party["id"]] = (number, party)
            continue
        first = merged[party["id"]][1]
        countries = list(dict.fromkeys([first["country"], *first.get("processing_countries", []), party["country"], *party.get("processing_countries", [])]))
        if countries[1:]:
            first["processing_countries"] = countries[1:]
        descriptions = list(dict.fromkeys(filter(None, [first.get("description"), party.get("description")])))
        if descriptions:
            first["description"] = "; ".join(descriptions)
        if "transfer_mechanism" in party and "transfer_mechanism" not in first:
            first["transfer_mechanism"] = party["transfer_mechanism"]
        if party.get("certifications"):
            first["certifications"] = list(dict.fromkeys([*first.get("certifications", []), *party["certifications"]]))
    return list(merged.values())


def _as_reference(processor: Party) -> dict:
    """The processor as this source must name it for the run's reference check; the catalogue keeps
    its owner's values (another source's entry is never overwritten, and equal values raise no conflict)."""
    return {"id": processor.id, "name": processor.name, "role": processor.role, "country": processor.country}


def load_subprocessor_list(
    path: Path, processor: Party, *, sheet: str | None = None, max_bytes: int = MAX_FILE_BYTES,
) -> tuple[CatalogSpec, dict[tuple, str], list[LocatedError]]:
    """Read a sub-processor list into a spec of sub-processor parties under ``processor``."""
    table = read_table(Path(path), VOCABULARY, sheet=sheet, max_bytes=max_bytes, min_matches=2)
    reader = _ListReader(table, processor)
    if processor.role not in (PartyRole.PROCESSOR.value, PartyRole.SUB_PROCESSOR.value):
        reader.warnings.append(LocatedError(f"party '{processor.id}' has role '{processor.role}', not processor: its list is read as its sub-processors all the same", field_path="--processor"))
    rows = [(row.number, party) for row in table.rows if (party := reader.party(row)) is not None]
    if reader.errors:
        raise IngestError(reader.errors)
    rows = _merge(rows)
    parties = [_as_reference(processor)] + [party for _, party in rows]
    try:
        spec = CatalogSpec.model_validate({"parties": parties})
    except ValidationError as error:
        raise IngestError(
            LocatedError(problem.message, table.file, rows[problem.loc[1] - 1][0] if problem.loc[1] else None,
                         field_path=format_field_path(problem.loc[2:]), suggestion=problem.suggestion)
            for problem in validation_problems(error, CatalogSpec)
        ) from None
    refs = {("parties", index): f"{table.file}:{number}" for index, (number, _) in enumerate(rows, start=1)}
    return spec, refs, reader.warnings


def ingest_subprocessors(
    catalog: Catalog, path: Path, processor: str, *, sheet: str | None = None, max_bytes: int = MAX_FILE_BYTES, actor: str = "",
    allow_empty: bool = False,
) -> IngestReport:
    """Ingest one vendor list as one run of ``subprocessors:<processor>``."""
    started = time.monotonic()
    party = _processor(catalog, processor)
    spec, refs, warnings = load_subprocessor_list(Path(path), party, sheet=sheet, max_bytes=max_bytes)
    return apply_and_report(
        catalog, spec, source=scoped_source(SOURCE_NAME, processor), target=str(path), actor=actor,
        source_refs=refs, warnings=warnings, complete=True, started=started, allow_empty=allow_empty,
        anchors=1,  # the processor, named so its sub-processors' parent resolves
    )


class SubprocessorsSource(Source):
    """A processor's published sub-processor list."""

    name = SOURCE_NAME
    description = "A vendor's published sub-processor list (CSV or xlsx): sub-processor parties under the processor."

    class Config(SourceConfig):
        file: Path = Field(description="The list as published: .csv or .xlsx.")
        processor: str = Field(description="Id of the processor party (already in the catalogue) whose list this is.")
        sheet: str | None = Field(default=None, description="Worksheet to read (default: the first whose header row names the sub-processors).")
        max_bytes: int = Field(default=MAX_FILE_BYTES, gt=0, description="Refuse files larger than this many bytes, before parsing.")

    def run(self, catalog: Catalog, config: Config, actor: str = "") -> IngestReport:
        return ingest_subprocessors(
            catalog, config.file, config.processor, sheet=config.sheet, max_bytes=config.max_bytes, actor=actor, allow_empty=config.allow_empty,
        )
