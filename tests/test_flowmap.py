"""The data-flow map's DOT: clusters by country and location, colours by transfer status, filters, escaping."""

from __future__ import annotations

import re

import pytest

from catalog.apply import apply_spec
from catalog.flowmap import FlowStatus, build_flow_map
from catalog.graph import CatalogGraph
from catalog.specs import CatalogSpec
from catalog.transfers import derive_transfers
from tests.factories import small_spec_data


def load(catalog) -> tuple[CatalogGraph, list]:
    with catalog.session() as session:
        graph = CatalogGraph.load(session)
    return graph, derive_transfers(graph)


def flow_map(catalog, **filters) -> str:
    graph, transfers = load(catalog)
    return build_flow_map(graph, transfers, **filters).source


def enclosing_clusters(source: str) -> dict[str, list[str]]:
    """Node or edge statement -> the clusters it sits in, outermost first (a small DOT reader for tests)."""
    where: dict[str, list[str]] = {}
    stack: list[str] = []
    for line in source.splitlines():
        text = line.strip()
        if match := re.match(r"subgraph (\S+) \{$", text):
            stack.append(match.group(1))
        elif text == "}":
            if stack:
                stack.pop()
        elif match := re.match(r'("[^"]*"|\S+)( -> ("[^"]*"|\S+))? \[', text):
            where[match.group(0)[:-2]] = list(stack)
    return where


def edge_line(source: str, start: str, end: str) -> str:
    lines = [line.strip() for line in source.splitlines() if line.strip().startswith(f"{start} -> {end} [")]
    assert len(lines) == 1, f"expected one edge {start} -> {end}, found {lines}"
    return lines[0]


def test_a_cluster_per_country_named_after_it(loaded_catalog):
    source = flow_map(loaded_catalog)
    for code, name in [("GB", "United Kingdom"), ("IE", "Ireland"), ("IN", "India"), ("US", "United States")]:
        assert f"subgraph cluster_country_{code} {{" in source
        assert f'label="{name} ({code})"' in source
    clusters = enclosing_clusters(source)
    assert clusters["system__crm"] == ["cluster_country_GB", "cluster_location_lon"]
    assert clusters["system__backup"] == ["cluster_country_IE", "cluster_location_dub"]
    assert 'label="London DC\\nAcme, London"' in source


def test_parties_sit_in_their_country_with_their_own_shape(loaded_catalog):
    source = flow_map(loaded_catalog)
    clusters = enclosing_clusters(source)
    assert clusters['"party__helpdesk-in"'] == ["cluster_country_IN"]
    node = next(line for line in source.splitlines() if line.strip().startswith('"party__helpdesk-in" ['))
    assert 'label="Helpdesk India Pvt\\nSub-processor"' in node
    assert "shape=component" in node
    assert "shape=box" in next(line for line in source.splitlines() if line.strip().startswith("system__crm ["))


def test_edges_are_coloured_by_worst_transfer_status(loaded_catalog):
    source = flow_map(loaded_catalog)
    helpdesk = edge_line(source, "system__crm", '"party__helpdesk-in"')
    assert f"color={FlowStatus.GAP.colour}" in helpdesk
    assert "label=Name" in helpdesk  # the short category label it carries
    metrics = edge_line(source, "system__crm", "party__metrics")  # the UK IDTA on record does not cover EU GDPR
    assert f"color={FlowStatus.GAP.colour}" in metrics and "gap under EU GDPR" in metrics
    assert f"color={FlowStatus.ADEQUATE.colour}" in edge_line(source, "system__crm", "party__cloudco")  # DPF certified
    assert f"color={FlowStatus.ADEQUATE.colour}" in edge_line(source, "system__crm", "system__backup")  # to Ireland
    onward = edge_line(source, "party__cloudco", '"party__helpdesk-in"')
    assert "style=dashed" in onward and f"color={FlowStatus.GAP.colour}" in onward
    assert "subgraph cluster_legend {" in source
    for status in FlowStatus:
        assert status.label in source


def test_only_the_regimes_kept_decide_the_colour(catalog):
    data = small_spec_data()
    data["organisation"]["regimes"] = ["uk_gdpr"]  # the UK IDTA then covers every regime kept
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
    source = flow_map(catalog)
    assert f"color={FlowStatus.MECHANISM.colour}" in edge_line(source, "system__crm", "party__metrics")
    assert f"color={FlowStatus.GAP.colour}" in edge_line(source, "system__crm", '"party__helpdesk-in"')


def test_filter_by_activity_drops_flows_outside_it(loaded_catalog):
    source = flow_map(loaded_catalog, activity="client-management")
    assert "party__metrics" not in source  # crm-metrics serves no activity
    assert "system__hosting" not in source  # touches no flow of the activity
    edge_line(source, "system__crm", '"party__helpdesk-in"')
    edge_line(source, "system__crm", "system__backup")


def test_filter_by_category_and_country(loaded_catalog):
    by_name = flow_map(loaded_catalog, category="user.name")
    edge_line(by_name, "system__crm", "system__backup")
    edge_line(by_name, "system__crm", '"party__helpdesk-in"')
    assert "party__metrics" not in by_name  # Cloudco is drawn: it hosts the backup, which holds names, in Dublin
    broader = flow_map(loaded_catalog, category="user.contact")  # covers user.contact.email
    edge_line(broader, "system__crm", "party__cloudco")
    assert '"party__helpdesk-in" [' in broader  # reached by the onward transfer of the email data
    india = flow_map(loaded_catalog, country="India")
    edge_line(india, "system__crm", '"party__helpdesk-in"')
    assert "system__backup" not in india and "party__metrics" not in india


def test_output_is_deterministic(loaded_catalog):
    assert flow_map(loaded_catalog) == flow_map(loaded_catalog)


@pytest.fixture
def awkward_catalog(catalog):
    """A catalogue whose names try to break out of DOT quoting or into HTML labels."""
    data = small_spec_data()
    data["locations"].append({"id": "odd", "name": 'Site "B" \\ <i>x</i>', "country": "GB"})
    data["systems"].append({"id": "odd", "name": '<b>Bold "quoted" \\ name</b>', "hosted_in": ["odd"]})
    data["flows"].append({"id": "crm-odd", "from": "crm", "to": "odd", "categories": ["user.name"]})
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
    return catalog


def test_catalogue_text_is_escaped_never_html(awkward_catalog):
    source = flow_map(awkward_catalog)
    assert "label=<" not in source  # no HTML-like label anywhere
    assert r'system__odd [label="<b>Bold \"quoted\" \\ name</b>"' in source
    assert r'label="Site \"B\" \\ <i>x</i>"' in source
    assert f"color={FlowStatus.DOMESTIC.colour}" in edge_line(source, "system__crm", "system__odd")  # both in the UK


def test_systems_hosted_twice_or_nowhere(catalog):
    data = small_spec_data()
    data["systems"] += [
        {"id": "multi", "name": "Mirror", "hosted_in": ["lon", "dub"]},
        {"id": "nowhere", "name": "Laptop spreadsheets"},
    ]
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
    source = flow_map(catalog)
    clusters = enclosing_clusters(source)
    assert clusters["system__multi"] == ["cluster_country_IE", "cluster_location_dub"]  # first location by id
    assert 'label="Mirror\\nalso hosted in:\\nLondon DC (GB)"' in source
    assert clusters["system__nowhere"] == ["cluster_country_GB"]  # the organisation's country, no site


# ---- filters by subject, system and role; budget, aggregation, drill-down and focus ----------------------


def drawn_edges(source: str) -> list[str]:
    """Edge statements of the catalogue (the legend's are left out)."""
    return [line.strip() for line in source.splitlines() if " -> " in line and "legend_" not in line]


def test_filter_by_data_subject_system_and_role(loaded_catalog):
    graph, transfers = load(loaded_catalog)
    subjects = {"client-management": ("customer",), "hosting-service": ()}
    customers = build_flow_map(graph, transfers, subject="customer", activity_subjects=subjects).source
    edge_line(customers, "system__crm", "system__backup")
    # crm-metrics serves no activity, but CRM serves client management, whose subjects are customers
    edge_line(customers, "system__crm", "party__metrics")
    assert "system__hosting" not in customers
    employees = build_flow_map(graph, transfers, subject="employee", activity_subjects=subjects)
    assert drawn_edges(employees.source) == [] and employees.info.edges_total == 0

    backup = build_flow_map(graph, transfers, system="backup").source  # an id or a node key
    assert drawn_edges(backup) == [edge_line(backup, "system__crm", "system__backup")]
    assert build_flow_map(graph, transfers, system="system:backup").source == backup

    sub = build_flow_map(graph, transfers, role="party:sub_processor").source
    assert {line.split(" [")[0] for line in drawn_edges(sub)} == {'system__crm -> "party__helpdesk-in"', 'party__cloudco -> "party__helpdesk-in"'}
    processors = build_flow_map(graph, transfers, role="processor").source  # any kind
    assert "party__metrics" in processors and "party__cloudco" in processors and '"party__helpdesk-in" [' in processors


def test_small_catalogue_is_drawn_in_detail_within_budget(loaded_catalog):
    graph, transfers = load(loaded_catalog)
    result = build_flow_map(graph, transfers)
    assert not result.info.aggregated and result.info.level == "detail"
    assert result.info.edges_drawn == len(drawn_edges(result.source)) == result.info.edges_total == 5  # 4 flows + 1 onward
    digraph, info = result  # unpacks as (digraph, info)
    assert digraph.source == result.source and info is result.info


def test_over_budget_groups_by_data_centre_then_country(loaded_catalog):
    graph, transfers = load(loaded_catalog)
    by_site = build_flow_map(graph, transfers, budget=4)
    assert by_site.info.aggregated and by_site.info.level == "location"
    assert by_site.info.edges_drawn <= 4
    assert "group__GB__lon" in by_site.source and "group__US__~parties" in by_site.source
    assert "budget of 4 edges" in by_site.info.message and "Choose a country" in by_site.info.message
    merged = edge_line(by_site.source, "group__GB__lon", '"group__US__~parties"')
    assert "label=\"2 flows" in merged and f"color={FlowStatus.GAP.colour}" in merged  # metrics' EU gap is the worst

    by_country = build_flow_map(graph, transfers, budget=3)
    assert by_country.info.level == "country" and by_country.info.edges_drawn <= 3
    assert "group__GB -> group__US" in by_country.source
    assert 'label="United Kingdom (GB)\\n2 systems, 1 party"' in by_country.source  # CRM, hosting and client A

    tiny = build_flow_map(graph, transfers, budget=1)
    assert tiny.info.edges_drawn == len(drawn_edges(tiny.source)) == 1
    assert tiny.info.edges_left_out >= 1 and "left out" in tiny.info.message
    assert f"color={FlowStatus.GAP.colour}" in drawn_edges(tiny.source)[0]  # the most severe edge is kept


def test_drill_into_a_country_draws_its_systems_and_groups_the_rest(loaded_catalog):
    graph, transfers = load(loaded_catalog)
    gb = build_flow_map(graph, transfers, budget=4, drill_country="United Kingdom")
    assert gb.info.drill_country == "GB" and gb.info.level == "detail"
    assert gb.info.edges_drawn <= 4
    for key in ("system__crm", "system__hosting", '"party__client-a"'):
        assert f"{key} [" in gb.source
    assert "system__crm -> group__US" in gb.source  # both US processors merged into one edge
    assert "group__IE" in gb.source and "party__cloudco" not in gb.source
    assert set(gb.info.countries) >= {"GB", "US", "IE", "IN"}


def test_focus_draws_a_neighbourhood_to_a_depth(loaded_catalog):
    graph, transfers = load(loaded_catalog)
    backup = build_flow_map(graph, transfers, focus="backup", depth=1)
    assert backup.info.focus == "system:backup"
    assert [line.split(" [")[0] for line in drawn_edges(backup.source)] == ["system__crm -> system__backup"]
    assert "penwidth=2" in next(line for line in backup.source.splitlines() if line.strip().startswith("system__backup ["))
    one_hop = build_flow_map(graph, transfers, focus="cloudco", depth=1).source
    assert "system__crm -> party__cloudco" in one_hop and "system__backup" not in one_hop
    two_hops = build_flow_map(graph, transfers, focus="cloudco", depth=2).source
    assert "system__crm -> party__cloudco" in two_hops and "system__crm -> system__backup" not in two_hops  # ancestors only
    everything = build_flow_map(graph, transfers, focus="crm", depth=None)
    assert everything.info.edges_total == 5  # its four flows and the onward step between two of its recipients
    with pytest.raises(KeyError):
        build_flow_map(graph, transfers, focus="no-such-system")


def test_synthetic_catalogue_never_sends_more_than_the_budget(sqlite_catalog):
    from catalog.synth import synth_spec

    with sqlite_catalog.session() as session:
        apply_spec(session, synth_spec(120, 1), source="manifest", target="synth")
    graph, transfers = load(sqlite_catalog)
    assert not build_flow_map(graph, transfers, budget=300).info.aggregated  # about 240 edges
    for budget in (100, 50, 10):
        result = build_flow_map(graph, transfers, budget=budget)
        assert result.info.edges_drawn == len(drawn_edges(result.source)) <= budget
        assert result.info.aggregated
    unlimited = build_flow_map(graph, transfers, budget=None)
    assert not unlimited.info.aggregated and unlimited.info.edges_drawn == unlimited.info.edges_total
    gb = build_flow_map(graph, transfers, budget=50, drill_country="GB")
    assert gb.info.edges_drawn <= 50 and gb.info.drill_country == "GB"
