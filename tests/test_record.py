"""The Article 30 record is derived from the catalogue: columns, rows, rights, transfers, retirement."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime

import pytest

from catalog.apply import apply_spec
from catalog.record import (
    ACTIVITY_COLUMN,
    CONTROLLER_COLUMNS,
    CONTROLLER_SECTIONS,
    CONTROLLER_SHEET_COLUMNS,
    FROM_SYSTEMS_NOTE,
    NOT_APPLICABLE,
    NOT_RECORDED,
    PROCESSOR_COLUMNS,
    SYSTEM_HEADINGS,
    TRANSFER_HEADINGS,
    ControllerRow,
    Record,
    automated_decisions,
    build_record,
    build_registers,
    column_letter,
    rights_available,
    stated_keys,
)
from catalog.graph import CatalogGraph
from catalog.specs import CatalogSpec
from catalog.transfers import derive_transfers
from catalog.vocab import LawfulBasis
from tests.factories import small_spec_data

# The ICO controller template's headings, typed here independently of catalog/record.py so that a
# slip in either place fails the test.
ICO_HEADINGS = [
    "Business function",
    "Purpose of processing",
    "Name and contact details of joint controller (if applicable)",
    "Categories of individuals",
    "Categories of personal data",
    "Categories of recipients",
    "Link to contract with processor",
    "Names of third countries or international organisations that personal data are transferred to (if applicable)",
    "Safeguards for exceptional transfers of personal data to third countries or international organisations (if applicable)",
    "Retention schedule (if possible)",
    "General description of technical and organisational security measures (if possible)",
    "Article 6 lawful basis for processing personal data",
    "Article 9 condition for processing special category data",
    "Legitimate interests for the processing (if applicable)",
    "Link to record of legitimate interests assessment (if applicable)",
    "Rights available to individuals",
    "Existence of automated decision-making, including profiling (if applicable)",
    "The source of the personal data (if applicable)",
    "Link to record of consent",
    "Location of personal data",
    "Data Protection Impact Assessment required?",
    "Data Protection Impact Assessment progress",
    "Link to Data Protection Impact Assessment",
    "Has a personal data breach occurred?",
    "Link to record of personal data breach",
    "Data Protection Act 2018 Schedule 1 condition for processing",
    "GDPR Article 6 lawful basis for processing",
    "Link to retention and erasure policy document",
    "Is personal data retained and erased in accordance with the policy document?",
    "Reasons for not adhering to policy document (if applicable)",
]
ICO_SECTION_SIZES = {
    "Article 30 Record of Processing Activities": 11,
    "Privacy notices": 7,
    "Consent": 1,
    "Access requests": 1,
    "Data Protection Impact Assessments": 3,
    "Personal data breaches": 2,
    "Data Protection Act 2018 - Special category or criminal conviction and offence data": 5,
}


def _record(catalog) -> Record:
    with catalog.session() as session:
        return build_record(session)


def _apply(catalog, data: dict) -> None:
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")


def _row(record: Record, activity_id: str) -> ControllerRow:
    return next(row for row in record.controller_rows if row.activity_id == activity_id)


# ---- columns -----------------------------------------------------------------------------------


def test_controller_columns_follow_the_ico_template():
    assert [column.heading for column in CONTROLLER_COLUMNS] == ICO_HEADINGS
    assert [column.number for column in CONTROLLER_COLUMNS] == list(range(1, 31))
    assert CONTROLLER_COLUMNS[0].letter == "A" and CONTROLLER_COLUMNS[25].letter == "Z" and CONTROLLER_COLUMNS[-1].letter == "AD"
    sizes = {section: sum(1 for c in CONTROLLER_COLUMNS if c.section == section) for section in CONTROLLER_SECTIONS}
    assert sizes == ICO_SECTION_SIZES
    assert list(dict.fromkeys(c.section for c in CONTROLLER_COLUMNS)) == list(ICO_SECTION_SIZES)


def test_required_columns_are_article_30_and_schedule_1():
    required = [column.number for column in CONTROLLER_COLUMNS if column.required]
    assert required == [*range(1, 12), *range(26, 31)]
    assert all(column.article for column in CONTROLLER_COLUMNS)
    by_heading = {column.heading: column for column in CONTROLLER_COLUMNS}
    assert by_heading["Purpose of processing"].article == "Art 30(1)(b)"
    assert by_heading["Article 6 lawful basis for processing personal data"].article.startswith("Art 6(1)")
    assert by_heading["Data Protection Act 2018 Schedule 1 condition for processing"].article.startswith("DPA 2018 Sch 1 para 41")


def test_the_activity_column_follows_the_template():
    """AE names the activity; the 30 template columns stay A to AD, as readers of ICO sheets expect."""
    assert CONTROLLER_SHEET_COLUMNS[:30] == CONTROLLER_COLUMNS and CONTROLLER_SHEET_COLUMNS[30] == ACTIVITY_COLUMN
    assert (ACTIVITY_COLUMN.letter, ACTIVITY_COLUMN.heading, ACTIVITY_COLUMN.required) == ("AE", "Processing activity", False)
    assert ACTIVITY_COLUMN.section not in CONTROLLER_SECTIONS


def test_column_letters():
    assert [column_letter(n) for n in (1, 26, 27, 30, 52, 53)] == ["A", "Z", "AA", "AD", "AZ", "BA"]


def test_row_shapes_match_their_headings(loaded_catalog):
    record = _record(loaded_catalog)
    assert all(len(row.cells()) == len(CONTROLLER_SHEET_COLUMNS) for row in record.controller_rows)
    assert all(len(row.cells()) == len(PROCESSOR_COLUMNS) for row in record.processor_rows)
    assert all(len(row.cells()) == len(TRANSFER_HEADINGS) for row in record.transfer_rows)
    assert all(len(row.cells()) == len(SYSTEM_HEADINGS) for row in record.system_rows)
    assert all(isinstance(cell, str) for row in record.controller_rows for cell in row.cells())


# ---- the controller record, derived ------------------------------------------------------------


def test_client_management_row_is_derived_from_the_catalogue(loaded_catalog):
    record = _record(loaded_catalog)
    assert [row.activity_id for row in record.controller_rows] == ["client-management"]  # the processor activity is not here
    row = _row(record, "client-management").as_dict()
    assert row["Business function"] == "Sales"
    assert row["Purpose of processing"].startswith("Manage client contracts")
    assert "Essential for Service" in row["Purpose of processing"]
    assert row["Categories of individuals"] == "Customer"
    # the declared category plus what the activity's flows carry (crm-backup carries the name);
    # the bank details the CRM also holds are declared by no activity: ROPA-A30-001's, not this row's
    assert row["Categories of personal data"] == "Name; User Contact Email"
    assert "Processors: Cloudco Inc (United States)" in row["Categories of recipients"]  # countries by name
    assert "Sub-processors: Helpdesk India Pvt (India)" in row["Categories of recipients"]  # receives a flow of this activity
    assert "Metrics LLC" not in row["Categories of recipients"]  # its flow serves no activity
    assert "Cloudco Inc: DPA-2024-01" in row["Link to contract with processor"]
    assert "Helpdesk India Pvt: no contract on record" in row["Link to contract with processor"]
    countries = row[ICO_HEADINGS[7]].split("; ")
    assert {country.split(" (")[0] for country in countries} == {"India", "Ireland", "United States"}
    # the Irish backup is a third country under UK GDPR (adequate) though not under EU GDPR
    assert "Ireland (UK GDPR)" in countries
    assert row["Retention schedule (if possible)"] == "6 years after contract end"
    assert row["Article 6 lawful basis for processing personal data"] == "Contract (Art 6(1)(b))"
    rights = row["Rights available to individuals"]
    assert "Data portability (Art 20)" in rights and "Erasure (Art 17)" in rights and "Access (Art 15)" in rights
    assert "Object (Art 21)" not in rights and "Withdraw consent" not in rights
    # facts the catalogue does not hold stay blank, like every other unknown cell: no default "No"
    assert row[ICO_HEADINGS[16]] == ""
    assert row["The source of the personal data (if applicable)"] == ""
    assert "CRM: London DC (Acme, London, United Kingdom)" in row["Location of personal data"]
    assert "Backup vault: Dublin region (Cloudco, Dublin, Ireland)" in row["Location of personal data"]
    assert row["Has a personal data breach occurred?"] == ""  # no breach link is no evidence of no breach
    assert row["Data Protection Impact Assessment required?"] == ""  # unknown stays blank, not "No"
    # no special category or criminal offence data: the DPA 2018 Schedule 1 section does not apply
    assert [row[heading] for heading in ICO_HEADINGS[25:]] == [NOT_APPLICABLE] * 5
    assert row["Processing activity"] == "Client management"


@pytest.fixture
def rich_catalog(catalog):
    """The small catalogue plus health and criminal data, a joint controller, a derogation, a breach, a DPIA."""
    data = small_spec_data()
    data["parties"].append({
        "id": "partner", "name": "Partner Clinic Ltd", "role": "joint_controller", "country": "GB",
        "contact": {"name": "Privacy Team", "email": "privacy@partner.example"},
    })
    data["parties"].append({"id": "lab-us", "name": "US Lab Inc", "role": "independent_controller", "country": "US"})
    data["systems"].append({
        "id": "clinic", "name": "Clinic records", "hosted_in": ["lon"], "security_measures": ["Encryption at rest"],
        "datasets": [{"name": "patients", "data_subjects": ["patient"], "retention": "8 years", "fields": [
            {"name": "diagnosis", "categories": ["user.health_and_medical"]},
            {"name": "convictions", "categories": ["user.criminal_history"]},
        ]}],
    })
    data["activities"].append({
        "id": "patient-care", "name": "Patient care", "business_function": "Clinical",
        "purpose": "Treat patients", "data_subjects": ["patient"], "lawful_basis": "public_task",
        "article9_condition": "health_social_care", "schedule1_condition": "Part 1 para 2 health or social care purposes",
        "joint_controller": "partner", "retention": "10 years", "security_measures": ["Role-based access"],
        "automated_decision_making": "Triage scoring", "source_of_data": "Referring GP",
        "dpia_required": True, "dpia_progress": "completed", "dpia_link": "https://dpia.example/1",
        "breach_record_link": "https://breach.example/7", "transfer_safeguards": "Pseudonymised before transfer",
        "retention_policy_link": "https://policy.example", "retention_policy_followed": False,
        "retention_policy_deviation": "Legacy archive", "systems": ["clinic"],
    })
    data["flows"].append({
        "id": "clinic-lab", "from": "clinic", "to": "lab-us", "categories": ["user.health_and_medical"],
        "activity": "patient-care", "transfer_mechanism": "derogation_vital_interests",
    })
    _apply(catalog, data)
    return catalog


def test_rich_row(rich_catalog):
    row = _row(_record(rich_catalog), "patient-care")
    cells = row.as_dict()
    assert row.special_category and row.criminal_offence
    assert "Health and Medical Data (special category, Art 9)" in cells["Categories of personal data"]
    assert "Criminal History (criminal offence data, Art 10)" in cells["Categories of personal data"]
    assert cells[ICO_HEADINGS[2]] == "Partner Clinic Ltd (United Kingdom)\nContact: Privacy Team, privacy@partner.example"
    assert "Independent controllers: US Lab Inc (United States)" in cells["Categories of recipients"]
    assert cells["Link to contract with processor"] == ""  # an independent controller needs no Art 28 contract
    assert cells[ICO_HEADINGS[7]].startswith("United States")
    safeguards = cells[ICO_HEADINGS[8]]
    assert "Pseudonymised before transfer" in safeguards
    assert "Derogation: vital interests (Art 49(1)(f)): United States" in safeguards
    assert cells["Retention schedule (if possible)"] == "10 years\nClinic records / patients: 8 years"
    assert cells[ICO_HEADINGS[10]] == "Role-based access; Encryption at rest"
    assert cells["Article 6 lawful basis for processing personal data"] == "Public task (Art 6(1)(e))"
    assert cells["Article 9 condition for processing special category data"] == "Health or social care (Art 9(2)(h))"
    rights = cells["Rights available to individuals"]
    assert "Object (Art 21)" in rights and "Erasure" not in rights and "portability" not in rights
    assert "Not to be subject to solely automated decisions (Art 22)" in rights
    assert cells[ICO_HEADINGS[16]] == "Triage scoring"
    assert cells["The source of the personal data (if applicable)"] == "Referring GP"
    assert (cells[ICO_HEADINGS[20]], cells[ICO_HEADINGS[21]], cells[ICO_HEADINGS[22]]) == ("Yes", "Completed", "https://dpia.example/1")
    assert (cells[ICO_HEADINGS[23]], cells[ICO_HEADINGS[24]]) == ("Yes", "https://breach.example/7")
    assert cells[ICO_HEADINGS[25]] == "Part 1 para 2 health or social care purposes"
    assert cells["GDPR Article 6 lawful basis for processing"] == "Public task (Art 6(1)(e))"
    assert cells[ICO_HEADINGS[27]] == "https://policy.example"  # Schedule 1 applies: the policy columns stay
    assert cells[ICO_HEADINGS[28]] == "No" and cells[ICO_HEADINGS[29]] == "Legacy archive"


# ---- what each activity states (Art 30(1)(c)) --------------------------------------------------


def test_stated_keys_are_declared_plus_carried_else_held():
    held = lambda: {"user.name", "user.financial.bank_account"}  # noqa: E731
    assert stated_keys(["user.name"], ["user.contact.email"], held) == ({"user.name", "user.contact.email"}, False)
    assert stated_keys([], ["user.name"], held) == ({"user.name", "user.financial.bank_account"}, True)
    assert stated_keys([], [], lambda: ()) == (set(), False)


@pytest.fixture
def shared_system_catalog(catalog):
    """The small catalogue plus a SIEM every activity shares, holding data of several purposes,
    and an activity that declares no categories and no individuals."""
    data = small_spec_data()
    data["systems"].append({
        "id": "siem", "name": "SIEM", "hosted_in": ["lon"], "datasets": [
            {"name": "events", "data_subjects": ["employee", "visitor"], "fields": [
                {"name": "home", "categories": ["user.contact.home.address"]},
                {"name": "iban", "categories": ["user.financial.bank_account"]},
            ]},
        ],
    })
    data["activities"][0]["systems"].append("siem")
    data["activities"].append({
        "id": "log-review", "name": "Log review", "purpose": "Review logs", "lawful_basis": "legitimate_interests",
        "systems": ["siem"],
    })
    _apply(catalog, data)
    return catalog


def test_a_shared_system_does_not_put_its_data_into_every_row(shared_system_catalog):
    record = _record(shared_system_catalog)
    row = _row(record, "client-management").as_dict()
    assert row["Categories of individuals"] == "Customer"  # not the SIEM's employees and visitors
    assert row["Categories of personal data"] == "Name; User Contact Email"  # not its home addresses
    retained = {entry.category_key for entry in record.retention_rows if entry.activity_id == "client-management"}
    assert retained == {"user.contact.email", "user.name"}  # the retention schedule follows the row


def test_an_activity_declaring_nothing_shows_its_systems_data_marked(shared_system_catalog):
    row = _row(_record(shared_system_catalog), "log-review").as_dict()
    assert row["Categories of personal data"] == f"Bank Account Information; Home address\n{FROM_SYSTEMS_NOTE}"
    assert row["Categories of individuals"] == f"Employee; Visitor\n{FROM_SYSTEMS_NOTE}"


# ---- facts not on record -----------------------------------------------------------------------


@pytest.mark.parametrize(("recorded", "expected"), [
    (None, None), ("", None), ("  ", None), ("No", False), ("none", False), ("No automated decisions", False),
    ("Not applicable", False), ("Triage scoring", True), ("Nominal scoring of leads", True),
])
def test_automated_decisions_reads_a_recorded_no(recorded, expected):
    assert automated_decisions(recorded) is expected


def test_a_recorded_no_is_shown_and_grants_no_article_22_right(catalog):
    data = small_spec_data()
    data["activities"][0].update(automated_decision_making="No", source_of_data="The client's purchasing team")
    _apply(catalog, data)
    cells = _row(_record(catalog), "client-management").as_dict()
    assert cells[ICO_HEADINGS[16]] == "No"
    assert "Art 22" not in cells["Rights available to individuals"]
    assert cells["The source of the personal data (if applicable)"] == "The client's purchasing team"


# ---- rights ------------------------------------------------------------------------------------


def _names(basis: LawfulBasis, **kwargs) -> set[str]:
    return {right.name for right in rights_available(basis.value, **kwargs)}


def test_rights_follow_the_lawful_basis():
    portable = {basis for basis in LawfulBasis if "Data portability" in _names(basis)}
    assert portable == {LawfulBasis.CONSENT, LawfulBasis.CONTRACT}
    objectable = {basis for basis in LawfulBasis if "Object" in _names(basis)}
    assert objectable == {LawfulBasis.LEGITIMATE_INTERESTS, LawfulBasis.RECOGNISED_LEGITIMATE_INTEREST, LawfulBasis.PUBLIC_TASK}
    no_erasure = {basis for basis in LawfulBasis if "Erasure" not in _names(basis)}
    assert no_erasure == {LawfulBasis.LEGAL_OBLIGATION, LawfulBasis.PUBLIC_TASK}
    assert {basis for basis in LawfulBasis if "Withdraw consent" in _names(basis)} == {LawfulBasis.CONSENT}
    assert all({"Be informed", "Access", "Rectification"} <= _names(basis) for basis in LawfulBasis)  # Arts 13-16 whatever the basis
    assert "Not to be subject to solely automated decisions" in _names(LawfulBasis.CONTRACT, automated_decision_making=True)
    assert rights_available(None) == ()


# ---- processor record and annexes --------------------------------------------------------------


def test_processor_record_has_one_row_per_client(loaded_catalog):
    record = _record(loaded_catalog)
    assert [row.controller_id for row in record.processor_rows] == ["client-a"]
    row = record.processor_rows[0]
    assert row.controller.startswith("Client A plc (United Kingdom)")
    assert "dpo@client-a.example" in row.controller
    assert row.categories_of_processing == "Application hosting: Essential for Operations"
    assert row.third_countries == ""  # hosted in London, no flows out


def test_transfer_and_system_rows(loaded_catalog):
    record = _record(loaded_catalog)
    transfers = {(row.flow_id, row.destination): row for row in record.transfer_rows}
    helpdesk = transfers[("crm-helpdesk", "India")]
    assert (helpdesk.exporter, helpdesk.importer, helpdesk.importer_role) == ("CRM", "Helpdesk India Pvt", "Sub-processor")
    assert helpdesk.uk_status == "Restricted transfer" and helpdesk.gap.startswith("Yes (UK GDPR")
    assert helpdesk.mechanism.splitlines()[0] == "UK GDPR: no transfer mechanism on record"
    assert transfers[("crm-metrics", "United States")].mechanism.splitlines()[0] == "UK GDPR: UK IDTA"
    assert transfers[("crm-cloudco>helpdesk-in", "India")].onward_via == "Cloudco Inc"
    systems = {row.system_id: row for row in record.system_rows}
    assert list(systems) == ["backup", "crm", "hosting"]
    assert systems["crm"].datasets == 1 and systems["crm"].owner == "Sales, sales@acme.example"
    assert systems["crm"].locations == "London DC (Acme, London, United Kingdom)"
    assert "Bank Account Information" in systems["crm"].personal_data


def test_contact_block(loaded_catalog):
    organisation = _record(loaded_catalog).organisation
    assert organisation.controller.name == "Acme IT Ltd" and organisation.controller.phone == "+44 20 0000 0000"
    assert organisation.dpo.email == "dpo@acme.example"
    assert [title for title, _ in organisation.blocks()] == ["Controller", "Data Protection Officer", "Representative"]
    # on the Article 30(2)(a) record the organisation is the processor
    assert [title for title, _ in organisation.blocks("Processor")] == ["Processor", "Data Protection Officer", "Representative"]


# ---- determinism and retirement ----------------------------------------------------------------


def test_same_catalogue_same_record(loaded_catalog):
    assert _record(loaded_catalog) == _record(loaded_catalog)


#: SHA-256 (first 16 hex digits) of each table of the demo organisation's record, as the record
#: was derived before its builder was made faster. A refactor must leave every table as it was; a
#: deliberate change (the demo manifests, a label, the taxonomy) updates the digests it changes.
#: Last changed: what each activity states (Art 30(1)(c)), third countries by regime, instruments
#: named, country names, unrecorded facts left blank, column AE, the right to be informed, transfers of no single
#: activity naming every activity using the sending system; with the transfers derivation of
#: catalog/transfers.py as of the same change (the transfers digest follows that module too).
DEMO_RECORD_DIGESTS = {
    "controller_record": "f88188df55fc2a8c",
    "processor_record": "6130e6260bceba72",
    "international_transfers": "cb6d8fc9d0e96dc6",
    "systems_and_locations": "2c9311c851176e93",
    "data_inventory": "d13960307b65166e",
    "recipients": "916860baa892da59",
    "retention_schedule": "88d2b380b1cd72a4",
    "security_measures": "f04c49561d1f7521",
    "taxonomy": "9feac99c2296603a",
}


def table_digests(record: Record) -> dict[str, str]:
    """Each table's rows in the canonical JSON of ``Record.content_sha256``, hashed."""
    digests = {}
    for table in record.tables():
        text = json.dumps([dataclasses.asdict(row) for row in table.rows], sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        digests[table.name] = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return digests


def test_demo_record_is_unchanged(sqlite_catalog):
    from ingest.manifest import ingest_manifests
    from ropa.demo import demo_manifest_dir

    ingest_manifests(sqlite_catalog, demo_manifest_dir(), actor="tests")
    assert table_digests(_record(sqlite_catalog)) == DEMO_RECORD_DIGESTS


def test_record_from_the_callers_graph_equals_the_record_read_afresh(rich_catalog):
    """The dashboard passes the graph and transfers it keeps; the exporters let the record read them."""
    with rich_catalog.session() as session:
        graph = CatalogGraph.load(session)
        given = build_record(session, graph=graph, transfers=derive_transfers(graph))
    assert given == _record(rich_catalog)


def test_registers_are_the_records_controller_and_processor_rows(rich_catalog):
    record = _record(rich_catalog)
    with rich_catalog.session() as session:
        registers = build_registers(session)
    assert registers.controller_rows == record.controller_rows and registers.processor_rows == record.processor_rows
    assert registers.controller_rows and registers.processor_rows


def test_retired_entries_are_left_out(loaded_catalog):
    data = small_spec_data()
    data["systems"] = [s for s in data["systems"] if s["id"] != "backup"]
    data["flows"] = [f for f in data["flows"] if f["id"] not in {"crm-backup", "crm-helpdesk"}]
    data["activities"][0]["systems"] = ["crm"]
    data["activities"] = [a for a in data["activities"] if a["id"] != "hosting-service"]
    data["parties"] = [p for p in data["parties"] if p["id"] != "client-a"]
    _apply(loaded_catalog, data)
    record = _record(loaded_catalog)
    row = _row(record, "client-management").as_dict()
    assert "Backup vault" not in row["Location of personal data"]
    assert "Sub-processors" not in row["Categories of recipients"]
    assert record.processor_rows == ()
    assert [s.system_id for s in record.system_rows] == ["crm", "hosting"]
    assert not any(t.flow_id == "crm-backup" for t in record.transfer_rows)


def test_third_countries_depend_on_the_regimes_kept(catalog):
    data = small_spec_data()
    data["organisation"]["regimes"] = ["uk_gdpr"]
    _apply(catalog, data)
    countries = _row(_record(catalog), "client-management").as_dict()[ICO_HEADINGS[7]].split("; ")
    assert countries == ["India", "Ireland", "United States"]  # under UK GDPR alone, Ireland is a third country


def test_third_countries_under_both_regimes_say_which(catalog):
    """Art 30(1)(e) asks for every third country, adequate or not: Ireland is one under UK GDPR only,
    the United Kingdom under EU GDPR only (data the Irish backup restores to London)."""
    data = small_spec_data()
    data["flows"].append({"id": "backup-restore", "from": "backup", "to": "crm", "categories": ["user.name"], "activity": "client-management"})
    _apply(catalog, data)
    countries = _row(_record(catalog), "client-management").as_dict()[ICO_HEADINGS[7]].split("; ")
    assert "Ireland (UK GDPR)" in countries and "United Kingdom (EU GDPR)" in countries


def _transfer(record: Record, flow_id: str, destination: str):
    return next(row for row in record.transfer_rows if (row.flow_id, row.destination) == (flow_id, destination))


def test_transfer_cells_name_the_adequacy_instrument(catalog):
    data = small_spec_data()
    data["flows"].append({"id": "backup-cloudco", "from": "backup", "to": "cloudco", "categories": ["user.name"], "activity": "client-management"})
    _apply(catalog, data)
    record = _record(catalog)
    to_ireland = _transfer(record, "crm-backup", "Ireland")
    assert to_ireland.uk_status == "Adequacy: DPA 2018 Schedule 21 paragraph 5"
    assert to_ireland.mechanism == "UK GDPR: adequacy, DPA 2018 Schedule 21 paragraph 5"  # no EU GDPR line: not a transfer there
    to_us = _transfer(record, "crm-cloudco", "United States")
    assert to_us.uk_status == "Adequacy (certified importer): SI 2023/1028; importer holds DPF-UK-Extension"
    from_ireland = _transfer(record, "backup-cloudco", "United States")
    assert from_ireland.eu_status == "Adequacy (certified importer): Commission Implementing Decision (EU) 2023/1795; importer holds DPF"
    assert "EU GDPR: adequacy, Commission Implementing Decision (EU) 2023/1795; importer holds DPF" in from_ireland.mechanism.splitlines()
    assert from_ireland.gap == "No"


def test_the_uk_addendum_alone_is_not_shown_as_covering_eu_gdpr(catalog):
    """The UK Addendum amends EU SCCs; with none of them on record the EU GDPR cell says so, whether or
    not catalog.transfers takes the SCCs as signed with the Addendum (the gap column follows it)."""
    data = small_spec_data()
    data["parties"][2].update(transfer_mechanism="uk_addendum", contract_ref="SUB-1")
    data["flows"].append({"id": "backup-helpdesk", "from": "backup", "to": "helpdesk-in", "categories": ["user.name"], "mechanism": "remote_access"})
    _apply(catalog, data)
    lines = _transfer(_record(catalog), "backup-helpdesk", "India").mechanism.splitlines()
    eu_line = next(line for line in lines if line.startswith("EU GDPR"))
    assert "no EU SCCs on record" in eu_line and eu_line != "EU GDPR: UK Addendum to EU SCCs"
    data["flows"][-1]["transfer_mechanism"] = "eu_scc_module_2"  # the EU SCCs on record too
    _apply(catalog, data)
    covered = _transfer(_record(catalog), "backup-helpdesk", "India")
    assert "EU GDPR: EU SCCs Module 2 (C2P)" in covered.mechanism.splitlines() and "EU GDPR" not in covered.gap


def test_processor_record_names_regime_and_instrument_per_country(catalog):
    data = small_spec_data()
    data["flows"].append({"id": "hosting-cloudco", "from": "hosting", "to": "cloudco", "categories": ["user.name"], "activity": "hosting-service"})
    _apply(catalog, data)
    row = _record(catalog).processor_rows[0]
    assert "United States" in {country.split(" (")[0] for country in row.third_countries.split("; ")}
    assert "United States (UK GDPR): adequacy, SI 2023/1028; importer holds DPF-UK-Extension" in row.transfer_safeguards.splitlines()


def test_processor_rows_keep_each_clients_transfers_apart(catalog):
    data = small_spec_data()
    data["organisation"]["regimes"] = ["uk_gdpr"]  # one regime: the countries need no annotation
    data["parties"] += [
        {"id": "client-b", "name": "Client B GmbH", "role": "client_controller", "country": "DE", "contract_ref": "MSA-B",
         "dpo": {"name": "B DPO", "email": "dpo@b.example"}, "representative": {"name": "B UK Rep Ltd", "email": "rep@b.example"}},
        {"id": "cdn-us", "name": "CDN Corp", "role": "sub_processor", "country": "US"},
    ]
    data["activities"].append({
        "id": "hosting-b", "name": "Hosting for B", "role": "processor", "controller": "client-b",
        "purpose": "Host B's shop", "systems": ["hosting"], "security_measures": ["Per-client keys"],
    })
    data["flows"].append({"id": "hosting-cdn", "from": "hosting", "to": "cdn-us", "activity": "hosting-b"})
    _apply(catalog, data)
    rows = {row.controller_id: row for row in _record(catalog).processor_rows}
    assert list(rows) == ["client-a", "client-b"]
    assert rows["client-a"].third_countries == ""  # the shared system's CDN flow is B's processing
    b = rows["client-b"]
    assert b.controller.startswith("Client B GmbH (Germany)")
    assert (b.dpo, b.representative) == ("B DPO, dpo@b.example", "B UK Rep Ltd, rep@b.example")
    assert b.categories_of_processing == "Hosting for B: Host B's shop"
    assert b.third_countries == "United States"
    assert b.transfer_safeguards == "United States (UK GDPR): no transfer mechanism on record"
    assert b.security_measures == "Per-client keys" and b.contract_link == "MSA-B"


# ---- one name for an activity on every sheet ----------------------------------------------------


def test_activities_sharing_a_name_are_told_apart_on_every_sheet(catalog):
    data = small_spec_data()
    data["activities"].append({
        "id": "client-management-eu", "name": "Client management", "purpose": "Manage EU client contracts",
        "lawful_basis": "contract", "systems": ["crm"], "security_measures": ["Role-based access"],
    })
    _apply(catalog, data)
    record = _record(catalog)
    labels = {row.activity_id: row.activity_label for row in record.controller_rows}
    assert labels == {"client-management": "Client management (client-management)", "client-management-eu": "Client management (client-management-eu)"}
    assert dict(zip(CONTROLLER_SHEET_COLUMNS, record.controller_rows[0].cells(), strict=True))[ACTIVITY_COLUMN] == labels["client-management"]
    assert {row.activity for row in record.transfer_rows if row.flow_id == "crm-backup"} == {labels["client-management"]}
    assert {row.activity for row in record.retention_rows} == set(labels.values())
    assert ("Processing activity", labels["client-management-eu"], "client-management-eu") in {tuple(row.cells()[:3]) for row in record.security_rows}
    processor = record.processor_rows[0].categories_of_processing
    assert processor.startswith("Application hosting:")  # a unique name stays as it is


def test_security_measures_said_once_whatever_the_case_and_spacing(catalog):
    data = small_spec_data()
    data["activities"][0]["security_measures"] = ["Encryption at rest", "Role-based access", "encryption  at rest"]
    data["systems"][0]["security_measures"] = ["ENCRYPTION AT REST", "Quarterly restore tests"]
    _apply(catalog, data)
    record = _record(catalog)
    row = _row(record, "client-management").as_dict()
    assert row[ICO_HEADINGS[10]] == "Encryption at rest; Role-based access; Quarterly restore tests"
    assert [r.measure for r in record.security_rows if r.ident == "client-management"] == ["Encryption at rest", "Role-based access"]


# ---- cover and annex tables --------------------------------------------------------------------


def test_cover_says_what_is_not_recorded_and_what_does_not_apply(catalog):
    data = small_spec_data()
    del data["organisation"]["dpo"]
    _apply(catalog, data)
    record = _record(catalog)
    cover = dict(record.cover())
    # established in the UK: no UK representative is needed; whether an EU one is depends on
    # Article 3(2) targeting, which the catalogue does not hold
    assert cover["UK representative"].startswith("Not applicable (organisation established in United Kingdom")
    assert cover["EU representative"] == NOT_RECORDED
    assert cover["Data Protection Officer"] == NOT_RECORDED
    data["organisation"]["regimes"] = ["uk_gdpr"]
    data["organisation"]["eu_representative"] = {"name": "EU Rep BV", "email": "rep@eu.example"}
    _apply(catalog, data)
    assert dict(_record(catalog).cover())["EU representative"] == "EU Rep BV, rep@eu.example"  # on record: shown
    data["organisation"].pop("eu_representative")
    _apply(catalog, data)
    assert dict(_record(catalog).cover())["EU representative"] == "Not applicable (record not kept under EU GDPR)"


def test_cover_generation_time(loaded_catalog):
    record = _record(loaded_catalog)
    assert dict(record.cover())["Generated at"] == ""  # nobody said when: the writers pass their clock
    assert dict(record.cover(datetime(2026, 11, 25, 9, 30, tzinfo=UTC)))["Generated at"] == "2026-11-25T09:30:00Z"
    as_of = dataclasses.replace(record, generated_at=datetime(2026, 1, 2, 3, 4, 5))
    assert dict(as_of.cover(datetime(2026, 11, 25)))["Generated at"] == "2026-01-02T03:04:05Z"  # the moment a past state shows wins



def test_every_table_has_rows_shaped_like_its_headings(rich_catalog):
    record = _record(rich_catalog)
    names = [table.name for table in record.tables()]
    assert names[:4] == ["controller_record", "processor_record", "international_transfers", "systems_and_locations"]
    assert names[4:] == ["data_inventory", "recipients", "retention_schedule", "security_measures", "taxonomy"]
    for table in record.tables():
        assert table.rows, table.name
        assert all(len(row.cells()) == len(table.headings) for row in table.rows), table.name


def test_content_hash_follows_content_not_generation_time(loaded_catalog):
    record = _record(loaded_catalog)
    later = dataclasses.replace(record, generated_at=datetime(2030, 1, 1))
    assert later.content_sha256 == record.content_sha256
    renamed = dataclasses.replace(record, controller_rows=(dataclasses.replace(record.controller_rows[0], business_function="Finance"),))
    assert renamed.content_sha256 != record.content_sha256
    assert dict(record.cover())["Content SHA-256"] == record.content_sha256


def test_revision_is_the_latest_change_event(loaded_catalog):
    from sqlmodel import func, select

    from catalog.models import ChangeEvent

    first = _record(loaded_catalog).revision
    with loaded_catalog.session() as session:
        assert first.revision == session.exec(select(func.max(ChangeEvent.id))).one()
    data = small_spec_data()
    data["systems"][0]["owner_team"] = "Revenue"
    _apply(loaded_catalog, data)
    second = _record(loaded_catalog).revision
    assert second.revision == first.revision + 1 and second.at >= first.at
    assert second.text().startswith(f"revision {second.revision} (20")
    _apply(loaded_catalog, data)  # a run that changes nothing makes no new revision
    assert _record(loaded_catalog).revision == second


def test_annexes_of_the_rich_catalogue(rich_catalog):
    record = _record(rich_catalog)
    row = _row(record, "patient-care")
    assert row.sensitive_categories == ("Criminal History (criminal offence data, Art 10)", "Health and Medical Data (special category, Art 9)")
    health = [entry for entry in record.inventory_rows if entry.category_key == "user.health_and_medical"]
    assert health and all(entry.special.startswith("Special category (Art 9)") for entry in health)
    retention = [(entry.category_key, entry.retention, entry.applies_to) for entry in record.retention_rows if entry.activity_id == "patient-care"]
    assert ("user.health_and_medical", "10 years", "Processing activity") in retention
    assert ("user.health_and_medical", "8 years", "Clinic records / patients") in retention
    measures = [(entry.scope, entry.ident, entry.measure) for entry in record.security_rows]
    assert ("Processing activity", "patient-care", "Role-based access") in measures
    assert ("System", "clinic", "Encryption at rest") in measures
    kinds = {(entry.kind, entry.key) for entry in record.taxonomy_rows}
    assert ("Data category", "user.health_and_medical") in kinds and ("Data use", "essential.service") in kinds


def test_recipients_show_the_sub_processor_chain(catalog):
    data = small_spec_data()
    data["parties"].append({"id": "helpdesk-sub", "name": "Tier 2 Ltd", "role": "sub_processor", "country": "PH", "parent": "helpdesk-in"})
    _apply(catalog, data)
    rows = {row.party_id: row for row in _record(catalog).recipient_rows}
    assert rows["helpdesk-sub"].chain == "Cloudco Inc > Helpdesk India Pvt"
    assert rows["helpdesk-sub"].country == "Philippines" and rows["cloudco"].chain == ""
    assert "client-a" not in rows


def test_transfers_recorded_for_no_single_activity_name_every_activity_using_the_system(catalog):
    """A provider's hosting of a system, a flow tagged with no activity, and the onward chains below
    them serve every activity using the sending system: the cell says so rather than staying blank."""
    data = small_spec_data()
    data["locations"].append({"id": "fra", "name": "Bigcloud Frankfurt", "provider": "Bigcloud", "country": "DE"})
    data["parties"] += [
        {"id": "bigcloud", "name": "Bigcloud EMEA SARL", "role": "processor", "country": "DE", "processing_countries": ["US"], "contract_ref": "DPA-9"},
        {"id": "bigcloud-ops", "name": "Bigcloud Ops Pvt", "role": "sub_processor", "country": "IN", "parent": "bigcloud", "contract_ref": "SUB-9"},
    ]
    data["systems"].append({"id": "shop", "name": "Shop", "hosted_in": ["fra"], "datasets": [{"name": "orders", "fields": [{"name": "email", "categories": ["user.contact.email"]}]}]})
    data["activities"][0]["systems"].append("shop")
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    rows = {row.flow_id: row.activity for row in _record(catalog).transfer_rows}
    assert rows["shop@bigcloud"] == "Every activity using Shop: Client management"
    assert rows["shop@bigcloud>bigcloud-ops"] == "Every activity using Shop: Client management"
    assert rows["crm-metrics"] == "Every activity using CRM: Client management"  # a flow tagged with no activity
    assert rows["crm-cloudco"] == "Client management"  # a tagged flow names its own
