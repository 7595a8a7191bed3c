"""What each transfer needs: SCC module by roles, UK instruments, adequacy, TIA / TRA."""

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
        {"id": "hosting-client-us", "from": "hosting", "to": "client-us", "categories": ["user.contact.email"]},
        {"id": "hosting-helpdesk", "from": "hosting", "to": "helpdesk-in", "categories": ["user.contact.email"]},
        {"id": "crm-dpf-only", "from": "crm", "to": "dpf-only", "categories": ["user.contact.email"]},
        {"id": "backup-gib", "from": "backup", "to": "gib", "categories": ["user.name"]},
        {"id": "backup-brasil", "from": "backup", "to": "brasil", "categories": ["user.name"]},
        {"id": "crm-scc-vendor", "from": "crm", "to": "scc-vendor", "categories": ["user.name"]},
        {"id": "crm-wrong-module", "from": "crm", "to": "wrong-module", "categories": ["user.name"]},
        {"id": "crm-consented", "from": "crm", "to": "consented", "categories": ["user.name"]},
        {"id": "crm-us-replica", "from": "crm", "to": "us-replica", "categories": ["user.name"], "mechanism": "replication"},
    ]
    return CatalogSpec.model_validate(data)


@pytest.fixture
def assessed(catalog):
    with catalog.session() as session:
        apply_spec(session, _spec(), source="manifest", target="tests")
    with catalog.session() as session:
        graph = CatalogGraph.load(session)
    return {(r.transfer.flow_id, r.transfer.destination): r for r in assess_transfers(graph)}


def test_roles_map_to_contract_roles():
    assert contract_role("sub_processor") == SystemRole.PROCESSOR
    assert contract_role("group_company") == contract_role("public_authority") == SystemRole.CONTROLLER
    assert scc_module("processor", "client_controller") == TransferMechanism.EU_SCC_MODULE_4


def test_each_scc_module_by_roles(assessed):
    assert assessed[("crm-bank", "IN")].scc_module == TransferMechanism.EU_SCC_MODULE_1
    assert assessed[("crm-metrics", "US")].scc_module == TransferMechanism.EU_SCC_MODULE_2
    assert assessed[("hosting-helpdesk", "IN")].scc_module == TransferMechanism.EU_SCC_MODULE_3
    assert assessed[("hosting-client-us", "US")].scc_module == TransferMechanism.EU_SCC_MODULE_4
    restricted = assessed[("crm-bank", "IN")]
    assert restricted.eu.instruments == (TransferMechanism.EU_SCC_MODULE_1,)
    assert restricted.uk.instruments == (TransferMechanism.UK_IDTA, TransferMechanism.UK_ADDENDUM)
    assert restricted.uk.needs_mechanism and restricted.eu.needs_mechanism
    assert restricted.uk.assessment_name == "TRA" and restricted.eu.assessment_name == "TIA"
    assert restricted.eu.needs_assessment


def test_dpf_with_and_without_uk_extension(assessed):
    certified = assessed[("crm-cloudco", "US")]
    for requirement in (certified.uk, certified.eu):
        assert requirement.adequacy_covers and requirement.instruments == () and not requirement.assessment_expected
    eu_only = assessed[("crm-dpf-only", "US")]
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
    assert second.uk.needs_mechanism and second.eu.needs_mechanism


def test_remote_access_is_assessed_like_any_transfer(assessed):
    remote = assessed[("crm-helpdesk", "IN")]
    assert remote.transfer.flow_mechanism == "remote_access"
    assert remote.scc_module == TransferMechanism.EU_SCC_MODULE_2 and remote.eu.needs_mechanism


def test_mechanism_and_assessment_on_record(assessed):
    addendum = assessed[("crm-scc-vendor", "IN")]
    for requirement in (addendum.uk, addendum.eu):
        assert requirement.mechanism_covers and not requirement.needs_mechanism
        assert requirement.assessment_expected and requirement.assessment_on_record and not requirement.needs_assessment
    idta = assessed[("crm-metrics", "US")]
    assert idta.uk.mechanism_covers and not idta.eu.mechanism_covers and idta.eu.needs_mechanism
    wrong = assessed[("crm-wrong-module", "IN")]
    assert wrong.eu.mechanism_fits_roles is False and wrong.uk.needs_mechanism
    consent = assessed[("crm-consented", "IN")]
    assert consent.eu.mechanism_covers and not consent.eu.assessment_expected


def test_own_system_abroad_is_flagged_as_same_organisation(assessed):
    replica = assessed[("crm-us-replica", "US")]
    assert replica.same_organisation and replica.scc_module == TransferMechanism.EU_SCC_MODULE_1
    data = replica.as_dict()
    assert data["requirements"][Regime.UK_GDPR.value]["status"] == "restricted" and data["same_organisation"]
