"""The Article 30 record, derived from the catalogue rather than retyped.

Every cell is computed from what the catalogue already knows: categories of personal data and of
individuals are what the activity declares plus what its own flows carry (what its systems hold
only when it declares none, and then marked so), third countries from the derived transfers,
rights from the lawful basis, locations from hosting. So the record cannot drift from the systems
it describes, and a gap in the record is a gap in the catalogue, fixed once. A fact the catalogue
does not hold is left blank, never filled in with a default.

The controller record follows the UK ICO documentation template column for column (30 columns,
A to AD, in seven sections), then one column (AE) naming the activity as every annex sheet names
it; the processor record follows Article 30(2). Annex tables (transfers,
systems, data inventory, recipients, retention schedule, security measures, taxonomy) come with
them, with the catalogue revision (the latest change event) and a hash of the content. Output formats
(the workbook, CSV, the dashboard) read the :class:`Record` and never query the store themselves.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import cache, cached_property
from operator import attrgetter

from sqlmodel import Session, select

from catalog.graph import CatalogGraph, NodeKind, node_key
from catalog.jurisdictions import Adequacy, AdequacyScope, Jurisdictions, Regime, TransferStatus, load_jurisdictions
from catalog.models import (
    ChangeEvent,
    DataField,
    Dataset,
    IngestRun,
    Party,
    ProcessingActivity,
    System,
)
from catalog.taxonomy import Taxonomy, TaxonomyKind, load_taxonomy
from catalog.transfers import Transfer, derive_transfers, mechanism_covers
from catalog.vocab import (
    Article9Condition,
    DescribedEnum,
    DpiaProgress,
    LawfulBasis,
    PartyRole,
    SystemRole,
    SystemStatus,
    TransferMechanism,
)

# --------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------

SECTION_ARTICLE_30 = "Article 30 Record of Processing Activities"
SECTION_PRIVACY_NOTICES = "Privacy notices"
SECTION_CONSENT = "Consent"
SECTION_ACCESS_REQUESTS = "Access requests"
SECTION_DPIA = "Data Protection Impact Assessments"
SECTION_BREACHES = "Personal data breaches"
SECTION_SCHEDULE_1 = "Data Protection Act 2018 - Special category or criminal conviction and offence data"

#: The ICO controller template's sections, left to right.
CONTROLLER_SECTIONS = (
    SECTION_ARTICLE_30, SECTION_PRIVACY_NOTICES, SECTION_CONSENT, SECTION_ACCESS_REQUESTS,
    SECTION_DPIA, SECTION_BREACHES, SECTION_SCHEDULE_1,
)

SECTION_PROCESSOR = "Article 30(2) Record of processing carried out on behalf of controllers"
SECTION_CATALOGUE = "Catalogue reference"


def column_letter(number: int) -> str:
    """Spreadsheet column letter of a 1-based column number (1 -> A, 30 -> AD)."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


@dataclass(frozen=True)
class RecordColumn:
    """One column of a record, with the provision that asks for it.

    ``required`` separates what Article 30 or DPA 2018 Schedule 1 para 41 requires from the
    columns the ICO template adds as good practice; ``key`` names the row attribute that fills it.
    """

    number: int
    letter: str
    heading: str
    section: str
    required: bool
    article: str
    key: str


def _columns(section_rows: Iterable[tuple[str, bool, Iterable[tuple[str, str, str]]]]) -> tuple[RecordColumn, ...]:
    columns: list[RecordColumn] = []
    for section, required, rows in section_rows:
        for key, heading, article in rows:
            number = len(columns) + 1
            columns.append(RecordColumn(number, column_letter(number), heading, section, required, article, key))
    return tuple(columns)


#: The ICO controller template's 30 columns (A to AD), headings verbatim, in template order.
CONTROLLER_COLUMNS: tuple[RecordColumn, ...] = _columns([
    (SECTION_ARTICLE_30, True, [
        ("business_function", "Business function", "Art 30(1)"),
        ("purposes", "Purpose of processing", "Art 30(1)(b)"),
        ("joint_controller", "Name and contact details of joint controller (if applicable)", "Art 30(1)(a); Art 26"),
        ("data_subjects", "Categories of individuals", "Art 30(1)(c)"),
        ("personal_data", "Categories of personal data", "Art 30(1)(c)"),
        ("recipients", "Categories of recipients", "Art 30(1)(d)"),
        ("processor_contracts", "Link to contract with processor", "Art 28(3)"),
        ("third_countries", "Names of third countries or international organisations that personal data are transferred to (if applicable)", "Art 30(1)(e)"),
        ("exceptional_transfer_safeguards", "Safeguards for exceptional transfers of personal data to third countries or international organisations (if applicable)", "Art 30(1)(e); Art 49(1)"),
        ("retention", "Retention schedule (if possible)", "Art 30(1)(f)"),
        ("security_measures", "General description of technical and organisational security measures (if possible)", "Art 30(1)(g); Art 32(1)"),
    ]),
    (SECTION_PRIVACY_NOTICES, False, [
        ("lawful_basis", "Article 6 lawful basis for processing personal data", "Art 6(1); Art 13(1)(c)"),
        ("article9_condition", "Article 9 condition for processing special category data", "Art 9(2)"),
        ("legitimate_interests", "Legitimate interests for the processing (if applicable)", "Art 6(1)(f); Art 13(1)(d)"),
        ("lia_link", "Link to record of legitimate interests assessment (if applicable)", "Art 5(2); Art 6(1)(f)"),
        ("rights", "Rights available to individuals", "Arts 15-22; Art 13(2)(b)"),
        ("automated_decision_making", "Existence of automated decision-making, including profiling (if applicable)", "Art 22; Art 13(2)(f)"),
        ("data_source", "The source of the personal data (if applicable)", "Art 14(2)(f)"),
    ]),
    (SECTION_CONSENT, False, [
        ("consent_record_link", "Link to record of consent", "Art 7(1)"),
    ]),
    (SECTION_ACCESS_REQUESTS, False, [
        ("locations", "Location of personal data", "Art 15"),
    ]),
    (SECTION_DPIA, False, [
        ("dpia_required", "Data Protection Impact Assessment required?", "Art 35(1)"),
        ("dpia_progress", "Data Protection Impact Assessment progress", "Art 35"),
        ("dpia_link", "Link to Data Protection Impact Assessment", "Art 35(7)"),
    ]),
    (SECTION_BREACHES, False, [
        ("breach_occurred", "Has a personal data breach occurred?", "Art 33(5)"),
        ("breach_record_link", "Link to record of personal data breach", "Art 33(5)"),
    ]),
    (SECTION_SCHEDULE_1, True, [
        ("schedule1_condition", "Data Protection Act 2018 Schedule 1 condition for processing", "DPA 2018 Sch 1 para 41(a)"),
        ("schedule1_lawful_basis", "GDPR Article 6 lawful basis for processing", "DPA 2018 Sch 1 para 41(b)"),
        ("retention_policy_link", "Link to retention and erasure policy document", "DPA 2018 Sch 1 para 39"),
        ("retention_policy_followed", "Is personal data retained and erased in accordance with the policy document?", "DPA 2018 Sch 1 para 41(c)"),
        ("retention_policy_deviation", "Reasons for not adhering to policy document (if applicable)", "DPA 2018 Sch 1 para 41(c)"),
    ]),
])

#: After the template's columns (AE): the activity as the annex sheets name it (transfers, retention,
#: security), so a row can be matched across sheets. Not an ICO template column, so kept out of
#: CONTROLLER_COLUMNS, which readers of ICO sheets (ingest.ropa_sheet) take to be the template.
ACTIVITY_COLUMN = RecordColumn(
    len(CONTROLLER_COLUMNS) + 1, column_letter(len(CONTROLLER_COLUMNS) + 1), "Processing activity", SECTION_CATALOGUE, False,
    "Art 30(1); not an ICO template column: the name every sheet of this record gives the activity", "activity_label",
)
#: Then (AF) the activity's id, as the catalogue, the CLI and the dashboard know it: reading the
#: workbook back (``ropa ingest ropa-sheet``) finds the same activities by it.
ACTIVITY_ID_COLUMN = RecordColumn(
    len(CONTROLLER_COLUMNS) + 2, column_letter(len(CONTROLLER_COLUMNS) + 2), "Activity id", SECTION_CATALOGUE, False,
    "Not an ICO template column: the activity's id in the catalogue", "activity_id",
)
#: The controller record's columns as written: the template's 30, then the activity and its id.
CONTROLLER_SHEET_COLUMNS: tuple[RecordColumn, ...] = (*CONTROLLER_COLUMNS, ACTIVITY_COLUMN, ACTIVITY_ID_COLUMN)

#: The processor record (Article 30(2)), one row per client controller, as the ICO processor template.
PROCESSOR_COLUMNS: tuple[RecordColumn, ...] = _columns([
    (SECTION_PROCESSOR, True, [
        ("controller", "Name and contact details of controller", "Art 30(2)(a)"),
        ("representative", "Name and contact details of controller's representative (if applicable)", "Art 30(2)(a)"),
        ("dpo", "Name and contact details of controller's data protection officer (if applicable)", "Art 30(2)(a)"),
        ("categories_of_processing", "Categories of processing carried out on behalf of the controller", "Art 30(2)(b)"),
        ("third_countries", "Names of third countries or international organisations that personal data are transferred to (if applicable)", "Art 30(2)(c)"),
        ("transfer_safeguards", "Safeguards for transfers of personal data to third countries or international organisations (if applicable)", "Art 30(2)(c); Art 46; Art 49(1)"),
        ("security_measures", "General description of technical and organisational security measures (if possible)", "Art 30(2)(d); Art 32(1)"),
    ]),
    (SECTION_PROCESSOR, False, [
        ("contract_link", "Link to contract with controller", "Art 28(3)"),
    ]),
])

#: Headings of the transfers table, in order of :meth:`TransferRow.cells`.
TRANSFER_HEADINGS = (
    "Flow", "Processing activity", "Exporter", "Exporter role", "Importer", "Importer role",
    "Onward via", "Origin country", "Destination country", "Categories of personal data",
    "UK GDPR status", "EU GDPR status", "Transfer mechanism", "TIA / TRA reference", "Gap (restricted, no mechanism)",
)

#: Headings of the systems table, in order of :meth:`SystemRow.cells`.
SYSTEM_HEADINGS = (
    "System", "Our role", "Status", "Owner", "Locations", "Datasets", "Categories of personal data",
)

#: Headings of the data inventory, in order of :meth:`InventoryRow.cells`.
INVENTORY_HEADINGS = (
    "System", "Dataset", "Field", "Category key", "Category of personal data",
    "Special category / criminal offence data", "Source", "Confidence",
)

#: Headings of the recipients table, in order of :meth:`RecipientRow.cells`.
RECIPIENT_HEADINGS = ("Recipient", "Role", "Country", "Contract reference", "Engaged via (chain)")

#: Headings of the retention schedule, in order of :meth:`RetentionRow.cells`.
RETENTION_HEADINGS = ("Processing activity", "Category of personal data", "Category key", "Retention", "Applies to")

#: Headings of the security measures table, in order of :meth:`SecurityRow.cells`.
SECURITY_HEADINGS = ("Scope", "Processing activity or system", "Id", "Security measure")

#: Headings of the taxonomy table, in order of :meth:`TaxonomyRow.cells`.
TAXONOMY_HEADINGS = ("Vocabulary", "Key", "Label", "Description", "Origin")

#: Columns whose cells may hold a link (a URL becomes a hyperlink in the workbook).
LINK_KEYS = frozenset({
    "processor_contracts", "lia_link", "consent_record_link", "dpia_link", "breach_record_link",
    "retention_policy_link", "contract_link",
})
LINK_HEADINGS = frozenset(
    {column.heading for column in (*CONTROLLER_SHEET_COLUMNS, *PROCESSOR_COLUMNS) if column.key in LINK_KEYS}
    | {"TIA / TRA reference", "Contract reference"}
)

# --------------------------------------------------------------------------------------------
# Rights by lawful basis (Articles 13-22), as the ICO's lawful basis guidance tabulates them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSubjectRight:
    """A right of the data subject and the article that grants it."""

    name: str
    article: str

    @property
    def text(self) -> str:
        return f"{self.name} ({self.article})"


INFORMATION = DataSubjectRight("Be informed", "Arts 13, 14")
ACCESS = DataSubjectRight("Access", "Art 15")
RECTIFICATION = DataSubjectRight("Rectification", "Art 16")
ERASURE = DataSubjectRight("Erasure", "Art 17")
RESTRICTION = DataSubjectRight("Restriction", "Art 18")
PORTABILITY = DataSubjectRight("Data portability", "Art 20")
OBJECTION = DataSubjectRight("Object", "Art 21")
WITHDRAW_CONSENT = DataSubjectRight("Withdraw consent", "Art 7(3)")
AUTOMATED_DECISIONS = DataSubjectRight("Not to be subject to solely automated decisions", "Art 22")

_ALWAYS = (INFORMATION, ACCESS, RECTIFICATION)

#: Rights that apply under each Article 6 basis (besides Art 22 where there is automated
#: decision-making). Erasure: not for legal obligation or public task (Art 17(3)(b));
#: portability: only consent and contract (Art 20(1)(a)); objection: public task and
#: (recognised) legitimate interests (Art 21(1)); withdrawal: consent (Art 7(3)).
RIGHTS_BY_LAWFUL_BASIS: dict[LawfulBasis, tuple[DataSubjectRight, ...]] = {
    LawfulBasis.CONSENT: (*_ALWAYS, ERASURE, RESTRICTION, PORTABILITY, WITHDRAW_CONSENT),
    LawfulBasis.CONTRACT: (*_ALWAYS, ERASURE, RESTRICTION, PORTABILITY),
    LawfulBasis.LEGAL_OBLIGATION: (*_ALWAYS, RESTRICTION),
    LawfulBasis.VITAL_INTERESTS: (*_ALWAYS, ERASURE, RESTRICTION),
    LawfulBasis.PUBLIC_TASK: (*_ALWAYS, RESTRICTION, OBJECTION),
    LawfulBasis.LEGITIMATE_INTERESTS: (*_ALWAYS, ERASURE, RESTRICTION, OBJECTION),
    LawfulBasis.RECOGNISED_LEGITIMATE_INTEREST: (*_ALWAYS, ERASURE, RESTRICTION, OBJECTION),
}


def rights_available(lawful_basis: str | None, *, automated_decision_making: bool = False) -> tuple[DataSubjectRight, ...]:
    """Rights individuals have for processing on this basis; none can be derived without a basis."""
    basis = _member(LawfulBasis, lawful_basis)
    if basis is None:
        return ()
    rights = RIGHTS_BY_LAWFUL_BASIS[basis]
    return (*rights, AUTOMATED_DECISIONS) if automated_decision_making else rights


#: How a recorded "there is none" reads (the field is free text describing the decisions).
_NO_AUTOMATED_DECISIONS = re.compile(r"^\s*(no|none|false|not applicable|n/a)\b", re.IGNORECASE)


def automated_decisions(recorded: str | None) -> bool | None:
    """Whether an activity makes automated decisions (Art 22), as far as the catalogue says: None
    when nothing is recorded, False for a recorded "No" / "None", True for a description. A
    recorded "No" must not grant the Art 22 right nor count as a DPIA criterion."""
    if not (recorded or "").strip():
        return None
    return not _NO_AUTOMATED_DECISIONS.match(recorded)


# --------------------------------------------------------------------------------------------
# Record data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """Name and contact details (Article 30(1)(a)); the contact block of the template."""

    name: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping | None) -> Contact | None:
        """From the ``{name, address, email, phone}`` JSON the catalogue stores; None when absent."""
        if not data:
            return None
        return cls(*(str(data.get(key) or "") for key in ("name", "address", "email", "phone")))

    def text(self) -> str:
        """One line: the name, then whichever details are known."""
        return ", ".join(part for part in (self.name, self.address, self.email, self.phone) if part)


@dataclass(frozen=True)
class OrganisationContacts:
    """The contact block: controller, DPO and representatives (Article 30(1)(a), Article 27)."""

    controller: Contact
    dpo: Contact | None = None
    uk_representative: Contact | None = None
    eu_representative: Contact | None = None
    registration: str | None = None
    country: str = ""
    country_name: str = ""
    #: Regimes in whose territory the organisation is established (the UK, the EEA): no Art 27
    #: representative is needed under those.
    established_under: tuple[str, ...] = ()

    def blocks(self, role: str = "Controller") -> list[tuple[str, Contact | None]]:
        """(title, contact) pairs in template order: the organisation, DPO, then each representative
        on record (one empty "Representative" block when there is none, as in the template).
        ``role`` titles the organisation: "Processor" on the Article 30(2)(a) record, where the
        organisation keeping it is the processor and its clients are the controllers."""
        blocks: list[tuple[str, Contact | None]] = [(role, self.controller), ("Data Protection Officer", self.dpo)]
        if self.uk_representative or self.eu_representative:
            if self.uk_representative:
                blocks.append(("UK representative", self.uk_representative))
            if self.eu_representative:
                blocks.append(("EU representative", self.eu_representative))
        else:
            blocks.append(("Representative", None))
        return blocks


@dataclass(frozen=True)
class ControllerRow:
    """One processing activity as a row of the ICO controller template (Article 30(1))."""

    activity_id: str
    activity_name: str
    business_function: str
    purposes: str
    joint_controller: str
    data_subjects: str
    personal_data: str
    recipients: str
    processor_contracts: str
    third_countries: str
    exceptional_transfer_safeguards: str
    retention: str
    security_measures: str
    lawful_basis: str
    article9_condition: str
    legitimate_interests: str
    lia_link: str
    rights: str
    automated_decision_making: str
    data_source: str
    consent_record_link: str
    locations: str
    dpia_required: str
    dpia_progress: str
    dpia_link: str
    breach_occurred: str
    breach_record_link: str
    schedule1_condition: str
    schedule1_lawful_basis: str
    retention_policy_link: str
    retention_policy_followed: str
    retention_policy_deviation: str
    special_category: bool = False
    criminal_offence: bool = False
    #: Labels of the Article 9 and Article 10 categories among ``personal_data`` (CNIL "sensitive data").
    sensitive_categories: tuple[str, ...] = ()
    #: The activity as every sheet names it (column AE): its name, with its id where names repeat.
    activity_label: str = ""

    def cells(self) -> list[str]:
        """The 30 cells in template order (A to AD), then the activity (AE) and its id (AF)."""
        return [getattr(self, column.key) for column in CONTROLLER_SHEET_COLUMNS]

    def as_dict(self) -> dict[str, str]:
        """Heading -> cell text."""
        return {column.heading: getattr(self, column.key) for column in CONTROLLER_SHEET_COLUMNS}


@dataclass(frozen=True)
class ProcessorRow:
    """One client controller we act for, as a row of the processor record (Article 30(2))."""

    controller_id: str
    controller: str
    representative: str
    dpo: str
    categories_of_processing: str
    third_countries: str
    transfer_safeguards: str
    security_measures: str
    contract_link: str

    def cells(self) -> list[str]:
        return [getattr(self, column.key) for column in PROCESSOR_COLUMNS]

    def as_dict(self) -> dict[str, str]:
        return {column.heading: getattr(self, column.key) for column in PROCESSOR_COLUMNS}


@dataclass(frozen=True)
class TransferRow:
    """One derived transfer, in words (the transfers annex of the record)."""

    flow_id: str
    activity: str
    exporter: str
    exporter_role: str
    importer: str
    importer_role: str
    onward_via: str
    origin: str
    destination: str
    personal_data: str
    uk_status: str
    eu_status: str
    mechanism: str
    assessment_ref: str
    gap: str

    def cells(self) -> list[str]:
        return [
            self.flow_id, self.activity, self.exporter, self.exporter_role, self.importer, self.importer_role,
            self.onward_via, self.origin, self.destination, self.personal_data, self.uk_status, self.eu_status,
            self.mechanism, self.assessment_ref, self.gap,
        ]

    def as_dict(self) -> dict[str, str]:
        return dict(zip(TRANSFER_HEADINGS, self.cells(), strict=True))


@dataclass(frozen=True)
class SystemRow:
    """One system with where it is hosted and what it holds (answers "where is my data?")."""

    system_id: str
    system: str
    role: str
    status: str
    owner: str
    locations: str
    datasets: int
    personal_data: str

    def cells(self) -> list[str | int]:
        return [self.system, self.role, self.status, self.owner, self.locations, self.datasets, self.personal_data]

    def as_dict(self) -> dict[str, str | int]:
        return dict(zip(SYSTEM_HEADINGS, self.cells(), strict=True))


@dataclass(frozen=True)
class InventoryRow:
    """One field and one category it holds (a field with no category gets one row with none)."""

    system_id: str
    system: str
    dataset: str
    field: str
    category_key: str
    category: str
    special: str
    source: str
    confidence: str = ""  # classifier confidence; blank until classification is scored

    def cells(self) -> list[str]:
        return [self.system, self.dataset, self.field, self.category_key, self.category, self.special, self.source, self.confidence]


@dataclass(frozen=True)
class RecipientRow:
    """One party data is disclosed to, with the processor chain that engaged it (Art 28(2), (4))."""

    party_id: str
    recipient: str
    role: str
    country: str
    contract_ref: str
    chain: str

    def cells(self) -> list[str]:
        return [self.recipient, self.role, self.country, self.contract_ref, self.chain]


@dataclass(frozen=True)
class RetentionRow:
    """How long one category is kept for one activity (Article 30(1)(f)), per place it differs."""

    activity_id: str
    activity: str
    category: str
    category_key: str
    retention: str
    applies_to: str

    def cells(self) -> list[str]:
        return [self.activity, self.category, self.category_key, self.retention, self.applies_to]


@dataclass(frozen=True)
class SecurityRow:
    """One measure of one activity or system (Article 30(1)(g), Art 32); blank when none is on record."""

    scope: str
    name: str
    ident: str
    measure: str

    def cells(self) -> list[str]:
        return [self.scope, self.name, self.ident, self.measure]


@dataclass(frozen=True)
class TaxonomyRow:
    """A vocabulary key the record uses, so a reader can look up what each label means."""

    kind: str
    key: str
    label: str
    description: str
    origin: str

    def cells(self) -> list[str]:
        return [self.kind, self.key, self.label, self.description, self.origin]


@dataclass(frozen=True)
class CatalogueRevision:
    """The latest change event: every change to the catalogue appends one to the history, so its
    number names the state of the catalogue (``ropa export ropa --as-of REVISION`` rebuilds it)."""

    revision: int
    at: datetime | None

    def text(self) -> str:
        return f"revision {self.revision}" + (f" ({_timestamp(self.at)})" if self.at else "")


@dataclass(frozen=True)
class ActivityDates:
    """When an activity was last asserted by an ingest run (the catalogue keeps no creation date)."""

    activity_id: str
    last_run_id: int | None
    last_asserted_at: datetime | None


@dataclass(frozen=True)
class RecordTable:
    """One table of the record, as every output lays it out: a name, headings and rows."""

    name: str
    headings: tuple[str, ...]
    rows: tuple


@dataclass(frozen=True)
class Record:
    """The whole Article 30 record at one moment: contact block, rows and annexes, sorted by id."""

    organisation: OrganisationContacts | None
    regimes: tuple[str, ...]
    controller_rows: tuple[ControllerRow, ...]
    processor_rows: tuple[ProcessorRow, ...]
    transfer_rows: tuple[TransferRow, ...]
    system_rows: tuple[SystemRow, ...]
    generated_at: datetime | None = None
    inventory_rows: tuple[InventoryRow, ...] = ()
    recipient_rows: tuple[RecipientRow, ...] = ()
    retention_rows: tuple[RetentionRow, ...] = ()
    security_rows: tuple[SecurityRow, ...] = ()
    taxonomy_rows: tuple[TaxonomyRow, ...] = ()
    revision: CatalogueRevision | None = None
    activity_dates: tuple[ActivityDates, ...] = ()

    @property
    def regime_labels(self) -> tuple[str, ...]:
        return tuple(_label(Regime, regime) for regime in self.regimes)

    def tables(self) -> list[RecordTable]:
        """Every table in output order; CSV writes one file each, the hash covers them all."""
        return [
            RecordTable("controller_record", tuple(c.heading for c in CONTROLLER_SHEET_COLUMNS), self.controller_rows),
            RecordTable("processor_record", tuple(c.heading for c in PROCESSOR_COLUMNS), self.processor_rows),
            RecordTable("international_transfers", TRANSFER_HEADINGS, self.transfer_rows),
            RecordTable("systems_and_locations", SYSTEM_HEADINGS, self.system_rows),
            RecordTable("data_inventory", INVENTORY_HEADINGS, self.inventory_rows),
            RecordTable("recipients", RECIPIENT_HEADINGS, self.recipient_rows),
            RecordTable("retention_schedule", RETENTION_HEADINGS, self.retention_rows),
            RecordTable("security_measures", SECURITY_HEADINGS, self.security_rows),
            RecordTable("taxonomy", TAXONOMY_HEADINGS, self.taxonomy_rows),
        ]

    @cached_property
    def content_sha256(self) -> str:
        """SHA-256 of the canonical JSON of the contact block and every row: equal content, equal
        hash, whatever the file format or generation time (so a printed copy can be checked)."""
        digest = hashlib.sha256()
        for chunk in self._canonical_json():
            digest.update(chunk.encode("utf-8"))
        return digest.hexdigest()

    def _canonical_json(self) -> Iterator[str]:
        """The canonical JSON of the record (sorted keys, no spaces) in pieces, one row at a time:
        the same text as one ``json.dumps`` of the whole, without holding a million rows' text at once."""
        def dumps(value: object) -> str:
            return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)

        tables = {table.name: table.rows for table in self.tables()}
        heads = {"organisation": dataclasses.asdict(self.organisation) if self.organisation else None, "regimes": list(self.regimes)}
        yield "{"
        for position, key in enumerate(sorted([*heads, *tables])):
            yield ("," if position else "") + dumps(key) + ":"
            if key in tables:
                yield "["
                for index, row in enumerate(tables[key]):
                    yield ("," if index else "") + dumps(dataclasses.asdict(row))
                yield "]"
            else:
                yield dumps(heads[key])
        yield "}"

    def cover(self, generated_at: datetime | None = None) -> list[tuple[str, str]]:
        """(label, value) lines of the cover: who keeps the record, under what, when it was made
        and which state of the catalogue it shows. "Generated at" is the record's own moment (the
        as-of moment of a past state) or else ``generated_at``, the writer's clock: a record kept
        for a dashboard is written long after it was derived."""
        organisation = self.organisation
        moment = self.generated_at or generated_at
        lines = [("Organisation", organisation.controller.text() if organisation else NOT_RECORDED)]
        if organisation and organisation.registration:
            lines.append(("Registration", organisation.registration))
        lines.append(("Data Protection Officer", organisation.dpo.text() if organisation and organisation.dpo else NOT_RECORDED))
        lines.append(("UK representative", self.representative_text(Regime.UK_GDPR)))
        lines.append(("EU representative", self.representative_text(Regime.EU_GDPR)))
        lines += [
            ("Regimes covered", ", ".join(self.regime_labels)),
            ("Generated at", _timestamp(moment) if moment else ""),
            ("Catalogue revision", self.revision.text() if self.revision else ""),
            ("Content SHA-256", self.content_sha256),
        ]
        return lines

    def representative_text(self, regime: Regime) -> str:
        """The Article 27 representative for a regime; "Not applicable" only when the catalogue
        shows none is needed (the organisation is established in the regime's territory, or the
        record is not kept under it), else "Not recorded": whether one is needed depends on
        Article 3(2) targeting, which the catalogue does not hold."""
        organisation = self.organisation
        if organisation is None:
            return NOT_RECORDED
        contact = organisation.uk_representative if regime is Regime.UK_GDPR else organisation.eu_representative
        if contact:
            return contact.text()
        if regime.value not in self.regimes:
            return f"Not applicable (record not kept under {regime.label})"
        if regime.value in organisation.established_under:
            where = organisation.country_name or organisation.country
            return f"Not applicable (organisation established in {where}: Art 27(1) applies only under Art 3(2))"
        return NOT_RECORDED


@dataclass(frozen=True)
class Registers:
    """The controller record (Article 30(1)) and the processor record (Article 30(2)) alone, without
    the annexes: what a reader needs first, in a fraction of the time the whole record takes."""

    controller_rows: tuple[ControllerRow, ...]
    processor_rows: tuple[ProcessorRow, ...]


def _timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC to the second (stored times are naive UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat() + "Z"


# --------------------------------------------------------------------------------------------
# Wording helpers
# --------------------------------------------------------------------------------------------

LIST_SEPARATOR = "; "
LINE_SEPARATOR = "\n"

#: Cover lines the catalogue holds nothing for. Record cells stay blank instead, as every unknown
#: cell of the template does (and as our own ICO sheet import reads a blank: nothing recorded).
NOT_RECORDED = "Not recorded"
#: Cells of a section that does not apply to the row (DPA 2018 Sch 1 without special category data).
NOT_APPLICABLE = "Not applicable"
#: Ends a categories (or individuals) cell that lists what the activity's systems hold because the
#: activity declares none: the record says so rather than claiming it as declared.
FROM_SYSTEMS_NOTE = "(from its systems, not declared)"

#: Statuses that rest on an adequacy decision or regulations (Art 45).
ADEQUATE = frozenset({TransferStatus.ADEQUACY, TransferStatus.ADEQUACY_CERTIFIED})
#: Statuses under which a move is a transfer to a third country under that regime (Art 44): adequate
#: or restricted. Listed, not inferred, so that any other status (domestic, within the EEA, data
#: entering the territory) is no transfer to a third country.
THIRD_COUNTRY = frozenset({*ADEQUATE, TransferStatus.RESTRICTED})

#: Plural group titles for the recipients cell, in PartyRole order.
_RECIPIENT_GROUP_TITLES = {
    PartyRole.PROCESSOR: "Processors",
    PartyRole.SUB_PROCESSOR: "Sub-processors",
    PartyRole.JOINT_CONTROLLER: "Joint controllers",
    PartyRole.INDEPENDENT_CONTROLLER: "Independent controllers",
    PartyRole.GROUP_COMPANY: "Group companies",
    PartyRole.CLIENT_CONTROLLER: "Client controllers",
    PartyRole.PUBLIC_AUTHORITY: "Public authorities",
}


@cache
def _member(enum: type[Enum], value: str | None):
    """The enum member for a stored value, or None (unknown values are kept as text elsewhere);
    cached: a record looks up the same few values for every row."""
    if value is None:
        return None
    try:
        return enum(value)
    except ValueError:
        return None


def _label(enum: type[Enum], value: str | None) -> str:
    """Display label of a stored enum value; the raw value when it is not a member."""
    member = _member(enum, value)
    if member is None:
        return value or ""
    return getattr(member, "label", None) or str(member.value)


def _with_article(enum: type[DescribedEnum], value: str | None) -> str:
    """'Contract (Art 6(1)(b))': the label with the article it rests on."""
    member = _member(enum, value)
    if member is None:
        return value or ""
    return f"{member.label} ({member.article})"


#: The cell texts the basis columns use, offered as drop-down lists in the workbook.
LAWFUL_BASIS_CHOICES = tuple(_with_article(LawfulBasis, basis.value) for basis in LawfulBasis)
ARTICLE9_CHOICES = tuple(_with_article(Article9Condition, condition.value) for condition in Article9Condition)
COLUMN_CHOICES: dict[str, tuple[str, ...]] = {
    "lawful_basis": LAWFUL_BASIS_CHOICES,
    "article9_condition": ARTICLE9_CHOICES,
    "schedule1_lawful_basis": LAWFUL_BASIS_CHOICES,
}


def _derogation_article(mechanism: TransferMechanism) -> str:
    """'Art 49(1)(a)' from the mechanism's sourced description ('Article 49(1)(a).')."""
    return mechanism.description.split(";")[0].rstrip(".").replace("Article ", "Art ", 1)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


def _unique(items: Iterable[str]) -> list[str]:
    """Non-empty items, first occurrence kept, in order."""
    return [item for item in dict.fromkeys(items) if item]


def _joined(items: Iterable[str], separator: str = LIST_SEPARATOR) -> str:
    return separator.join(_unique(items))


def _unique_text(items: Iterable[str]) -> list[str]:
    """Like :func:`_unique`, but two texts that differ only in case or spacing are one (the first
    spelling kept): the same measure typed on an activity and on its system is said once."""
    seen: dict[str, str] = {}
    for item in items:
        key = " ".join((item or "").split()).casefold()
        if key and key not in seen:
            seen[key] = item.strip()
    return list(seen.values())


def _from_systems(text: str, from_systems: bool) -> str:
    """A categories or individuals cell, marked when it lists what the systems hold, not what was declared."""
    return f"{text}{LINE_SEPARATOR}{FROM_SYSTEMS_NOTE}" if text and from_systems else text


def stated_keys(declared: Iterable[str], carried: Iterable[str], held: Callable[[], Iterable[str]]) -> tuple[set[str], bool]:
    """The taxonomy keys the record states for one activity (Art 30(1)(c): the categories processed
    for that purpose), and whether some came from its systems.

    What the activity declares plus what its own flows (flows tagged with it) carry. What its
    systems hold is added only when it declares nothing at all, so that no row is blank: a shared
    system (a SIEM, the office suite) holds data of many purposes, and claiming all of it for each
    activity overstates every row. The record cells, the retention schedule, and every rule that
    compares the record with something (Art 9 and 10, the privacy notice, DPIA criteria) use this;
    the DSAR map does not, as it must find the data wherever an activity's systems hold it.
    """
    declared = set(declared)
    stated = declared | set(carried)
    if declared:
        return stated, False
    from_systems = set(held()) - stated
    return stated | from_systems, bool(from_systems)


# --------------------------------------------------------------------------------------------
# Building the record
# --------------------------------------------------------------------------------------------


class _RecordBuilder:
    """Reads the current catalogue once, then derives every row from it.

    The current rows come from the graph, which read them while loading. Labels, country names
    and category texts repeat across tens of thousands of rows, so each is worked out once.
    """

    def __init__(self, session: Session, taxonomy: Taxonomy, jurisdictions: Jurisdictions,
                 graph: CatalogGraph | None = None, transfers: list[Transfer] | None = None):
        self.session, self.taxonomy, self.jurisdictions = session, taxonomy, jurisdictions
        self.graph = graph if graph is not None else CatalogGraph.load(session)
        self.organisation = self.graph.organisation
        self.regimes = tuple(self.graph.regimes)
        rows = self.graph.rows
        # sorted here, not by the database: PostgreSQL collations order '-' and '_' unlike SQLite
        self.activities = sorted(rows.activities.values(), key=attrgetter("id"))
        self.systems = {row.id: row for row in sorted(rows.systems.values(), key=attrgetter("id"))}
        self.parties = {row.id: row for row in sorted(rows.parties.values(), key=attrgetter("id"))}
        self.locations = dict(rows.locations)
        self.datasets: dict[str, list[Dataset]] = defaultdict(list)
        for dataset in sorted(rows.datasets.values(), key=attrgetter("system_id", "name")):
            if dataset.system_id in self.systems:
                self.datasets[dataset.system_id].append(dataset)
        self.activity_systems: dict[str, list[str]] = defaultdict(list)
        for link in sorted(rows.activity_systems, key=attrgetter("activity_id", "system_id")):
            if link.system_id in self.systems:
                self.activity_systems[link.activity_id].append(link.system_id)
        self.system_activities: dict[str, list[str]] = defaultdict(list)  # the other way round, for hosting rows
        for activity_id, system_ids in self.activity_systems.items():
            for system_id in system_ids:
                self.system_activities[system_id].append(activity_id)
        self.activity_recipients: dict[str, list[str]] = defaultdict(list)
        for link in sorted(rows.activity_recipients, key=attrgetter("activity_id", "party_id")):
            if link.party_id in self.parties:
                self.activity_recipients[link.activity_id].append(link.party_id)
        self.flows_by_activity: dict[str, list] = defaultdict(list)
        for edge in self.graph.flows():
            if edge.data.get("activity_id"):
                self.flows_by_activity[edge.data["activity_id"]].append(edge)
        self.activity_names = {activity.id: activity.name for activity in self.activities}
        self.transfers = list(transfers) if transfers is not None else derive_transfers(self.graph, jurisdictions)
        self.transfers_by_activity: dict[str | None, list[Transfer]] = defaultdict(list)
        self.transfers_by_exporter: dict[str, list[Transfer]] = defaultdict(list)
        self.transfer_order = {id(transfer): index for index, transfer in enumerate(self.transfers)}
        self.first_exporter: dict[str, str] = {}  # flow id -> who sends first (an onward chain's ids start with it, then '>')
        for transfer in self.transfers:
            self.transfers_by_activity[transfer.activity_id].append(transfer)
            self.transfers_by_exporter[transfer.exporter].append(transfer)
            if not transfer.via:
                self.first_exporter.setdefault(transfer.flow_id, transfer.exporter)
        self.controller_activities = [activity for activity in self.activities if activity.role == SystemRole.CONTROLLER]
        self._category_labels: dict[str, str] = {}
        self._stated_categories: dict[str, tuple[set[str], bool]] = {}
        self._name_counts = Counter(activity.name.casefold() for activity in self.activities)
        self._categories_texts: dict[frozenset[str], str] = {}
        self._country_names: dict[str, str] = {}
        self._system_locations: dict[str, str] = {}

    @cached_property
    def fields(self) -> dict[int, list[DataField]]:
        """Fields by dataset, in name order: only the annexes (inventory, retention, taxonomy) read them."""
        dataset_ids = {dataset.id for datasets in self.datasets.values() for dataset in datasets}
        fields: dict[int, list[DataField]] = defaultdict(list)
        for item in sorted(self.graph.rows.fields.values(), key=attrgetter("dataset_id", "name")):
            if item.dataset_id in dataset_ids:
                fields[item.dataset_id].append(item)
        return fields

    @cached_property
    def runs(self) -> dict[int, IngestRun]:
        return {run.id: run for run in self.session.exec(select(IngestRun)).all()}

    # ---- shared derivations ------------------------------------------------------------------
    def category_label(self, key: str) -> str:
        """The category's label, marked when it is special category or criminal offence data."""
        if key not in self._category_labels:
            label = self.taxonomy.label(TaxonomyKind.DATA_CATEGORY, key)
            if self.taxonomy.article9_category(key):
                label = f"{label} (special category, Art 9)"
            elif self.taxonomy.article10_category(key):
                label = f"{label} (criminal offence data, Art 10)"
            self._category_labels[key] = label
        return self._category_labels[key]

    def categories_text(self, keys: Iterable[str]) -> str:
        keys = frozenset(keys)
        if keys not in self._categories_texts:
            self._categories_texts[keys] = _joined(sorted({self.category_label(key) for key in keys}, key=str.casefold))
        return self._categories_texts[keys]

    def country_name(self, code: str) -> str:
        if code not in self._country_names:
            self._country_names[code] = self.jurisdictions.country_name(code)
        return self._country_names[code]

    def special_text(self, key: str) -> str:
        """'Special category (Art 9): health' or 'Criminal offence data (Art 10)'; blank otherwise."""
        special = self.taxonomy.article9_category(key)
        if special:
            return f"Special category (Art 9): {special}"
        return "Criminal offence data (Art 10)" if self.taxonomy.article10_category(key) else ""

    def dataset_categories(self, dataset: Dataset) -> set[str]:
        return {key for item in self.fields.get(dataset.id, ()) for key in item.data_categories or ()}

    def stated_categories(self, activity: ProcessingActivity) -> tuple[set[str], bool]:
        """The categories the record states for an activity, and whether they came from its
        systems (:func:`stated_keys`); asked by its row and its retention rows, worked out once."""
        if activity.id not in self._stated_categories:
            carried = (key for edge in self.flows_by_activity.get(activity.id, []) for key in edge.data.get("categories", ()))
            self._stated_categories[activity.id] = stated_keys(
                activity.data_categories or (), carried, lambda: self.held_categories(activity.id),
            )
        return self._stated_categories[activity.id]

    def activity_categories(self, activity: ProcessingActivity) -> set[str]:
        """The categories the record states for an activity (see :func:`stated_keys`)."""
        return self.stated_categories(activity)[0]

    def held_categories(self, activity_id: str) -> set[str]:
        """Every category on the fields of the activity's systems, whichever purpose put it there."""
        held: set[str] = set()
        for system_id in self.activity_systems.get(activity_id, []):
            held |= self.graph.categories_held(node_key(NodeKind.SYSTEM, system_id))
        return held

    def stated_subjects(self, activity: ProcessingActivity) -> tuple[set[str], bool]:
        """The data subjects the record states: the declared ones, else those of its systems' datasets."""
        def held() -> Iterator[str]:
            for system_id in self.activity_systems.get(activity.id, []):
                for dataset in self.datasets.get(system_id, ()):
                    yield from dataset.data_subjects or ()

        return stated_keys(activity.data_subjects or (), (), held)

    def activity_label(self, activity_id: str | None) -> str:
        """How every sheet names an activity: its name, with its id where another current activity
        has the same name (a raw id only for an activity the catalogue no longer holds)."""
        if not activity_id:
            return ""
        name = self.activity_names.get(activity_id)
        if name is None:
            return activity_id
        return f"{name} ({activity_id})" if self._name_counts[name.casefold()] > 1 else name

    def third_country_regimes(self, transfer: Transfer) -> tuple[Regime, ...]:
        """The regimes the record is kept under for which this transfer goes to a third country:
        outside that regime's territory, adequate or not (Art 30(1)(e) asks for every transfer to a
        third country, not only restricted ones). Ireland is a third country under UK GDPR
        (adequate by DPA 2018 Sch 21 para 5) though not under EU GDPR; the United Kingdom is one
        under EU GDPR for data leaving the EEA."""
        return tuple(Regime(regime) for regime in self.regimes if transfer.assessment(regime).status in THIRD_COUNTRY)

    def status_text(self, transfer: Transfer, regime: Regime) -> str:
        """'Adequacy: DPA 2018 Schedule 21 paragraph 5': the status under a regime, naming the
        adequacy instrument where one applies."""
        assessment = transfer.assessment(regime)
        label = _label(TransferStatus, assessment.status)
        if assessment.status in ADEQUATE and assessment.adequacy is not None:
            return f"{label}: {self.adequacy_text(assessment.adequacy)}"
        return label

    @staticmethod
    def adequacy_text(adequacy: Adequacy) -> str:
        """The instrument, with the scope it is limited to: 'SI 2023/1028; importer holds DPF-UK-Extension'."""
        if adequacy.scope is AdequacyScope.PARTIAL_SECTOR and adequacy.conditions:
            return f"{adequacy.instrument} (for {adequacy.conditions} only)"
        if adequacy.scope is AdequacyScope.CERTIFIED_ONLY and adequacy.certification:
            return f"{adequacy.instrument}; importer holds {adequacy.certification}"
        return adequacy.instrument

    def mechanism_text(self, transfer: Transfer, regime: Regime) -> str | None:
        """What the transfer rests on under one regime: adequacy with its instrument, the mechanism
        on record that covers it, or that none is on record; None when it is no transfer to a third
        country under that regime."""
        assessment = transfer.assessment(regime)
        if assessment.status not in THIRD_COUNTRY:
            return None
        if assessment.status in ADEQUATE and assessment.adequacy is not None:
            return f"adequacy, {self.adequacy_text(assessment.adequacy)}"
        held = [_member(TransferMechanism, value) or value for value in dict.fromkeys(transfer.on_record) if value]
        covering = [m for m in held if isinstance(m, TransferMechanism) and mechanism_covers(m, regime)]
        scc = any(isinstance(m, TransferMechanism) and m.value.startswith("eu_scc_") for m in held)
        if regime is Regime.EU_GDPR and scc:
            covering = [m for m in covering if m is not TransferMechanism.UK_ADDENDUM]  # the SCCs cover it, the Addendum is the UK's
        if regime in transfer.covered_under and covering:
            text = " + ".join(m.label for m in covering)
            if regime is Regime.EU_GDPR and not scc and TransferMechanism.UK_ADDENDUM in covering:
                # the Addendum amends EU SCCs; catalog.transfers may take them as signed with it,
                # but none is on record: say so rather than imply more
                text += " on record; no EU SCCs on record (EU GDPR coverage inferred from the Addendum)"
            return text
        if not held:
            return "no transfer mechanism on record"
        names = " + ".join(m.label if isinstance(m, TransferMechanism) else m for m in held)
        return f"no {regime.label} mechanism on record (on record: {names}; not an instrument of {regime.label})"

    def mechanisms_text(self, transfer: Transfer) -> str:
        """'UK GDPR: ...' per regime kept under which the transfer goes to a third country."""
        lines = []
        for regime in self.third_country_regimes(transfer):
            text = self.mechanism_text(transfer, regime)
            if text:
                lines.append(f"{regime.label}: {text}")
        return LINE_SEPARATOR.join(lines)

    def system_keys(self, activity_id: str) -> set[str]:
        return {node_key(NodeKind.SYSTEM, system_id) for system_id in self.activity_systems.get(activity_id, ())}

    def transfers_of(self, activity_id: str, *, recipients: Iterable[str] = ()) -> list[Transfer]:
        """Transfers made for an activity: its flows, plus its systems sending to its recipients."""
        importers = {node_key(NodeKind.PARTY, party_id) for party_id in recipients}
        chosen = {id(t): t for t in self.transfers_by_activity.get(activity_id, ())}
        for system in self.system_keys(activity_id):
            chosen.update((id(t), t) for t in self.transfers_by_exporter.get(system, ()) if t.importer in importers)
        return sorted(chosen.values(), key=lambda t: self.transfer_order[id(t)])

    def third_countries(self, transfers: Iterable[Transfer]) -> list[str]:
        """Each destination that is a third country under a regime the record is kept under, by
        name, with the regime when it is one under some of them only: 'Ireland (UK GDPR)'."""
        regimes_of: dict[str, set[Regime]] = defaultdict(set)
        for transfer in transfers:
            regimes_of[transfer.destination].update(self.third_country_regimes(transfer))
        names = []
        for code, regimes in regimes_of.items():
            if not regimes:
                continue
            name = self.country_name(code)
            if len(regimes) < len(self.regimes):
                name += f" ({', '.join(regime.label for regime in Regime if regime in regimes)})"
            names.append(name)
        return sorted(names, key=str.casefold)

    def security_measures(self, own: Iterable[str], system_ids: Iterable[str]) -> str:
        measures = list(own)
        for system_id in system_ids:
            measures.extend(self.systems[system_id].security_measures or ())
        return LIST_SEPARATOR.join(_unique_text(measures))

    def location_text(self, location_id: str) -> str:
        """'London DC (Acme, London, United Kingdom)'."""
        location = self.locations[location_id]
        details = _unique([location.provider or "", location.city or "", self.country_name(location.country)])
        return f"{location.name} ({', '.join(details)})"

    def system_locations(self, system_id: str) -> str:
        """Where a system is hosted; asked for by its row and by every activity that uses it."""
        if system_id not in self._system_locations:
            location_ids = self.graph.node(node_key(NodeKind.SYSTEM, system_id)).get("locations", ())
            self._system_locations[system_id] = _joined(
                self.location_text(location_id) for location_id in location_ids if location_id in self.locations
            )
        return self._system_locations[system_id]

    def party_text(self, party: Party) -> str:
        """'Cloudco Inc (United States)': name with the countries where it receives or processes the data."""
        countries = _unique(self.country_name(code) for code in [party.country, *(party.processing_countries or ())] if code)
        return f"{party.name} ({', '.join(countries)})" if countries else party.name

    def party_contact(self, party: Party) -> str:
        """'Client A plc (United Kingdom)' then its contact line, for joint controller and client cells."""
        contact = Contact.from_mapping(party.contact)
        lines = [f"{party.name} ({self.country_name(party.country)})", f"Contact: {contact.text()}" if contact else ""]
        return _joined(lines, LINE_SEPARATOR)

    # ---- controller record -------------------------------------------------------------------
    def controller_row(self, activity: ProcessingActivity) -> ControllerRow:
        system_ids = self.activity_systems.get(activity.id, [])
        flows = self.flows_by_activity.get(activity.id, [])

        purposes = [activity.purpose_text]
        if activity.purposes:
            uses = _joined(self.taxonomy.label(TaxonomyKind.DATA_USE, key) for key in activity.purposes)
            purposes.append(f"Data uses: {uses}")

        subjects, subjects_from_systems = self.stated_subjects(activity)
        categories, categories_from_systems = self.stated_categories(activity)
        special = any(self.taxonomy.article9_category(key) for key in categories) or bool(activity.article9_condition)
        criminal = any(self.taxonomy.article10_category(key) for key in categories) or bool(activity.article10_authority)
        # DPA 2018 Sch 1 (columns Z to AD) is about special category and criminal offence data only
        schedule1 = special or criminal

        recipient_ids = list(self.activity_recipients.get(activity.id, []))
        for edge in flows:
            target = self.graph.node(edge.target)
            if target["kind"] == NodeKind.PARTY:
                recipient_ids.append(target["id"])
        recipients = [self.parties[party_id] for party_id in sorted(set(recipient_ids)) if party_id in self.parties]

        transfers = self.transfers_of(activity.id, recipients=[party.id for party in recipients])
        subjects_text = _joined(sorted({self.taxonomy.label(TaxonomyKind.DATA_SUBJECT, key) for key in subjects}, key=str.casefold))

        return ControllerRow(
            activity_id=activity.id,
            activity_name=activity.name,
            business_function=activity.business_function,
            purposes=_joined(purposes, LINE_SEPARATOR),
            joint_controller=self.joint_controller(activity),
            data_subjects=_from_systems(subjects_text, subjects_from_systems),
            personal_data=_from_systems(self.categories_text(categories), categories_from_systems),
            recipients=self.recipients_text(recipients),
            processor_contracts=self.processor_contracts(recipients),
            third_countries=_joined(self.third_countries(transfers)),
            exceptional_transfer_safeguards=self.exceptional_safeguards(activity, transfers),
            retention=self.retention_text(activity, system_ids),
            security_measures=self.security_measures(activity.security_measures or (), system_ids),
            lawful_basis=_with_article(LawfulBasis, activity.lawful_basis),
            article9_condition=_with_article(Article9Condition, activity.article9_condition),
            legitimate_interests=activity.legitimate_interest or "",
            lia_link=activity.lia_link or "",
            rights=_joined(right.text for right in rights_available(
                activity.lawful_basis, automated_decision_making=bool(automated_decisions(activity.automated_decision_making)),
            )),
            automated_decision_making=activity.automated_decision_making or "",
            data_source=activity.data_source or "",
            consent_record_link=activity.consent_record_link or "",
            locations=_joined(
                (f"{self.systems[system_id].name}: {self.system_locations(system_id) or 'hosting location not recorded'}" for system_id in system_ids),
                LINE_SEPARATOR,
            ),
            dpia_required=_yes_no(activity.dpia_required),
            dpia_progress=_label(DpiaProgress, activity.dpia_progress),
            dpia_link=activity.dpia_link or "",
            breach_occurred="Yes" if activity.breach_record_link else "",  # no link is no evidence of no breach
            breach_record_link=activity.breach_record_link or "",
            schedule1_condition=_joined(
                [
                    activity.schedule1_condition or "",
                    f"Criminal offence data: {activity.article10_authority} (Art 10; DPA 2018 s10)" if activity.article10_authority else "",
                ],
                LINE_SEPARATOR,
            ) or ("" if schedule1 else NOT_APPLICABLE),
            schedule1_lawful_basis=_with_article(LawfulBasis, activity.lawful_basis) if schedule1 else NOT_APPLICABLE,
            retention_policy_link=(activity.retention_policy_link or "") if schedule1 else NOT_APPLICABLE,
            retention_policy_followed=_yes_no(activity.retention_policy_followed) if schedule1 else NOT_APPLICABLE,
            retention_policy_deviation=(activity.retention_policy_deviation or "") if schedule1 else NOT_APPLICABLE,
            special_category=special,
            criminal_offence=criminal,
            sensitive_categories=tuple(sorted(
                {self.category_label(key) for key in categories if self.special_text(key)}, key=str.casefold,
            )),
            activity_label=self.activity_label(activity.id),
        )

    def joint_controller(self, activity: ProcessingActivity) -> str:
        party = self.parties.get(activity.joint_controller_id) if activity.joint_controller_id else None
        return self.party_contact(party) if party else ""

    def recipients_text(self, recipients: list[Party]) -> str:
        """'Processors: Cloudco Inc (US)' lines, one per role, in PartyRole order."""
        groups: dict[str, list[str]] = defaultdict(list)
        for party in recipients:
            groups[party.role].append(self.party_text(party))
        order = [role.value for role in PartyRole] + sorted(set(groups) - {role.value for role in PartyRole})
        lines = []
        for role in order:
            if role in groups:
                member = _member(PartyRole, role)
                title = _RECIPIENT_GROUP_TITLES.get(member, role) if member else role
                lines.append(f"{title}: {_joined(sorted(groups[role], key=str.casefold))}")
        return LINE_SEPARATOR.join(lines)

    def processor_contracts(self, recipients: list[Party]) -> str:
        """Contract reference of each processor and sub-processor recipient; missing ones said so."""
        entries = []
        for party in recipients:
            role = _member(PartyRole, party.role)
            if role is not None and role.is_processor:
                entries.append(f"{party.name}: {party.contract_ref or 'no contract on record'}")
        return _joined(entries)

    def exceptional_safeguards(self, activity: ProcessingActivity, transfers: list[Transfer]) -> str:
        """Documented safeguards plus each Article 49 derogation relied on, with where to."""
        lines = [activity.transfer_safeguards or ""]
        derogations: dict[TransferMechanism, set[str]] = defaultdict(set)
        for transfer in transfers:
            mechanism = _member(TransferMechanism, transfer.mechanism)
            if mechanism is not None and mechanism.is_derogation:
                derogations[mechanism].add(self.country_name(transfer.destination))
        for mechanism in TransferMechanism:
            if mechanism in derogations:
                countries = ", ".join(sorted(derogations[mechanism], key=str.casefold))
                lines.append(f"{mechanism.label} ({_derogation_article(mechanism)}): {countries}")
        return _joined(lines, LINE_SEPARATOR)

    def retention_text(self, activity: ProcessingActivity, system_ids: list[str]) -> str:
        """The activity's retention, then datasets that keep data for a different period."""
        lines = [activity.retention or ""]
        for system_id in system_ids:
            for dataset in self.datasets.get(system_id, ()):
                if dataset.retention and dataset.retention != activity.retention:
                    lines.append(f"{self.systems[system_id].name} / {dataset.name}: {dataset.retention}")
        return _joined(lines, LINE_SEPARATOR)

    # ---- processor record --------------------------------------------------------------------
    def processor_rows(self) -> list[ProcessorRow]:
        by_controller: dict[str, list[ProcessingActivity]] = defaultdict(list)
        for activity in self.activities:
            if activity.role == SystemRole.PROCESSOR and activity.controller_id:
                by_controller[activity.controller_id].append(activity)
        clients = {party.id for party in self.parties.values() if party.role == PartyRole.CLIENT_CONTROLLER}
        rows = []
        for controller_id in sorted(clients | set(by_controller)):
            party = self.parties.get(controller_id)
            if party is None:
                continue  # the client was retired; its processing is no longer ours to record
            rows.append(self.processor_row(party, by_controller.get(controller_id, [])))
        return rows

    def processor_row(self, party: Party, activities: list[ProcessingActivity]) -> ProcessorRow:
        categories, transfers, system_ids, own_measures = [], [], [], []
        ours = {activity.id for activity in activities}
        # a flow from a shared system that is explicitly another client's processing is not this client's transfer
        other_clients = {a.id for a in self.activities if a.role == SystemRole.PROCESSOR and a.id not in ours}
        for activity in activities:
            purposes = activity.purpose_text or _joined(self.taxonomy.label(TaxonomyKind.DATA_USE, key) for key in activity.purposes)
            label = self.activity_label(activity.id)
            categories.append(f"{label}: {purposes}" if purposes else label)
            activity_systems = self.activity_systems.get(activity.id, [])
            system_ids.extend(activity_systems)
            own_measures.extend(activity.security_measures or ())
            transfers.extend(self.transfers_by_activity.get(activity.id, ()))
            for key in self.system_keys(activity.id):
                transfers.extend(t for t in self.transfers_by_exporter.get(key, ()) if t.activity_id not in other_clients)
        transfers = list({(t.flow_id, t.origin, t.destination): t for t in transfers}.values())
        representative, dpo = Contact.from_mapping(party.representative), Contact.from_mapping(party.dpo)
        return ProcessorRow(
            controller_id=party.id,
            controller=self.party_contact(party),
            representative=representative.text() if representative else "",
            dpo=dpo.text() if dpo else "",
            categories_of_processing=_joined(categories, LINE_SEPARATOR),
            third_countries=_joined(self.third_countries(transfers)),
            transfer_safeguards=self.transfer_safeguards(transfers),
            security_measures=self.security_measures(own_measures, _unique(system_ids)),
            contract_link=party.contract_ref or "",
        )

    def transfer_safeguards(self, transfers: list[Transfer]) -> str:
        """One line per third country and regime: what the transfers rest on there, naming the
        adequacy instrument or the mechanism on record, or that nothing is on record:
        'United States (UK GDPR): adequacy, SI 2023/1028; importer holds DPF-UK-Extension'."""
        by_country: dict[tuple[str, Regime], set[str]] = defaultdict(set)
        for transfer in transfers:
            for regime in self.third_country_regimes(transfer):
                text = self.mechanism_text(transfer, regime)
                if text:
                    by_country[(self.country_name(transfer.destination), regime)].add(text)
        order = list(Regime)
        return _joined(
            (
                f"{country} ({regime.label}): {'; '.join(sorted(texts))}"
                for (country, regime), texts in sorted(by_country.items(), key=lambda item: (item[0][0].casefold(), order.index(item[0][1])))
            ),
            LINE_SEPARATOR,
        )

    # ---- annexes -----------------------------------------------------------------------------
    def transfer_row(self, transfer: Transfer) -> TransferRow:
        gap_under = transfer.gap_under  # derived on each access: once here
        return TransferRow(
            flow_id=transfer.flow_id,
            activity=self.transfer_activity(transfer),
            exporter=transfer.exporter_name,
            exporter_role=self.role_label(transfer.exporter_role),
            importer=transfer.importer_name,
            importer_role=self.role_label(transfer.importer_role),
            onward_via=" > ".join(self.graph.node(key)["label"] for key in transfer.via if key in self.graph.graph),
            origin=self.country_name(transfer.origin),
            destination=self.country_name(transfer.destination),
            personal_data=self.categories_text(transfer.data_categories),
            uk_status=self.status_text(transfer, Regime.UK_GDPR),
            eu_status=self.status_text(transfer, Regime.EU_GDPR),
            mechanism=self.mechanisms_text(transfer),
            assessment_ref=transfer.assessment_ref or "",
            gap=f"Yes ({', '.join(regime.label for regime in gap_under)})" if gap_under else "No",
        )

    def transfer_activity(self, transfer: Transfer) -> str:
        """The activity a transfer serves. A flow names its own. A system's hosting, a flow recorded
        for no single activity (one carrying a platform's data for every client it hosts), and the
        onward chains below them serve every activity that uses the sending system: those are named,
        as such, rather than the cell left blank."""
        if transfer.activity_id:
            return self.activity_label(transfer.activity_id)
        sender = self.first_exporter.get(transfer.flow_id.split(">", 1)[0], transfer.exporter)
        node = self.graph.node(sender) if sender in self.graph.graph else {}
        if node.get("kind") != NodeKind.SYSTEM:
            return ""  # sent by the organisation itself to a recipient: its entry names the activity
        using = self.system_activities.get(node["id"], [])
        return f"Every activity using {node['label']}: {_joined(self.activity_label(a) for a in using)}" if using else ""

    @staticmethod
    def role_label(role: str) -> str:
        if role == "system":
            return "Our system"
        return _label(PartyRole, role) if _member(PartyRole, role) else _label(SystemRole, role)

    def system_row(self, system: System) -> SystemRow:
        owner = _joined([system.owner_team, system.owner_email], ", ")
        return SystemRow(
            system_id=system.id,
            system=system.name,
            role=_label(SystemRole, system.role),
            status=_label(SystemStatus, system.status),
            owner=owner,
            locations=self.system_locations(system.id),
            datasets=len(self.datasets.get(system.id, ())),
            personal_data=self.categories_text(self.graph.categories_held(node_key(NodeKind.SYSTEM, system.id))),
        )

    def inventory_rows(self) -> list[InventoryRow]:
        rows = []
        for system in self.systems.values():
            for dataset in self.datasets.get(system.id, ()):
                for item in self.fields.get(dataset.id, ()):
                    keys = sorted(item.data_categories or ()) or [""]
                    rows.extend(
                        InventoryRow(
                            system_id=system.id, system=system.name, dataset=dataset.name, field=item.name,
                            category_key=key, category=self.taxonomy.label(TaxonomyKind.DATA_CATEGORY, key) if key else "",
                            special=self.special_text(key) if key else "", source=item.source,
                        )
                        for key in keys
                    )
        return rows

    def parent_chain(self, party: Party) -> list[str]:
        """Names of the processors above a sub-processor, top first (stops at a loop or a retired parent)."""
        chain: list[str] = []
        seen = {party.id}
        parent = self.parties.get(party.parent_id) if party.parent_id else None
        while parent is not None and parent.id not in seen:
            chain.insert(0, parent.name)
            seen.add(parent.id)
            parent = self.parties.get(parent.parent_id) if parent.parent_id else None
        return chain

    def recipient_rows(self) -> list[RecipientRow]:
        """Every party we disclose to; client controllers are who we act for, in the processor record."""
        return [
            RecipientRow(
                party_id=party.id, recipient=party.name, role=_label(PartyRole, party.role),
                country=_joined(self.country_name(code) for code in [party.country, *(party.processing_countries or ())]),
                contract_ref=party.contract_ref or "", chain=" > ".join(self.parent_chain(party)),
            )
            for party in self.parties.values() if party.role != PartyRole.CLIENT_CONTROLLER
        ]

    def retention_rows(self, activities: list[ProcessingActivity]) -> list[RetentionRow]:
        """Per activity and category: the activity's period, then each dataset holding the category
        for a different period (Article 30(2) asks processors for none, so controller activities only)."""
        rows = []
        for activity in activities:
            for key in sorted(self.activity_categories(activity)):
                label = self.taxonomy.label(TaxonomyKind.DATA_CATEGORY, key)
                row = RetentionRow(activity.id, self.activity_label(activity.id), label, key, activity.retention or "", "Processing activity")
                rows.append(row)
                for system_id in self.activity_systems.get(activity.id, []):
                    for dataset in self.datasets.get(system_id, ()):
                        if dataset.retention and dataset.retention != activity.retention and key in self.dataset_categories(dataset):
                            place = f"{self.systems[system_id].name} / {dataset.name}"
                            rows.append(dataclasses.replace(row, retention=dataset.retention, applies_to=place))
        return rows

    def security_rows(self) -> list[SecurityRow]:
        """One row per measure of each activity, then of each system; a blank measure shows none is on record."""
        rows = []
        for scope, entries in (("Processing activity", self.activities), ("System", self.systems.values())):
            for entry in entries:
                measures = _unique_text(entry.security_measures or ()) or [""]
                name = self.activity_label(entry.id) if scope == "Processing activity" else entry.name
                rows.extend(SecurityRow(scope, name, entry.id, measure) for measure in measures)
        return rows

    def taxonomy_rows(self) -> list[TaxonomyRow]:
        """Every key the catalogue's current entries use, by vocabulary, with its meaning and origin."""
        used: dict[TaxonomyKind, set[str]] = defaultdict(set)
        for activity in self.activities:
            used[TaxonomyKind.DATA_USE].update(activity.purposes or ())
            used[TaxonomyKind.DATA_SUBJECT].update(activity.data_subjects or ())
            used[TaxonomyKind.DATA_CATEGORY].update(activity.data_categories or ())
        for datasets in self.datasets.values():
            for dataset in datasets:
                used[TaxonomyKind.DATA_SUBJECT].update(dataset.data_subjects or ())
                used[TaxonomyKind.DATA_CATEGORY].update(self.dataset_categories(dataset))
        for edge in self.graph.flows():
            used[TaxonomyKind.DATA_CATEGORY].update(edge.data.get("categories", ()))
        rows = []
        for kind in TaxonomyKind:
            for key in sorted(used[kind]):
                entry = self.taxonomy.get(kind, key)
                rows.append(TaxonomyRow(
                    kind.label.capitalize(), key, entry.name if entry else key,
                    entry.description if entry else "", entry.origin if entry else "not in the taxonomy",
                ))
        return rows

    def revision(self) -> CatalogueRevision | None:
        event = self.session.exec(select(ChangeEvent).order_by(ChangeEvent.id.desc()).limit(1)).first()
        return CatalogueRevision(event.id, event.at) if event is not None else None

    def activity_dates(self) -> list[ActivityDates]:
        dates = []
        for activity in self.activities:
            run = self.runs.get(activity.run_id) if activity.run_id is not None else None
            dates.append(ActivityDates(activity.id, activity.run_id, (run.finished_at or run.started_at) if run else None))
        return dates

    def organisation_contacts(self) -> OrganisationContacts | None:
        organisation = self.organisation
        if organisation is None:
            return None
        return OrganisationContacts(
            controller=Contact(organisation.name, organisation.address, organisation.email, organisation.phone),
            dpo=Contact.from_mapping(organisation.dpo),
            uk_representative=Contact.from_mapping(organisation.uk_representative),
            eu_representative=Contact.from_mapping(organisation.eu_representative),
            registration=organisation.registration,
            country=organisation.country,
            country_name=self.country_name(organisation.country) if organisation.country else "",
            established_under=tuple(
                regime.value for regime in Regime if organisation.country in self.jurisdictions.territory(regime)
            ),
        )

    def registers(self) -> Registers:
        return Registers(
            controller_rows=tuple(self.controller_row(activity) for activity in self.controller_activities),
            processor_rows=tuple(self.processor_rows()),
        )

    def build(self, generated_at: datetime | None, revision: CatalogueRevision | None = None) -> Record:
        registers = self.registers()
        return Record(
            organisation=self.organisation_contacts(),
            regimes=self.regimes,
            controller_rows=registers.controller_rows,
            processor_rows=registers.processor_rows,
            transfer_rows=tuple(self.transfer_row(transfer) for transfer in self.transfers),
            system_rows=tuple(self.system_row(system) for system in self.systems.values()),
            generated_at=generated_at,
            inventory_rows=tuple(self.inventory_rows()),
            recipient_rows=tuple(self.recipient_rows()),
            retention_rows=tuple(self.retention_rows(self.controller_activities)),
            security_rows=tuple(self.security_rows()),
            taxonomy_rows=tuple(self.taxonomy_rows()),
            revision=revision or self.revision(),
            activity_dates=tuple(self.activity_dates()),
        )


def build_record(
    session: Session,
    *,
    generated_at: datetime | None = None,
    taxonomy: Taxonomy | None = None,
    jurisdictions: Jurisdictions | None = None,
    revision: CatalogueRevision | None = None,
    graph: CatalogGraph | None = None,
    transfers: list[Transfer] | None = None,
) -> Record:
    """Derive the Article 30 record from the current (non-retired) catalogue entries.

    ``generated_at`` is the moment the record shows, set for a past state (``record_as_of``)
    or a fixed time (byte-identical output for tests); leave it None for a record of now, and
    the writer stamps the time it writes (a record kept by the dashboard is written later than it
    is derived). ``revision`` overrides the catalogue revision
    read from the history (a record rebuilt from an earlier state names the revision it shows).
    ``graph`` and ``transfers`` may be passed when the caller already built them from the same
    session's catalogue (the dashboard keeps them per revision), to avoid reading it twice.
    """
    builder = _RecordBuilder(session, taxonomy or load_taxonomy(), jurisdictions or load_jurisdictions(), graph, transfers)
    return builder.build(generated_at, revision)


def build_registers(
    session: Session,
    *,
    taxonomy: Taxonomy | None = None,
    jurisdictions: Jurisdictions | None = None,
    graph: CatalogGraph | None = None,
    transfers: list[Transfer] | None = None,
) -> Registers:
    """The controller and processor rows of :func:`build_record`, equal to its, without the annexes:
    for a reader that shows the registers first and builds the whole record only when asked."""
    builder = _RecordBuilder(session, taxonomy or load_taxonomy(), jurisdictions or load_jurisdictions(), graph, transfers)
    return builder.registers()
