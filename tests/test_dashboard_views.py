"""The data-flow map, lineage, transfers, activities and findings pages, run headless with AppTest.

Small catalogue: tests.factories.small_spec(). Over-budget behaviour: a synthetic catalogue of
about 200 systems (catalog.synth), whose ~400 flows are more than the map's budget of 300 edges.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from catalog.apply import apply_spec
from catalog.flowmap import DEFAULT_BUDGET
from catalog.geo import load_centroids
from catalog.graph import CatalogGraph
from catalog.jurisdictions import load_jurisdictions
from catalog.specs import CatalogSpec
from catalog.store import DATABASE_URL_ENV, init_catalog
from catalog.transfers import derive_transfers
from tests.factories import small_spec, small_spec_data

APP = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
TIMEOUT = 90
ROLES = ["auditor", "engineer", "dpo"]
MY_PAGES = ["flow_map", "lineage", "transfers", "activities", "findings"]


def load(url: str, spec: CatalogSpec) -> None:
    catalog = init_catalog(url)
    try:
        with catalog.session() as session:
            apply_spec(session, spec, source="manifest", target="tests")
    finally:
        catalog.dispose()


@pytest.fixture
def catalogue_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'views.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    monkeypatch.delenv("ROPA_TRUSTED_USER_HEADER", raising=False)
    monkeypatch.setenv("ROPA_LOCAL_ROLE", "dpo")
    return url


@pytest.fixture
def small(catalogue_url) -> str:
    load(catalogue_url, small_spec())
    return catalogue_url


@pytest.fixture(scope="module")
def synth_db(tmp_path_factory) -> str:
    """About 200 synthetic systems (two flows each): more flows than the map's budget."""
    from catalog.synth import synth_spec

    url = f"sqlite:///{tmp_path_factory.mktemp('synth') / 'synth.db'}"
    load(url, synth_spec(200, 2))
    return url


def page(name: str, query: dict | None = None) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    if query:
        app.query_params.update(query)
    app.switch_page(f"views/{name}.py").run()
    ok(app)
    return app


def ok(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def chart(app: AppTest) -> str:
    charts = app.get("graphviz_chart")
    assert len(charts) == 1
    return charts[0].proto.spec


def edges(spec: str) -> list[str]:
    return [line.strip() for line in spec.splitlines() if " -> " in line and "legend_" not in line]


def infos(app: AppTest) -> str:
    return "\n".join(element.value for element in app.info)


# ---- data-flow map --------------------------------------------------------------------------------

def test_map_filters_category_subject_system_and_role(small):
    app = page("flow_map")
    assert len(edges(chart(app))) == 5
    category = app.selectbox(key="map_category")
    listed = [re.search(r"\((\S+)\)$", option).group(1) for option in category.options[1:]]
    assert listed[:3] == ["user", "user.contact", "user.contact.email"]  # broader keys listed too
    category.set_value("user.contact").run()  # its sub-category user.contact.email is what the flows carry
    ok(app)
    spec = chart(app)
    assert "system__crm -> party__cloudco" in spec and "system__crm -> system__backup" in spec
    assert 'system__crm -> "party__helpdesk-in"' not in spec  # carries user.name only
    assert not any("user.financial" in option for option in category.options)  # no flow carries it
    app.selectbox(key="map_activity").set_value("client-management").run()
    app.selectbox(key="map_role").set_value("system:processor").run()
    assert edges(chart(app)) == [] and "No flow matches" in infos(app)
    app.selectbox(key="map_activity").set_value("All").run()
    app.selectbox(key="map_role").set_value("All").run()
    app.selectbox(key="map_category").set_value("All").run()

    app.selectbox(key="map_subject").set_value("customer").run()
    ok(app)
    assert "system__hosting" not in chart(app)
    app.selectbox(key="map_subject").set_value("All").run()
    app.selectbox(key="map_system").set_value("system:backup").run()
    assert [e.split(" [")[0] for e in edges(chart(app))] == ["system__crm -> system__backup"]
    app.selectbox(key="map_system").set_value("All").run()
    app.selectbox(key="map_role").set_value("party:sub_processor").run()
    ok(app)
    assert all("helpdesk" in edge for edge in edges(chart(app))) and len(edges(chart(app))) == 2


def test_map_over_budget_aggregates_says_so_and_drills_into_a_country(synth_db, monkeypatch):
    monkeypatch.setenv(DATABASE_URL_ENV, synth_db)
    app = page("flow_map")
    assert f"drawing budget of {DEFAULT_BUDGET} edges" in infos(app)
    spec = chart(app)
    assert len(edges(spec)) <= DEFAULT_BUDGET
    assert "group__" in spec and "system__" not in spec.split("cluster_legend")[0]
    drill = app.selectbox(key="map_drill")
    assert "United Kingdom (GB)" in drill.options
    drill.set_value("GB").run()
    ok(app)
    gb = chart(app)
    assert len(edges(gb)) <= DEFAULT_BUDGET
    assert "system__" in gb  # the UK's systems one by one
    assert "group__US" in gb or "group__DE" in gb  # the other ends grouped by country


def test_map_focus_mode_and_focus_link(small):
    app = page("flow_map")
    app.radio(key="map_mode").set_value("One system's neighbourhood").run()
    app.selectbox(key="map_focus").set_value("system:backup").run()
    ok(app)
    assert [e.split(" [")[0] for e in edges(chart(app))] == ["system__crm -> system__backup"]
    app.select_slider(key="map_depth").set_value(2).run()
    ok(app)
    assert [e.split(" [")[0] for e in edges(chart(app))] == ["system__crm -> system__backup"]  # crm receives nothing

    linked = page("flow_map", {"focus": "cloudco"})
    assert linked.radio(key="map_mode").value == "One system's neighbourhood"
    spec = chart(linked)
    assert "system__crm -> party__cloudco" in spec and "system__backup" not in spec


def test_map_downloads_follow_the_download_permission(small, monkeypatch):
    app = page("flow_map")
    labels = [button.proto.label for button in app.get("download_button")]
    assert "Download the map (DOT)" in labels
    from dashboards import auth

    monkeypatch.setitem(auth.ROLE_PERMISSIONS, auth.Role.AUDITOR, frozenset({auth.Permission.VIEW}))
    monkeypatch.setenv("ROPA_LOCAL_ROLE", "auditor")
    for name in ("flow_map", "activities", "transfers", "lineage"):
        denied = page(name)
        assert not denied.get("download_button"), name


# ---- lineage ------------------------------------------------------------------------------------------

def test_lineage_page_draws_and_lists_the_downstream_of_a_system(small):
    app = page("lineage")
    app.radio(key="lineage_kind").set_value("system").run()
    app.selectbox(key="lineage_node").set_value("system:crm").run()
    ok(app)
    spec = chart(app)
    ids = {key: quoted or bare for key, quoted, bare in re.findall(r'^\s*(n\d+) \[label=(?:"([^"]*)"|(\S+))', spec, re.MULTILINE)}
    crm, india = (next(i for i, label in ids.items() if label == name) for name in ("CRM", "Helpdesk India Pvt"))
    assert re.search(rf'{crm} \[label=CRM penwidth=2 style="rounded,bold"', spec)  # the start, bold
    assert re.search(rf'{crm} -> {india} \[label=Name color=red', spec)  # category label; red: crosses a border
    table = app.dataframe[0].value
    assert set(table["Node"]) == {"Backup vault", "Cloudco Inc", "Metrics LLC", "Helpdesk India Pvt"}
    india = table[table["Node"] == "Helpdesk India Pvt"].iloc[0]
    assert "CRM (GB) -> Helpdesk India Pvt (IN)" in india["Crosses a border"]
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Nodes reached"] == "4" and metrics["Reached across a border"] == "4"

    app.radio(key="lineage_direction").set_value("upstream").run()
    ok(app)
    assert "Nothing is recorded" in infos(app)


def test_lineage_search_and_link_to_a_field(small):
    app = page("lineage", {"node": "crm.contacts.email"})
    assert app.radio(key="lineage_kind").value == "field"
    assert app.selectbox(key="lineage_node").value.startswith("field:")
    assert "reached from crm.contacts.email" in " ".join(t.value for t in app.text)  # no field lineage, but flows carry emails
    assert "Nothing is recorded" not in infos(app)
    app.radio(key="lineage_kind").set_value("dataset").run()
    app.text_input(key="lineage_search").input("snap").run()
    ok(app)
    assert app.selectbox(key="lineage_node").options == ["backup.snapshots"]


# ---- transfers ----------------------------------------------------------------------------------------

def test_transfers_world_map_offline_arcs_and_gap_filter(small):
    app = page("transfers")
    decks = app.get("deck_gl_json_chart")
    assert len(decks) == 1
    deck = json.loads(decks[0].proto.json)
    assert deck["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in deck  # no basemap, no tile server
    arcs = next(layer for layer in deck["layers"] if layer["id"] == "transfers")["data"]
    by_route = {(arc["from"], arc["to"], arc["status"]) for arc in arcs}
    assert ("GB", "IN", "gap") in by_route and ("GB", "IE", "adequate") in by_route
    assert ("US", "IN", "gap") in by_route  # the onward transfer to the sub-processor

    app.checkbox(key="transfer_gaps_only").check().run()
    ok(app)
    gaps = app.dataframe[0].value
    assert set(gaps["Flow"]) == {"crm-helpdesk", "crm-cloudco>helpdesk-in", "crm-backup>helpdesk-in", "crm-metrics"}
    deck = json.loads(app.get("deck_gl_json_chart")[0].proto.json)
    statuses = {arc["status"] for layer in deck["layers"] if layer["id"] == "transfers" for arc in layer["data"]}
    assert statuses == {"gap"}


def test_transfer_detail_names_the_instrument_needed(small):
    app = page("transfers", {"flow": "crm-helpdesk"})
    assert app.selectbox(key="transfer_detail").format_func(app.selectbox(key="transfer_detail").value).startswith("crm-helpdesk:")
    facts = app.dataframe[1].value
    assert dict(zip(facts[""], facts["Value"]))["Importer"] == "Helpdesk India Pvt (Sub-processor)"
    needs = app.dataframe[2].value.set_index("Regime")
    assert needs.loc["EU GDPR", "Instrument that fits"] == "EU SCCs Module 2 (C2P)"
    assert needs.loc["UK GDPR", "Instrument that fits"] == "UK IDTA, UK Addendum to EU SCCs"
    assert needs.loc["EU GDPR", "Risk assessment expected"] == "yes (TIA)" and needs.loc["EU GDPR", "Risk assessment on record"] == "no (TIA)"
    assert needs.loc["UK GDPR", "Gap"] == "yes"


def test_every_transfer_country_has_a_map_point():
    centroids = load_centroids()
    assert centroids.as_of and centroids.sources
    jurisdictions_text = (Path(__file__).resolve().parent.parent / "catalog" / "data" / "jurisdictions.yaml").read_text()
    codes = set(re.findall(r'"([A-Z]{2})"', jurisdictions_text))
    assert codes - set(centroids.points) == set()
    from catalog.synth import LOCATIONS, PARTY_COUNTRIES

    synth = {location[4] for location in LOCATIONS} | {country for country, _weight, _name in PARTY_COUNTRIES}
    assert synth - set(centroids.points) == set()
    london, delhi = centroids.get("gb"), centroids.get("IN")
    assert 50 < london.lat < 60 and -8 < london.lon < 2 and 8 < delhi.lat < 35 and 68 < delhi.lon < 90
    assert load_jurisdictions().normalise_country("India") == "IN"


# ---- activities ---------------------------------------------------------------------------------------

def test_activity_detail_and_downloads(small):
    app = page("activities", {"activity": "client-management"})
    assert app.selectbox(key="activity_detail").value == "client-management"
    frames = [frame.value for frame in app.dataframe]
    systems = next(frame for frame in frames if "System" in frame.columns and "We are" in frame.columns)
    assert list(systems["Id"]) == ["backup", "crm"]
    flows = next(frame for frame in frames if "Flow" in frame.columns and "Transfer gap" in frame.columns)
    assert set(flows["Flow"]) == {"crm-backup", "crm-cloudco", "crm-helpdesk"}
    assert flows.set_index("Flow").loc["crm-helpdesk", "Transfer gap"] == "yes"
    recipients = next(frame for frame in frames if "Recipient" in frame.columns)
    assert list(recipients["Id"]) == ["cloudco"]
    labels = [button.proto.label for button in app.get("download_button")]
    assert "Download the workbook (ICO layout, .xlsx)" in labels
    assert "Download the workbook (CNIL register layout, .xlsx)" in labels
    assert labels.count("Download the map (DOT)") == 1  # the whole map; the activity's waits for its tab
    assert not app.get("graphviz_chart")

    app.session_state["activity_detail_tab"] = "Map"  # the user opens the Map tab
    app.run()
    ok(app)
    assert "party__cloudco" in chart(app)
    labels = [button.proto.label for button in app.get("download_button")]
    assert labels.count("Download the map (DOT)") == 2  # the activity's map and the whole map


def test_workbook_bytes_in_both_layouts_are_valid_xlsx(small):
    from io import BytesIO

    import openpyxl

    from dashboards.state import reload_catalogue
    from dashboards.views.activities import workbook_bytes, workbook_layouts

    reload_catalogue()  # outside a script run the caches are per process: start from this catalogue
    assert set(workbook_layouts()) >= {"ico", "cnil"}
    for layout in workbook_layouts():
        book = openpyxl.load_workbook(BytesIO(workbook_bytes(layout)))
        assert len(book.sheetnames) >= 2, layout
    reload_catalogue()


# ---- findings -----------------------------------------------------------------------------------------

def test_findings_page_counts_and_links(small):
    app = page("findings")
    metrics = {metric.label: int(metric.value) for metric in app.metric}
    assert set(metrics) == {"Critical", "High", "Medium", "Low", "Info"}
    table = app.dataframe[0].value
    assert sum(metrics.values()) == len(table) > 0
    assert metrics["High"] == int((table["Severity"] == "high").sum())
    helpdesk = table[(table["Item kind"] == "transfer") & (table["Item"] == "crm-helpdesk")]
    assert len(helpdesk) and helpdesk.iloc[0]["Open"] == "transfers?flow=crm-helpdesk"
    links = app.get("page_link")
    assert len(links) == 1
    app.selectbox(key="findings_kind").set_value("system").run()
    ok(app)
    shown = app.dataframe[0].value
    if len(shown):
        assert shown.iloc[0]["Open"].startswith("lineage?node=system%3A")
        link = app.get("page_link")[0].proto
        assert link.label == "Open it in the lineage explorer" and "node=system" in link.query_string
    app.multiselect(key="findings_severity").set_value(["critical"]).run()
    ok(app)


# ---- every page, every role; empty catalogue; hostile names --------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(small, monkeypatch, role):
    monkeypatch.setenv("ROPA_LOCAL_ROLE", role)
    for name in MY_PAGES:
        app = page(name)
        assert app.title, name
        assert any("Role: " in element.value for element in app.sidebar.text), name


def test_pages_render_an_empty_catalogue(catalogue_url):
    init_catalog(catalogue_url).dispose()
    for name in MY_PAGES:
        page(name)


def test_catalogue_text_is_never_rendered_as_markdown(catalogue_url):
    hostile = "<b>Bold</b> [link](https://example.invalid) **x**"
    data = small_spec_data()
    data["systems"][0]["name"] = hostile
    data["parties"][2]["name"] = hostile
    data["activities"][0]["name"] = hostile
    load(catalogue_url, CatalogSpec.model_validate(data))
    for name, query in [("flow_map", None), ("lineage", {"node": "system:crm"}), ("transfers", {"flow": "crm-helpdesk"}),
                        ("activities", None), ("findings", None)]:
        app = page(name, query)
        rendered_as_markdown = [
            element.value
            for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "success", "error")
            for element in app.get(kind)
        ]
        assert not any("<b>Bold</b>" in value for value in rendered_as_markdown), name


def test_transfers_have_points_for_both_ends(small):
    from dashboards.views.transfers import world_map_data

    catalog = init_catalog(small)
    with catalog.session() as session:
        graph = CatalogGraph.load(session)
    catalog.dispose()
    data = world_map_data(derive_transfers(graph))
    assert not data.unplaced
    assert {point["code"] for point in data.points} == {"GB", "IE", "IN", "US"}
    assert sum(arc["count"] for arc in data.arcs) == len(derive_transfers(graph))


def test_findings_wait_for_a_click_on_a_large_catalogue(small, monkeypatch):
    from dashboards.views import findings

    monkeypatch.setattr(findings, "AUTO_RUN_SYSTEMS", 1)  # the small catalogue's 3 systems count as large
    monkeypatch.setattr(findings, "_computed", set())
    findings._findings.clear()
    app = page("findings")
    assert "run when asked" in infos(app) and not app.dataframe
    app.button(key="findings_run").click().run()
    ok(app)
    assert len(app.dataframe[0].value) > 0
    app.run()  # computed once: shown straight away afterwards
    assert len(app.dataframe[0].value) > 0 and "run when asked" not in infos(app)
