"""The Kanj Technologies demo manifests: valid, complete against the privacy policy, and showing transfers.

The files are merged here with plain ``yaml.safe_load`` (no dependency on the ingest package), the
way a manifest directory adds up to one CatalogSpec: ``organisation`` from one file, every list
section concatenated.
"""

from __future__ import annotations

from pathlib import Path
from typing import get_origin

import pytest
import yaml

from catalog.apply import apply_spec
from catalog.graph import CatalogGraph
from catalog.jurisdictions import Regime, TransferStatus, load_jurisdictions
from catalog.specs import CatalogSpec, check_references
from catalog.transfers import derive_transfers
from ropa.demo import demo_manifest_dir

# The list sections of CatalogSpec (locations, parties, systems, activities, flows, field_lineage, ...).
LIST_SECTIONS = tuple(name for name, info in CatalogSpec.model_fields.items() if get_origin(info.annotation) is list)

# The categories the policy names, as taxonomy keys (project extension keys where fideslang lacks one).
POLICY_CATEGORIES = [
    "user.name",                        # "your name"
    "user.contact.work.address",        # "work address"
    "user.contact.work.phone_number",   # "work telephone number"
    "user.contact.work.email",          # "email address"
    "user.contact.home.address",        # "With certain clients, personal home address ..."
    "user.contact.home.phone_number",   # "... and telephone number."
    "user.financial.bank_account",      # "your bank account details where invoices are submitted"
    "user.device.ip_address",           # "(through IP address and cookies)"
    "user.device.cookie",
    "user.content.support_session",     # remote support session content
]


def manifest_files() -> list[Path]:
    return sorted(demo_manifest_dir().rglob("*.yml"))


def merged_data() -> dict:
    merged: dict = {section: [] for section in LIST_SECTIONS}
    for path in manifest_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        assert isinstance(data, dict), path
        unknown = set(data) - {"organisation", *LIST_SECTIONS}
        assert not unknown, f"{path.name}: unknown sections {unknown}"
        if "organisation" in data:
            assert "organisation" not in merged, f"organisation defined twice ({path.name})"
            merged["organisation"] = data["organisation"]
        for section in LIST_SECTIONS:
            merged[section].extend(data.get(section) or [])
    return merged


@pytest.fixture(scope="module")
def spec() -> CatalogSpec:
    return CatalogSpec.model_validate(merged_data())


@pytest.fixture(scope="module")
def jurisdictions():
    return load_jurisdictions()


def field_categories(spec: CatalogSpec) -> set[str]:
    return {c for s in spec.systems for d in s.datasets for f in d.fields for c in f.data_categories}


# --- layout ------------------------------------------------------------------------------------

def test_demo_dir_is_split_by_concern():
    root = demo_manifest_dir()
    assert root.is_dir()
    names = {p.relative_to(root).as_posix() for p in manifest_files()}
    assert {"organisation.yml", "locations.yml", "parties.yml", "activities.yml", "flows.yml"} <= names
    system_files = [n for n in names if n.startswith("systems/")]
    assert len(system_files) >= 8


def test_one_system_per_system_file():
    for path in (demo_manifest_dir() / "systems").glob("*.yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(data) == {"systems"} and len(data["systems"]) == 1, path.name
        assert data["systems"][0]["id"] == path.stem, f"{path.name} should hold system '{path.stem}'"


def test_every_file_cites_the_policy_in_comments():
    for path in manifest_files():
        comments = [line for line in path.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("#")]
        assert any('"' in line or "“" in line for line in comments), f"{path.name} quotes no policy sentence"


# --- validity ----------------------------------------------------------------------------------

def test_manifests_validate_and_references_resolve(spec):
    assert check_references(spec) == []
    assert len(spec.systems) >= 8 and len(spec.activities) >= 10 and len(spec.flows) >= 20


def test_organisation_matches_the_policy(spec):
    org = spec.organisation
    assert org is not None
    assert org.name == "Kanj Technologies Ltd"
    assert org.registration == "07528449"
    assert "HA1 4TR" in org.address and org.country == "GB"
    assert org.email == "privacy@kanj.co.uk"
    assert org.dpo is not None and org.dpo.email == "privacy@kanj.co.uk" and "Privacy Team" in org.dpo.name
    assert set(org.regimes) == {"uk_gdpr", "eu_gdpr"}
    assert org.children_served is False


# --- coverage of the policy -------------------------------------------------------------------

@pytest.mark.parametrize("category", POLICY_CATEGORIES)
def test_each_policy_category_is_on_some_field(spec, category):
    assert category in field_categories(spec)


def test_flow_and_activity_categories_are_held_somewhere(spec):
    held = field_categories(spec)
    for flow in spec.flows:
        assert set(flow.data_categories) <= held, flow.id
    for activity in spec.activities:
        assert set(activity.data_categories) <= held, activity.id


def test_every_policy_purpose_and_lawful_basis(spec):
    by_basis: dict[str, list] = {}
    for activity in spec.activities:
        by_basis.setdefault(activity.lawful_basis, []).append(activity)
    # contract fulfilment, legal and regulatory compliance, legitimate interests, express consent
    assert {"contract", "legal_obligation", "legitimate_interests", "consent"} <= set(by_basis)
    for activity in by_basis["legitimate_interests"]:
        assert activity.legitimate_interest, f"{activity.id} names no legitimate interest"
    interests = " ".join(a.legitimate_interest for a in by_basis["legitimate_interests"]).lower()
    assert "legal claims" in interests                      # protecting business interests and legal rights
    assert "complaints" in interests                        # investigating complaints
    assert "improving and protecting" in interests          # monitoring and enhancing hosted services
    consent = by_basis["consent"]
    assert any("complaint" in a.purpose_text.lower() for a in consent)
    assert all(a.consent_record_link for a in consent)
    monitoring = next(a for a in spec.activities if a.id == "service-monitoring")
    assert {"website", "remote-support", "hosting-platform"} <= set(monitoring.systems)


def test_controller_activities_are_complete(spec):
    for activity in spec.activities:
        assert activity.retention, activity.id
        assert activity.security_measures, activity.id
        assert activity.purposes and activity.data_subjects and activity.data_categories, activity.id
        assert activity.systems, activity.id
        if activity.role == "controller":
            assert activity.lawful_basis is not None, activity.id
    retention = " ".join(a.retention for a in spec.activities)
    assert "Limitation Act 1980" in retention and "Companies Act 2006" in retention
    measures = " ".join(m for a in spec.activities for m in a.security_measures).lower()
    for word in ("encrypt", "firewall", "access control", "policies", "27001"):
        assert word in measures, word


def test_data_subjects(spec):
    subjects = {s for a in spec.activities for s in a.data_subjects}
    subjects |= {s for sys in spec.systems for d in sys.datasets for s in d.data_subjects}
    assert {"customer", "visitor", "client_end_user"} <= subjects
    assert subjects & {"supplier_vendor", "consultant"}


def test_recipient_types(spec):
    roles: dict[str, list] = {}
    for party in spec.parties:
        roles.setdefault(party.role, []).append(party)
    assert roles.get("group_company"), "subsidiaries"
    assert len(roles.get("client_controller", [])) >= 2
    authorities = {p.id for p in roles.get("public_authority", [])}
    assert authorities
    disclosures = [f for f in spec.flows if f.mechanism == "disclosure"]
    assert disclosures and all(f.to in authorities for f in disclosures)
    descriptions = " ".join(p.description.lower() for p in spec.parties)
    for service in ("saas", "iaas", "website", "analytics", "backup", "soc", "storage", "sub-contractor"):
        assert service in descriptions, service


def test_processor_records(spec):
    clients = {p.id for p in spec.parties if p.role == "client_controller"}
    processor_rows = [a for a in spec.activities if a.role == "processor"]
    assert len({a.controller for a in processor_rows}) >= 2
    assert all(a.controller in clients for a in processor_rows)
    hosting = next(s for s in spec.systems if s.id == "hosting-platform")
    assert hosting.role == "processor"
    assert all("hosting-platform" in a.systems for a in processor_rows)


def test_locations_span_countries_including_one_without_adequacy(spec, jurisdictions):
    countries = {location.country for location in spec.locations}
    assert {"GB", "IE", "DE", "US"} <= countries
    assert len(countries) >= 5

    def adequate_anywhere(code: str) -> bool:
        return code == "GB" or jurisdictions.is_eea(code) or any(jurisdictions.adequacy(r, code) for r in Regime)

    assert any(not adequate_anywhere(code) for code in countries)
    hosted = {loc for system in spec.systems for loc in system.hosted_in}
    assert hosted == {location.id for location in spec.locations} - {"harrow-hq"}


def test_flows_name_their_datasets_and_field_lineage_follows_the_data(spec):
    fields = {(s.id, d.name): {f.name: f for f in d.fields} for s in spec.systems for d in s.datasets}
    for flow in spec.flows:
        if flow.from_dataset:  # the dataset read holds what the flow carries
            held = {c for f in fields[(flow.from_system, flow.from_dataset)].values() for c in f.data_categories}
            assert set(flow.data_categories) <= held, flow.id
    assert any(f.from_dataset and f.to_dataset for f in spec.flows)
    assert len(spec.field_lineage) >= 10
    edges = {}
    for step in spec.field_lineage:
        edges.setdefault(step.from_field.path, []).append(step.to_field.path)
    # A supplier's bank account number can be followed to the Singapore archive.
    reached, todo = set(), ["finance.supplier_bank_details.account_number"]
    while todo:
        for nxt in edges.get(todo.pop(), []):
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    assert "dr-archive.monthly_archives.archive_set" in reached


def test_transfer_facts_on_parties(spec, jurisdictions):
    def status(party, regime=Regime.UK_GDPR):
        return jurisdictions.assess(regime, "GB", party.country, frozenset(party.certifications)).status

    assert any(jurisdictions.holds_certification("DPF-UK-Extension", set(p.certifications)) and p.country == "US" for p in spec.parties)
    restricted = [p for p in spec.parties if status(p) == TransferStatus.RESTRICTED]
    assert any(p.transfer_mechanism and p.transfer_assessment_ref for p in restricted)
    assert any(p.transfer_mechanism is None for p in restricted)
    # A US importer without DPF, relying on a transfer tool instead.
    assert any(p.country == "US" and not p.certifications and p.transfer_mechanism for p in spec.parties)
    # UK and EU differ: adequate under EU GDPR, restricted under UK GDPR (Brazil).
    assert any(status(p, Regime.EU_GDPR) == TransferStatus.ADEQUACY and status(p) == TransferStatus.RESTRICTED for p in spec.parties)
    # A sub-processor under a processor, in another country.
    by_id = {p.id: p for p in spec.parties}
    assert any(p.parent and by_id[p.parent].country != p.country for p in spec.parties)


# --- in the catalogue ----------------------------------------------------------------------------

def test_demo_applies_and_shows_transfers_and_gaps(catalog, spec):
    with catalog.session() as session:
        result = apply_spec(session, spec, source="manifest", target="demo")
        assert result.added > 0
    with catalog.session() as session:
        again = apply_spec(session, spec, source="manifest", target="demo")
        assert again.changed == 0, again.changes
    with catalog.session() as session:
        graph = CatalogGraph.load(session)
    transfers = derive_transfers(graph)
    restricted = [t for t in transfers if t.restricted_under]
    assert any(t.mechanism for t in restricted), "a restricted transfer with a mechanism on record"
    gaps = [t for t in transfers if t.has_gap]
    assert gaps, "a restricted transfer without a mechanism"
    assert any(t.destination == "SG" and set(t.gap_under) == {Regime.UK_GDPR, Regime.EU_GDPR} for t in gaps)
    assert any(t.destination == "BR" and t.gap_under == (Regime.UK_GDPR,) for t in gaps), "UK-only gap (Brazil)"
    assert any(t.is_onward and t.destination == "ZA" for t in transfers), "onward transfer to a sub-processor"
    assert any(t.destination == "US" and t.uk.status == TransferStatus.ADEQUACY_CERTIFIED for t in transfers)
