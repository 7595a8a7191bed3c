"""What each transfer needs: SCC module by roles, UK instruments, adequacy, TIA / TRA."""

import dataclasses
from types import SimpleNamespace

import pytest

from catalog.apply import apply_spec
from catalog.graph import CatalogGraph
from catalog.jurisdictions import Regime, TransferStatus
from catalog.specs import CatalogSpec
from catalog.transfer_assessment import assess_transfers, contract_role, scc_module
from catalog.vocab import SystemRole, TransferMechanism
from tests.factories import small_spec_data


def _spec():
    data = small_spec_data()
    data["locations"].append({"id": "nyc", "name": "New York office", "country": "US", "kind": "office"})
    data["parties"] += [
        {"id": "bank-in", "name": "Bank of India", "role": "independent_controller", "country": "IN"},
        {"id": "client-us", "name": "Client US Inc", "role": "client_controller", "country": "US"},
        {"id": "callcentre-ph", "name": "Callcentre PH", "role": "sub_processor", "country": "PH", "parent": "helpdesk-in"},
        {"id": "dpf-only", "name": "DPF Only Inc", "role": "processor", "country": "US", "certifications": ["EU-US DPF"], "contract_ref": "DPA-3"},
        {"id": "gib", "name": "Gibraltar Ltd", "role": "processor", "country": "Gibraltar", "contract_ref": "DPA-4"},
        {"id": "brasil", "name": "Brasil Ltda", "role": "processor", "country": "BR", "contract_ref": "DPA-5"},
        {"id": "scc-vendor", "name": "SCC Vendor", "role": "processor", "country": "IN", "contract_ref": "DPA-6",
         "transfer_mechanism": "uk_addendum", "transfer_assessment_ref": "TIA-2025-07"},
        {"id": "wrong-module", "name": "Wrong Module", "role": "processor", "country": "IN", "transfer_mechanism": "eu_scc_module_1"},
        {"id": "consented", "name": "Consented", "role": "independent_controller", "country": "IN", "transfer_mechanism": "derogation_explicit_consent"},
    ]
    data["systems"].append({"id": "us-replica", "name": "US replica", "hosted_in": ["nyc"]})
    data["flows"] += [
        {"id": "crm-bank", "from": "crm", "to": "bank-in", "categories": ["user.financial.bank_account"]},
        {"id": "backup-bank", "from": "backup", "to": "bank-in", "categories": ["user.financial.bank_account"]},
        {"id": "hosting-client-us", "from": "hosting", "to": "client-us", "categories": ["user.contact.email"]},
        {"id": "hosting-helpdesk", "from": "hosting", "to": "helpdesk-in", "categories": ["user.contact.email"]},
        {"id": "backup-dpf-only", "from": "backup", "to": "dpf-only", "categories": ["user.contact.email"]},
        {"id": "backup-metrics", "from": "backup", "to": "metrics", "categories": ["user.contact.email"]},
        {"id": "backup-gib", "from": "backup", "to": "gib", "categories": ["user.name"]},
        {"id": "backup-brasil", "from": "backup", "to": "brasil", "categories": ["user.name"]},
        {"id": "backup-scc-vendor", "from": "backup", "to": "scc-vendor", "categories": ["user.name"]},
        {"id": "backup-scc-vendor-sccs", "from": "backup", "to": "scc-vendor", "categories": ["user.name"], "transfer_mechanism": "eu_scc_module_2"},
        {"id": "crm-wrong-module", "from": "crm", "to": "wrong-module", "categories": ["user.name"]},
        {"id": "backup-consented", "from": "backup", "to": "consented", "categories": ["user.name"]},
        {"id": "crm-us-replica", "from": "crm", "to": "us-replica", "categories": ["user.name"], "mechanism": "replication"},
    ]
    return CatalogSpec.model_validate(data)


class _Assessed(dict):
    """Requirements by (flow id, destination), with the graph they were derived from."""


@pytest.fixture
def assessed(catalog):
    with catalog.session() as session:
        apply_spec(session, _spec(), source="manifest", target="tests")
    with catalog.session() as session:
        graph = CatalogGraph.load(session)
    found = _Assessed({(r.transfer.flow_id, r.transfer.destination): r for r in assess_transfers(graph)})
    found.graph = graph
    return found


def test_roles_map_to_contract_roles():
    assert contract_role("sub_processor") == SystemRole.PROCESSOR
    assert contract_role("group_company") == contract_role("public_authority") == SystemRole.CONTROLLER
    assert scc_module("processor", "client_controller") == TransferMechanism.EU_SCC_MODULE_4


def test_each_scc_module_by_roles(assessed):
    assert assessed[("crm-bank", "IN")].scc_module == TransferMechanism.EU_SCC_MODULE_1
    assert assessed[("crm-metrics", "US")].scc_module == TransferMechanism.EU_SCC_MODULE_2
    assert assessed[("hosting-helpdesk", "IN")].scc_module == TransferMechanism.EU_SCC_MODULE_3
    assert assessed[("hosting-client-us", "US")].scc_module == TransferMechanism.EU_SCC_MODULE_4
    restricted = assessed[("backup-bank", "IN")]  # held in Dublin: leaves the EEA and, from a UK exporter, the UK's reach
    assert restricted.eu.instruments == (TransferMechanism.EU_SCC_MODULE_1,)
    assert restricted.uk.instruments == (TransferMechanism.UK_IDTA, TransferMechanism.UK_ADDENDUM)
    assert restricted.uk.needs_mechanism and restricted.eu.needs_mechanism
    assert restricted.uk.assessment_name == "TRA" and restricted.eu.assessment_name == "TIA"
    assert restricted.eu.needs_assessment


def test_dpf_with_and_without_uk_extension(assessed):
    certified = assessed[("crm-cloudco", "US")]
    for requirement in (certified.uk, certified.eu):
        assert requirement.adequacy_covers and requirement.instruments == () and not requirement.assessment_expected
    eu_only = assessed[("backup-dpf-only", "US")]
    assert eu_only.eu.status == TransferStatus.ADEQUACY_CERTIFIED and eu_only.eu.adequacy_covers
    assert eu_only.uk.status == TransferStatus.RESTRICTED and eu_only.uk.needs_mechanism and eu_only.uk.needs_assessment


def test_uk_only_and_eu_only_adequacy(assessed):
    gibraltar = assessed[("backup-gib", "GI")]  # from the Dublin backup: UK regulations cover Gibraltar, the EU has no decision
    assert gibraltar.uk.adequacy_covers and not gibraltar.eu.adequacy_covers
    assert gibraltar.eu.instruments == (TransferMechanism.EU_SCC_MODULE_2,)
    brazil = assessed[("backup-brasil", "BR")]  # EU decision 2026/179; no UK regulations
    assert brazil.eu.adequacy_covers and not brazil.uk.adequacy_covers
    assert brazil.uk.needs_mechanism and brazil.uk.needs_assessment and not brazil.eu.needs_assessment


def test_onward_transfer_through_two_levels_of_sub_processors(assessed):
    first = assessed[("crm-cloudco>helpdesk-in", "IN")]
    second = assessed[("crm-cloudco>callcentre-ph", "PH")]
    assert first.scc_module == second.scc_module == TransferMechanism.EU_SCC_MODULE_3
    assert second.transfer.via == ("party:cloudco", "party:helpdesk-in") and second.transfer.origin == "IN"
    # the organisation keeps its record under both regimes: the chain below its processor is
    # followed under both (Article 44), though the data was never in the EEA
    assert second.uk.needs_mechanism and second.eu.status == TransferStatus.RESTRICTED and second.eu.needs_mechanism
    # the backup Cloudco holds in Dublin goes down the same chain from Ireland: both regimes
    hosted = assessed[("crm-backup>callcentre-ph", "PH")]
    assert hosted.uk.needs_mechanism and hosted.eu.needs_mechanism


def test_remote_access_is_assessed_like_any_transfer(assessed):
    remote = assessed[("crm-helpdesk", "IN")]
    assert remote.transfer.flow_mechanism == "remote_access"
    assert remote.scc_module == TransferMechanism.EU_SCC_MODULE_2 and remote.uk.needs_mechanism


def test_mechanism_and_assessment_on_record(assessed):
    addendum = assessed[("backup-scc-vendor", "IN")]
    uk, eu = addendum.uk, addendum.eu
    assert uk.mechanism_covers and not uk.needs_mechanism
    assert uk.assessment_expected and uk.assessment_on_record and not uk.needs_assessment
    # the UK Addendum is appended to the EU SCCs: recorded, it stands for both
    assert eu.status == TransferStatus.RESTRICTED and eu.mechanism_covers and not eu.needs_mechanism
    assert eu.mechanism == TransferMechanism.UK_ADDENDUM and eu.coverage_text == "yes"
    assert not addendum.transfer.has_gap
    with_sccs = assessed[("backup-scc-vendor-sccs", "IN")]
    assert with_sccs.uk.mechanism == TransferMechanism.UK_ADDENDUM and with_sccs.eu.mechanism == TransferMechanism.EU_SCC_MODULE_2
    assert with_sccs.eu.mechanism_covers and with_sccs.eu.mechanism_fits_roles and not with_sccs.transfer.has_gap
    idta = assessed[("backup-metrics", "US")]
    assert idta.uk.mechanism_covers and not idta.eu.mechanism_covers and idta.eu.needs_mechanism
    wrong = assessed[("crm-wrong-module", "IN")]
    assert wrong.eu.mechanism_fits_roles is False and wrong.uk.needs_mechanism
    consent = assessed[("backup-consented", "IN")]
    assert consent.eu.status == TransferStatus.RESTRICTED and consent.eu.mechanism_covers and not consent.eu.assessment_expected


def test_own_system_abroad_is_flagged_as_same_organisation(assessed):
    replica = assessed[("crm-us-replica", "US")]
    assert replica.same_organisation and replica.scc_module == TransferMechanism.EU_SCC_MODULE_1
    data = replica.as_dict()
    assert data["requirements"][Regime.UK_GDPR.value]["status"] == "restricted" and data["same_organisation"]
    # at a provider's site the provider is the importer in the contract (Cloudco runs the Dublin region)
    backup = assessed[("crm-backup", "IE")]
    assert not backup.same_organisation and backup.scc_module == TransferMechanism.EU_SCC_MODULE_2


def test_detail_table_has_one_set_of_columns_for_both_regimes(assessed):
    from dashboards.views.transfers import requirement_rows

    requirement = assessed[("backup-scc-vendor", "IN")]
    frame = requirement_rows(SimpleNamespace(graph=assessed.graph), requirement.transfer)
    assert list(frame["Regime"]) == ["UK GDPR", "EU GDPR"]
    assert not frame.isna().any().any()  # every cell filled: the table reads across
    assert "Risk assessment expected" in frame.columns and not [c for c in frame.columns if c.startswith(("TIA", "TRA"))]
    uk, eu = frame.to_dict("records")
    assert (uk["Risk assessment expected"], uk["Risk assessment on record"]) == ("yes (TRA)", "yes (TRA)")
    assert (eu["Risk assessment expected"], eu["Risk assessment on record"]) == ("yes (TIA)", "yes (TIA)")
    assert (uk["Covers this regime"], uk["Gap"]) == ("yes", "no")
    assert (eu["Covers this regime"], eu["Gap"]) == ("yes", "no")
    idta = requirement_rows(SimpleNamespace(graph=assessed.graph), assessed[("backup-metrics", "US")].transfer).to_dict("records")[1]
    assert (idta["Covers this regime"], idta["Gap"]) == ("no: UK IDTA does not cover EU GDPR", "yes")
    # a gap as the Overview counts it: only under the regimes the record is kept under
    uk_only = dataclasses.replace(assessed[("backup-metrics", "US")].transfer, regimes=("uk_gdpr",))
    eu_row = requirement_rows(SimpleNamespace(graph=assessed.graph), uk_only).to_dict("records")[1]
    assert eu_row["Gap"] == "no (the record is not kept under this regime)"
