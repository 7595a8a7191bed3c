"""The flow graph and the transfers derived from it."""

from catalog.graph import CatalogGraph, EdgeKind, NodeKind, node_key
from catalog.jurisdictions import Regime, TransferStatus
from catalog.transfers import derive_transfers


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


def test_transfers_are_derived_and_assessed_under_both_regimes(loaded_catalog):
    transfers = _by_flow(derive_transfers(_graph(loaded_catalog)))
    backup = transfers[("crm-backup", "IE")]
    assert backup.uk.status == TransferStatus.ADEQUACY and not backup.has_gap
    # US processor certified under the DPF and its UK Extension: adequacy with certification
    cloudco = transfers[("crm-cloudco", "US")]
    assert cloudco.uk.status == TransferStatus.ADEQUACY_CERTIFIED
    assert cloudco.eu.status == TransferStatus.ADEQUACY_CERTIFIED
    # US processor without certification but with an IDTA on record: covered under UK GDPR only
    metrics = transfers[("crm-metrics", "US")]
    assert metrics.uk.status == TransferStatus.RESTRICTED and metrics.mechanism == "uk_idta"
    assert metrics.gap_under == (Regime.EU_GDPR,)
    # remote access from India with nothing on record: a gap under both regimes
    helpdesk = transfers[("crm-helpdesk", "IN")]
    assert helpdesk.flow_mechanism == "remote_access"
    assert set(helpdesk.gap_under) == {Regime.UK_GDPR, Regime.EU_GDPR}


def test_onward_transfer_to_sub_processor(loaded_catalog):
    transfers = _by_flow(derive_transfers(_graph(loaded_catalog)))
    onward = transfers[("crm-cloudco>helpdesk-in", "IN")]
    assert onward.origin == "US" and onward.via == ("party:cloudco",)
    assert onward.exporter_role == "processor" and onward.importer_role == "sub_processor"
    assert onward.has_gap


def test_domestic_flows_are_not_transfers(loaded_catalog):
    transfers = derive_transfers(_graph(loaded_catalog))
    assert all(t.origin != t.destination for t in transfers)
    assert not any(t.flow_id == "crm-hosting" for t in transfers)


def test_declared_recipient_without_a_flow_is_a_disclosure_transfer(catalog):
    from catalog.apply import apply_spec
    from catalog.specs import CatalogSpec
    from tests.factories import small_spec_data

    data = small_spec_data()
    data["activities"][0]["recipients"] = ["cloudco", "metrics"]
    data["flows"] = [f for f in data["flows"] if f["id"] != "crm-metrics"]
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    transfers = _by_flow(derive_transfers(_graph(catalog)))
    disclosure = transfers[("client-management~metrics", "US")]
    assert disclosure.flow_mechanism == "disclosure" and disclosure.activity_id == "client-management"
    assert disclosure.exporter == "system:crm"  # hosted at home (GB), not the Irish backup
    # cloudco is reached by a flow from crm, so it is not listed twice
    assert ("client-management~cloudco", "US") not in transfers
