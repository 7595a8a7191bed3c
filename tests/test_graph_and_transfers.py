"""The flow graph and the transfers derived from it."""

from catalog.apply import apply_spec
from catalog.graph import CatalogGraph, EdgeKind, NodeKind, node_key
from catalog.jurisdictions import Regime, TransferStatus
from catalog.specs import CatalogSpec
from catalog.transfers import HOSTING, UNDOCUMENTED, covered_regimes, derive_transfers, hosting_providers
from tests.factories import small_spec_data


def _graph(catalog) -> CatalogGraph:
    with catalog.session() as session:
        return CatalogGraph.load(session)


def test_graph_has_every_kind_of_node_and_edge(loaded_catalog):
    graph = _graph(loaded_catalog)
    assert graph.nodes_of(NodeKind.SYSTEM) == ["system:backup", "system:crm", "system:hosting"]
    assert node_key("party", "helpdesk-in") in graph.graph
    kinds = {data["kind"] for _, _, data in graph.graph.edges(data=True)}
    assert kinds == {EdgeKind.HOSTED_IN, EdgeKind.FLOWS_TO}
    datasets = graph.containment["system:crm"]
    assert datasets and all(graph.node(key)["kind"] == NodeKind.DATASET for key in datasets)
    assert graph.contained("system:crm") == sorted(datasets + [f for d in datasets for f in graph.containment[d]])
    assert {graph.node(key)["kind"] for key in graph.contained("system:crm")} == {NodeKind.DATASET, NodeKind.FIELD}
    assert graph.node("system:backup")["countries"] == ("IE",)
    assert graph.categories_held("system:crm") == {"user.contact.email", "user.name", "user.financial.bank_account"}


def test_descendants_respect_depth(loaded_catalog):
    graph = _graph(loaded_catalog)
    assert graph.descendants("system:crm", depth=1) == {"system:backup", "party:cloudco", "party:metrics", "party:helpdesk-in"}
    assert graph.ancestors("party:cloudco") == {"system:crm"}
    assert graph.sub_processors("party:cloudco") == ["party:helpdesk-in"]


def _by_flow(transfers):
    return {(t.flow_id, t.destination): t for t in transfers}


def _derive(catalog, data) -> list:
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    return derive_transfers(_graph(catalog))


def _rows(transfers, flow_id) -> set[tuple[str, str]]:
    return {(t.origin, t.destination) for t in transfers if t.flow_id == flow_id}


def test_transfers_are_derived_and_assessed_under_both_regimes(loaded_catalog):
    transfers = _by_flow(derive_transfers(_graph(loaded_catalog)))
    backup = transfers[("crm-backup", "IE")]
    assert backup.uk.status == TransferStatus.ADEQUACY and backup.eu.status == TransferStatus.ENTERS_EEA and not backup.has_gap
    assert backup.host == "party:cloudco"  # the Dublin region is Cloudco's: it holds the data there
    # US processor certified under the DPF and its UK Extension: adequacy with certification
    cloudco = transfers[("crm-cloudco", "US")]
    assert cloudco.uk.status == TransferStatus.ADEQUACY_CERTIFIED
    # the organisation keeps its record under EU GDPR too, so it is subject to it wherever it
    # holds the data (EDPB Guidelines 05/2021): its move from the UK to the US is an EU transfer
    assert cloudco.eu.status == TransferStatus.ADEQUACY_CERTIFIED
    # US processor without certification but with an IDTA on record: covered under UK GDPR only
    metrics = transfers[("crm-metrics", "US")]
    assert metrics.uk.status == TransferStatus.RESTRICTED and metrics.mechanism == "uk_idta"
    assert metrics.eu.status == TransferStatus.RESTRICTED and metrics.gap_under == (Regime.EU_GDPR,)
    # remote access from India with nothing on record: a gap under both regimes
    helpdesk = transfers[("crm-helpdesk", "IN")]
    assert helpdesk.flow_mechanism == "remote_access"
    assert set(helpdesk.gap_under) == {Regime.UK_GDPR, Regime.EU_GDPR}


def test_data_held_in_the_eea_is_an_eu_transfer_when_it_leaves(catalog):
    data = small_spec_data()
    data["parties"].append({"id": "bank-br", "name": "Banco BR", "role": "independent_controller", "country": "BR"})
    data["flows"] += [
        {"id": "backup-cloudco", "from": "backup", "to": "cloudco", "categories": ["user.name"]},
        {"id": "backup-metrics", "from": "backup", "to": "metrics", "categories": ["user.name"]},
        {"id": "backup-bank-br", "from": "backup", "to": "bank-br", "categories": ["user.name"]},
    ]
    transfers = _by_flow(_derive(catalog, data))
    assert transfers[("backup-cloudco", "US")].eu.status == TransferStatus.ADEQUACY_CERTIFIED
    assert transfers[("backup-metrics", "US")].gap_under == (Regime.EU_GDPR,)  # the IDTA covers UK GDPR only
    # held in Ireland by a UK-established exporter: still subject to UK GDPR (Brazil has no UK adequacy)
    brazil = transfers[("backup-bank-br", "BR")]
    assert brazil.uk.status == TransferStatus.RESTRICTED and brazil.eu.status == TransferStatus.ADEQUACY
    assert brazil.gap_under == (Regime.UK_GDPR,)


def test_onward_transfer_to_sub_processor(loaded_catalog):
    transfers = _by_flow(derive_transfers(_graph(loaded_catalog)))
    onward = transfers[("crm-cloudco>helpdesk-in", "IN")]
    assert onward.origin == "US" and onward.via == ("party:cloudco",)
    assert onward.exporter_role == "processor" and onward.importer_role == "sub_processor"
    # the data left the UK: its onward move stays a transfer under both regimes (Article 44)
    assert set(onward.gap_under) == {Regime.UK_GDPR, Regime.EU_GDPR}
    # the backup Cloudco holds in Dublin reaches its sub-processor too, from Ireland: both regimes
    hosted = transfers[("crm-backup>helpdesk-in", "IN")]
    assert hosted.origin == "IE" and hosted.via == ("party:cloudco",)
    assert set(hosted.gap_under) == {Regime.UK_GDPR, Regime.EU_GDPR}


def test_domestic_flows_are_not_transfers(loaded_catalog):
    transfers = derive_transfers(_graph(loaded_catalog))
    assert all(t.origin != t.destination for t in transfers)
    assert not any(t.flow_id == "crm-hosting" for t in transfers)


def test_declared_recipient_without_a_flow_is_one_undocumented_entry(catalog):
    data = small_spec_data()
    data["activities"][0]["recipients"] = ["cloudco", "metrics", "helpdesk-in"]
    data["flows"] = [f for f in data["flows"] if f["id"] not in {"crm-metrics", "crm-helpdesk"}]
    transfers = _derive(catalog, data)
    entries = [t for t in transfers if t.flow_id == "client-management~metrics"]
    assert len(entries) == 1
    gap = entries[0]
    assert gap.is_undocumented and gap.flow_mechanism == UNDOCUMENTED and gap.activity_id == "client-management"
    # not attributed to a system: the organisation exports it, with the activity's declared categories
    assert gap.exporter == "organisation:acme" and gap.exporter_name == "Acme IT Ltd" and gap.origin == "GB"
    assert gap.data_categories == ("user.contact.email",) and gap.via == ()
    assert gap.as_dict()["undocumented"] is True
    from dashboards.views.transfers import moved_by

    assert moved_by(gap) == "Recipient with no documented flow"  # not "Disclosure on request"
    # reached by a flow (cloudco) or only through its onward chain (helpdesk-in): nothing invented
    assert not [t for t in transfers if t.flow_id in {"client-management~cloudco", "client-management~helpdesk-in"}]
    assert not [t for t in transfers if t.is_undocumented and t.flow_id != "client-management~metrics"]


def _bigcloud(data: dict) -> dict:
    """A provider with sites in Frankfurt and Virginia, registered in Luxembourg, that also
    processes in the Netherlands, hosting a shop used by two activities that name it."""
    data["locations"] += [
        {"id": "fra", "name": "Bigcloud Frankfurt", "provider": "Bigcloud", "city": "Frankfurt", "country": "DE", "kind": "cloud_region"},
        {"id": "va", "name": "Bigcloud Virginia", "provider": "Bigcloud", "city": "Ashburn", "country": "US", "kind": "cloud_region"},
    ]
    data["parties"].append({
        "id": "bigcloud", "name": "Bigcloud EMEA SARL", "role": "processor", "country": "LU", "processing_countries": ["DE", "US", "NL"],
        "certifications": ["DPF", "DPF-UK-Extension"], "contract_ref": "DPA-9",
    })
    data["systems"] += [{"id": "shop", "name": "Shop", "role": "processor", "hosted_in": ["fra", "va"]},
                        {"id": "shop-replica", "name": "Shop replica", "role": "processor", "hosted_in": ["fra", "va"]}]
    data["activities"][0]["systems"].append("shop")
    data["activities"][0]["recipients"].append("bigcloud")
    data["activities"][1]["systems"].append("shop")
    data["activities"][1]["recipients"] = ["bigcloud"]
    return data


def test_a_provider_hosting_a_system_is_one_transfer_per_country_not_per_activity(catalog):
    transfers = _derive(catalog, _bigcloud(small_spec_data()))
    # its sites and declared processing countries, from the organisation at home; not its registered seat
    assert _rows(transfers, "shop@bigcloud") == {("GB", "DE"), ("GB", "US"), ("GB", "NL")}
    hosting = [t for t in transfers if t.flow_id == "shop@bigcloud"]
    assert {(t.exporter, t.importer, t.flow_mechanism, t.activity_id) for t in hosting} == {("system:shop", "party:bigcloud", HOSTING, None)}
    assert next(t for t in hosting if t.destination == "US").uk.status == TransferStatus.ADEQUACY_CERTIFIED
    # a recipient that hosts one of the activity's systems is covered by the hosting transfer
    assert {t.flow_mechanism for t in transfers if t.importer == "party:bigcloud"} == {HOSTING}


def test_origins_and_destinations_are_paired_as_the_catalogue_places_them(catalog):
    data = _bigcloud(small_spec_data())
    data["flows"] += [
        {"id": "shop-crm", "from": "shop", "to": "crm", "categories": ["user.name"]},
        {"id": "shop-to-replica", "from": "shop", "to": "shop-replica", "categories": ["user.name"]},
    ]
    transfers = _derive(catalog, data)
    assert _rows(transfers, "shop-crm") == {("DE", "GB"), ("US", "GB")}  # not DE -> US, not US -> DE
    assert _rows(transfers, "shop-to-replica") == set()  # each copy stays at its own site
    by_origin = {t.origin: t for t in transfers if t.flow_id == "shop-crm"}
    # into the UK from outside: not a UK transfer, and not "Domestic"
    assert {t.uk.status for t in by_origin.values()} == {TransferStatus.ENTERS_UK}
    assert by_origin["DE"].eu.status == TransferStatus.ADEQUACY  # leaves the EEA for the UK (EU adequacy)
    assert by_origin["US"].eu.status == TransferStatus.ADEQUACY  # the organisation is subject to EU GDPR (it keeps its record under it)


def test_flow_into_our_system_at_a_providers_site_uses_the_providers_record(catalog):
    data = small_spec_data()
    data["locations"].append({"id": "sg", "name": "Vaultco Singapore", "provider": "Vaultco Pte Ltd", "country": "SG"})
    data["parties"].append({"id": "vaultco", "name": "Vaultco Pte Ltd", "role": "processor", "country": "SG",
                            "transfer_mechanism": "uk_idta", "transfer_assessment_ref": "TRA-9"})
    data["systems"].append({"id": "archive", "name": "Archive", "hosted_in": ["sg"]})
    data["flows"].append({"id": "crm-archive", "from": "crm", "to": "archive", "categories": ["user.name"], "mechanism": "replication"})
    transfers = _derive(catalog, data)
    archive = _by_flow(transfers)[("crm-archive", "SG")]
    assert archive.importer == "system:archive" and archive.host == "party:vaultco"
    assert archive.on_record == ("uk_idta",) and archive.assessment_ref == "TRA-9"
    assert archive.covered_under == (Regime.UK_GDPR,) and archive.gap_under == (Regime.EU_GDPR,)  # the IDTA is a UK instrument
    assert not [t for t in transfers if t.flow_id == "archive@vaultco"]  # the flow stands for the hosting


def test_uk_addendum_stands_for_the_eu_sccs_it_is_appended_to(catalog):
    """The Addendum is appended to the EU SCCs: recorded, it holds both (a party records one mechanism)."""
    data = small_spec_data()
    data["parties"].append({"id": "vendor-in", "name": "Vendor IN", "role": "processor", "country": "IN",
                            "transfer_mechanism": "uk_addendum", "transfer_assessment_ref": "TRA-1"})
    data["flows"] += [
        {"id": "backup-vendor", "from": "backup", "to": "vendor-in", "categories": ["user.name"]},
        {"id": "backup-vendor-sccs", "from": "backup", "to": "vendor-in", "categories": ["user.name"], "transfer_mechanism": "eu_scc_module_2"},
    ]
    transfers = _by_flow(_derive(catalog, data))
    addendum = transfers[("backup-vendor", "IN")]
    assert addendum.covered_under == (Regime.UK_GDPR, Regime.EU_GDPR) and not addendum.has_gap
    both = transfers[("backup-vendor-sccs", "IN")]
    assert both.on_record == ("eu_scc_module_2", "uk_addendum") and both.covered_under == (Regime.UK_GDPR, Regime.EU_GDPR)
    assert not both.has_gap
    assert covered_regimes(["uk_addendum"]) == (Regime.UK_GDPR, Regime.EU_GDPR)
    assert covered_regimes(["uk_idta"]) == (Regime.UK_GDPR,) and covered_regimes(["uk_idta", "bcr"]) == (Regime.UK_GDPR, Regime.EU_GDPR)


def test_hosting_providers_match_by_name_and_leave_our_own_sites_out(loaded_catalog):
    graph = _graph(loaded_catalog)
    assert hosting_providers(graph) == {"location:dub": "party:cloudco"}  # 'Cloudco' is Cloudco Inc; 'Acme' is us
