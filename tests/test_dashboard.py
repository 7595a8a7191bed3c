"""Every dashboard page, run headless with Streamlit's AppTest against a small SQLite catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from catalog.apply import apply_spec
from catalog.graph import CatalogGraph
from catalog.specs import CatalogSpec
from catalog.store import DATABASE_URL_ENV, init_catalog, mask_url
from catalog.transfers import derive_transfers
from tests.factories import small_spec, small_spec_data

APP = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
TIMEOUT = 60  # the first run imports pandas, pyarrow and the catalogue


def load_catalogue(url: str, spec: CatalogSpec) -> int:
    """Create a catalogue at url holding spec; return how many transfers it derives."""
    catalog = init_catalog(url)
    try:
        with catalog.session() as session:
            apply_spec(session, spec, source="manifest", target="tests")
        with catalog.session() as session:
            return len(derive_transfers(CatalogGraph.load(session)))
    finally:
        catalog.dispose()


@pytest.fixture
def catalogue_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    return url


@pytest.fixture
def small_catalogue(catalogue_url) -> int:
    """The small spec loaded into the dashboard's catalogue; the number of transfers it derives."""
    return load_catalogue(catalogue_url, small_spec())


def open_app() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def open_page(page: str) -> AppTest:
    app = open_app()
    app.switch_page(f"views/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def test_overview_counts_gaps_and_sidebar(small_catalogue, catalogue_url):
    app = open_app()
    assert not app.error
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics == {
        "Systems": "3", "Processing activities": "2", "Parties": "4", "Locations": "2", "Transfers": str(small_catalogue),
    }
    gaps = app.dataframe[0].value
    assert "crm-helpdesk" in set(gaps["Flow"])
    helpdesk = gaps[gaps["Flow"] == "crm-helpdesk"].iloc[0]
    assert (helpdesk["Exporter"], helpdesk["Importer"], helpdesk["To"]) == ("CRM", "Helpdesk India Pvt", "India (IN)")
    metrics = gaps[gaps["Flow"] == "crm-metrics"].iloc[0]  # the UK IDTA on record does not cover EU GDPR
    assert (metrics["Mechanism on record"], metrics["Gap under"]) == ("UK IDTA", "EU GDPR")
    assert "crm-cloudco" not in set(gaps["Flow"])  # DPF-certified importer: adequacy under both
    assert len(app.get("download_button")) == 1  # the workbook, built only when pressed
    sidebar_text = [element.value for element in app.sidebar.text]
    assert mask_url(catalogue_url) in sidebar_text
    assert "Identity: local demo user (no login)" in sidebar_text  # who is signed in, and how we know
    assert any("Demo mode" in caption.value for caption in app.sidebar.caption)


def test_flow_map_page_draws_clusters_and_filters(small_catalogue):
    app = open_page("flow_map")
    charts = app.get("graphviz_chart")
    assert len(charts) == 1
    spec = charts[0].proto.spec
    assert "cluster" in spec and "party__metrics" in spec
    assert any("red" in caption.value for caption in app.caption)
    app.selectbox(key="map_activity").set_value("client-management").run()
    assert not app.exception
    filtered = app.get("graphviz_chart")[0].proto.spec
    assert "party__metrics" not in filtered and "party__cloudco" in filtered


def test_transfers_page_shows_both_regimes_and_the_india_gap(small_catalogue):
    app = open_page("transfers")
    table = app.dataframe[0].value
    assert len(table) == small_catalogue
    india = table[table["Flow"] == "crm-helpdesk"].iloc[0]
    assert india["To"] == "India (IN)"
    assert india["UK GDPR"] == india["EU GDPR"] == "Restricted transfer"
    assert india["Mechanism"] == ""
    assert india["Gap under"] == "UK GDPR, EU GDPR"
    metrics = table[table["Flow"] == "crm-metrics"].iloc[0]
    assert (metrics["Mechanism"], metrics["Gap under"]) == ("UK IDTA", "EU GDPR")
    backup = table[table["Flow"] == "crm-backup"].iloc[0]
    assert (backup["UK GDPR"], backup["EU GDPR"], backup["Gap under"]) == ("Adequacy", "Not a transfer (data enters the EEA)", "")

    app.checkbox(key="transfer_gaps_only").check().run()
    gaps_only = app.dataframe[0].value
    assert set(gaps_only["Flow"]) == {"crm-helpdesk", "crm-cloudco>helpdesk-in", "crm-backup>helpdesk-in", "crm-metrics"}
    app.checkbox(key="transfer_gaps_only").uncheck().run()
    app.selectbox(key="transfer_country").set_value("IE").run()
    assert list(app.dataframe[0].value["Flow"]) == ["crm-backup", "crm-backup>helpdesk-in"]  # to Ireland, and on from there


def test_transfers_json_matches_the_cli_document(small_catalogue, catalogue_url):
    from dashboards.state import Snapshot
    from dashboards.views.transfers import transfers_json

    catalog = init_catalog(catalogue_url)
    with catalog.session() as session:
        graph = CatalogGraph.load(session)
    catalog.dispose()
    transfers = derive_transfers(graph)
    document = json.loads(transfers_json(Snapshot(1, graph, tuple(transfers), ()), transfers[:2]))
    assert document == {"regimes": ["uk_gdpr", "eu_gdpr"], "transfers": [t.as_dict() for t in transfers[:2]]}


def test_activities_page_shows_the_controller_record(small_catalogue):
    app = open_page("activities")
    controller = app.dataframe[0].value
    assert list(controller["Activity"]) == ["Client management"]
    assert controller.iloc[0]["Business function"] == "Sales"
    processor = app.dataframe[1].value
    assert len(processor) == 1  # Client A plc, for whom we host applications
    app.text_input(key="activities_search").input("no such words").run()
    assert app.dataframe[0].value.empty


def test_pages_fall_back_when_the_record_is_not_installed(small_catalogue, monkeypatch):
    monkeypatch.setitem(sys.modules, "catalog.record", None)  # import fails as if the module were absent
    monkeypatch.setitem(sys.modules, "exports.workbook", None)
    app = open_app()
    assert any("workbook export is unavailable" in info.value for info in app.info)
    assert not app.get("download_button")
    app.switch_page("views/activities.py").run()
    assert not app.exception
    assert any("unavailable" in info.value for info in app.info)
    assert list(app.dataframe[0].value["Activity"]) == ["Client management"]
    assert list(app.dataframe[1].value["Activity"]) == ["Application hosting"]


def test_missing_database_says_to_run_ropa_init(catalogue_url, tmp_path):
    app = open_app()
    assert len(app.error) == 1
    assert "ropa init" in app.error[0].value
    assert not app.metric
    assert not (tmp_path / "dashboard.db").exists()  # looking did not create an empty file


def test_uninitialised_database_says_to_run_ropa_init(catalogue_url):
    engine = create_engine(catalogue_url)
    with engine.begin() as connection:  # a SQLite file with no catalogue in it
        connection.execute(text("CREATE TABLE unrelated (id INTEGER)"))
    engine.dispose()
    app = open_app()
    assert len(app.error) == 1
    assert "ropa init" in app.error[0].value
    assert not app.metric


def test_catalogue_text_is_never_rendered_as_markdown(catalogue_url):
    hostile = "<b>Bold</b> [link](https://example.invalid) **x**"
    data = small_spec_data()
    data["organisation"]["name"] = hostile
    data["systems"][0]["name"] = hostile
    data["parties"][0]["name"] = hostile
    load_catalogue(catalogue_url, CatalogSpec.model_validate(data))
    app = open_app()
    for page in [None, "flow_map", "transfers", "activities", "register", "review", "history"]:
        if page:
            app.switch_page(f"views/{page}.py").run()
        assert not app.exception
        rendered_as_markdown = [
            element.value
            for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "success", "error")
            for element in app.get(kind)
        ]
        assert not any("<b>Bold</b>" in value for value in rendered_as_markdown), page
    app.switch_page("views/overview.py").run()
    assert any(hostile in element.value for element in app.text)


def test_every_page_renders_an_empty_catalogue(catalogue_url):
    init_catalog(catalogue_url).dispose()
    app = open_app()
    assert {metric.label: metric.value for metric in app.metric}["Systems"] == "0"
    for page in ["flow_map", "transfers", "activities", "register", "review", "history", "overview"]:
        app.switch_page(f"views/{page}.py").run()
        assert not app.exception, (page, [e.value for e in app.exception])
        assert not app.error, page


def test_warm_up_reads_the_catalogue_before_the_first_visitor(small_catalogue, catalogue_url, monkeypatch):
    """dashboards.serve reads each new revision ahead of visitors: the first page then finds the
    snapshot in the shared cache and does not read the catalogue again."""
    from dashboards import state

    revision = state.warm_up()
    assert revision[0] is not None

    def no_second_read(*_args, **_kwargs):
        raise AssertionError("the page read the catalogue although the warm-up had")

    monkeypatch.setattr(CatalogGraph, "load", no_second_read)
    app = open_app()
    assert not app.exception
    assert state.warm_up() == revision  # same revision: served from the cache, nothing read


def test_keep_warm_logs_a_failure_once_and_goes_on(monkeypatch, caplog):
    """A catalogue the server cannot read is reported once in its log, not every few seconds,
    and the thread keeps trying (the page tells the visitor what to do)."""
    from dashboards import serve, state

    calls = []

    def failing() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # ends the loop for the test
        raise RuntimeError("catalogue not ready")

    monkeypatch.setattr(state, "warm_up", failing)
    with pytest.raises(KeyboardInterrupt):
        serve.keep_warm(interval=0)
    assert len(calls) == 3
    assert [r.message for r in caplog.records if r.name == "dashboards.serve"] == ["reading the catalogue ahead of visitors failed"]
