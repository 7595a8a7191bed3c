"""The dashboard in a real browser: the map draws its SVG, a registered system appears on it, the
workbook downloads as a valid .xlsx, the bank details can be followed on the map, and the transfers
page lists the transfers that lack safeguards. Every page works without the network (requests off
the dashboard server are blocked and must not happen). Screenshots: test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import missing_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(missing_browser() is not None, reason=missing_browser() or ""),
]

MAP_NODES = '[data-testid="stGraphVizChart"] svg g.node'
MAP_EDGES = '[data-testid="stGraphVizChart"] svg g.edge'


def settle(page, timeout: float = 30_000) -> None:
    """Wait until the script run is over (the 'Running...' status widget is gone)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout,
    )


def open_page(page, server: str, path: str, heading: str) -> None:
    page.goto(f"{server}/{path}")
    page.get_by_role("heading", name=heading).first.wait_for()
    settle(page)


def choose(page, label: str, text: str) -> None:
    """Pick the option containing ``text`` in the selectbox labelled ``label`` (typing to search)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(text)
    page.get_by_role("option").filter(has_text=text).first.click()
    settle(page)


def catalogue_edges(page) -> list[str]:
    """Titles ('a->b') of the map's edges, legend left out."""
    titles = page.locator(f"{MAP_EDGES} > title").all_text_contents()
    return [title for title in titles if "legend_" not in title]


#: True once no element is still loading and every table has drawn its grid (tables paint on a canvas after the run ends).
PAINTED = """() => !document.querySelector('[data-testid="stSkeleton"]')
    && [...document.querySelectorAll('[data-testid="stDataFrame"]')].every(frame => {
        const canvas = frame.querySelector('canvas');
        return canvas && canvas.getBoundingClientRect().width > 100;
    })"""


def shoot(page, screenshots, name: str) -> None:
    """A full-page screenshot once the tables have painted (a screenshot is an artefact, not a check:
    after 10 s it is taken as the page is)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_function(PAINTED, timeout=10_000)
    except PlaywrightTimeoutError:
        pass
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def demo_graph(url: str):
    from catalog.graph import CatalogGraph
    from catalog.store import open_catalog
    from catalog.transfers import derive_transfers

    catalog = open_catalog(url)
    try:
        with catalog.session() as session:
            graph = CatalogGraph.load(session)
    finally:
        catalog.dispose()
    return graph, derive_transfers(graph)


def test_map_renders_its_svg_nodes(page, server, screenshots, outside_requests):
    open_page(page, server, "flow-map", "Data-flow map")
    page.locator(MAP_NODES).first.wait_for()
    assert page.locator(MAP_NODES).count() > 10
    assert page.locator(f"{MAP_NODES} > title").filter(has_text=re.compile(r"^system__crm$")).count() == 1
    assert len(catalogue_edges(page)) > 10
    shoot(page, screenshots, "flow-map")
    assert outside_requests == []


def test_where_do_the_bank_details_go(page, server, screenshots, outside_requests, demo_database):
    from catalog.flowmap import build_flow_map

    graph, transfers = demo_graph(demo_database)
    expected = build_flow_map(graph, transfers, category="user.financial.bank_account")
    open_page(page, server, "flow-map", "Data-flow map")
    page.locator(MAP_NODES).first.wait_for()
    before = len(catalogue_edges(page))
    choose(page, "Data category (with its sub-categories)", "user.financial.bank_account")
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{MAP_EDGES} > title')].filter(t => !t.textContent.includes('legend_')).length === {expected.info.edges_drawn}",
    )
    drawn = catalogue_edges(page)
    assert 0 < len(drawn) < before
    assert "system__finance->party__bank" in drawn
    assert any(title.startswith("system__finance->") for title in drawn)
    shoot(page, screenshots, "flow-map-bank-details")
    assert outside_requests == []


def test_transfers_lacking_safeguards(page, server, screenshots, outside_requests, demo_database):
    _graph, transfers = demo_graph(demo_database)
    gaps = sum(transfer.has_gap for transfer in transfers)
    assert gaps > 0
    open_page(page, server, "transfers", "International transfers")
    page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.wait_for()
    shoot(page, screenshots, "transfers")
    page.get_by_text("Gaps only", exact=True).click()
    settle(page)
    # the rerun may start after settle() looked (a loaded machine): wait for the filtered caption itself
    caption = page.get_by_text(re.compile(rf"^{gaps} of \d+ transfer\(s\) shown"))
    caption.wait_for(timeout=30_000)
    shown, total, restricted = map(int, re.search(r"(\d+) of (\d+) transfer\(s\) shown, (\d+) restricted", caption.inner_text()).groups())
    assert (shown, total, restricted) == (gaps, len(transfers), gaps)
    page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.wait_for()
    shoot(page, screenshots, "transfers-gaps")
    assert outside_requests == []  # the world map needs no tile server


def test_workbook_download_is_a_valid_xlsx(page, server, screenshots, outside_requests, tmp_path):
    import openpyxl

    open_page(page, server, "activities", "Processing activities")
    shoot(page, screenshots, "activities")
    for layout, button in (("ico", "Download the workbook (ICO layout, .xlsx)"), ("cnil", "Download the workbook (CNIL register layout, .xlsx)")):
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name=button).click()
        path = tmp_path / f"ropa-{layout}.xlsx"
        download.value.save_as(path)
        book = openpyxl.load_workbook(path)
        assert len(book.sheetnames) >= 2, layout
    assert outside_requests == []


def test_what_is_built_on_demand_arrives(page, server, screenshots, outside_requests, tmp_path):
    """The activity's map is drawn when its tab is opened; the overview's workbook and the whole map's
    DOT are built when their buttons are pressed."""
    import openpyxl

    open_page(page, server, "activities", "Processing activities")
    assert page.locator(MAP_NODES).count() == 0  # the Map tab is closed
    page.get_by_role("tab", name="Map").click()
    settle(page)
    page.locator(MAP_NODES).first.wait_for()
    shoot(page, screenshots, "activities-map-tab")
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download the map (DOT)").last.click()  # the whole map, after the activity's
    path = tmp_path / "flow-map.gv"
    download.value.save_as(path)
    assert "digraph" in path.read_text(encoding="utf-8") and download.value.suggested_filename == "flow-map.gv"

    open_page(page, server, "", "Overview")  # the default page lives at the root
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download the Article 30 workbook (.xlsx)").click()
    path = tmp_path / "ropa.xlsx"
    download.value.save_as(path)
    assert len(openpyxl.load_workbook(path).sheetnames) >= 2
    assert outside_requests == []


def test_lineage_and_findings_pages(page, server, screenshots, outside_requests):
    page.goto(f"{server}/lineage?node=system:finance")
    page.get_by_role("heading", name="Lineage explorer").first.wait_for()
    settle(page)
    page.locator('[data-testid="stGraphVizChart"] svg g.node').first.wait_for()
    assert page.locator('[data-testid="stGraphVizChart"] svg g.node').filter(has_text="Finance and invoicing").count() == 1
    shoot(page, screenshots, "lineage")
    open_page(page, server, "findings", "Findings")
    page.locator('[data-testid="stMetric"]').first.wait_for()
    assert page.locator('[data-testid="stMetric"]').count() == 5
    shoot(page, screenshots, "findings")
    assert outside_requests == []


def test_a_registered_system_appears_on_the_map(page, server, screenshots, outside_requests):
    from pathlib import Path

    if not (Path(__file__).resolve().parents[2] / "dashboards" / "views" / "register.py").exists():
        pytest.skip("the registration form (dashboards/views/register.py) is not there yet")
    open_page(page, server, "register", "Register a system")
    page.get_by_role("textbox", name="Id", exact=True).fill("browser-probe")
    page.get_by_role("textbox", name="Name", exact=True).fill("Browser probe system")
    page.get_by_role("button", name="Register system").click()
    settle(page)
    page.get_by_text(re.compile(r"Registered system browser-probe")).wait_for()
    shoot(page, screenshots, "register")
    open_page(page, server, "flow-map", "Data-flow map")
    page.locator(MAP_NODES).first.wait_for()
    probe = page.locator(f"{MAP_NODES} > title").filter(has_text=re.compile(r"^system__browser-probe$"))
    probe.wait_for(state="attached")
    assert page.locator(MAP_NODES).filter(has_text="Browser probe system").count() == 1
    shoot(page, screenshots, "flow-map-after-register")
    assert outside_requests == []
