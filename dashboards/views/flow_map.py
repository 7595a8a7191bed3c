"""Data-flow map: where personal data goes, by country and data centre, with transfer gaps in red.

Filters narrow the flows (processing activity, data category with its sub-categories, data
subject, country, system, role). Beyond the drawing budget the map is aggregated by
``catalog.flowmap`` (systems grouped into their data centre or country, parallel flows merged into
one edge with a count) and says so; choosing a country then draws that country's systems and their
flows. Focus mode draws one system's neighbourhood to a chosen depth. The browser is never sent
more than the budget of edges. ``?focus=<system id>`` opens the map focused on a system.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import streamlit as st

from catalog.flowmap import DEFAULT_BUDGET, FlowMap, FlowStatus, build_flow_map, graph_flows, home_countries
from catalog.graph import NodeKind
from catalog.taxonomy import TaxonomyKind, load_taxonomy
from catalog.vocab import PartyRole, SystemRole
from dashboards.state import Snapshot, current_snapshot
from dashboards.views import ALL, category_label, country_name, enum_label

WHOLE = "Whole map"
FOCUS = "One system's neighbourhood"
DEPTHS = [1, 2, 3, 4, 5, "all"]
SVG_MIME = "image/svg+xml"
DOT_MIME = "text/vnd.graphviz"


# ---- memo per snapshot ------------------------------------------------------------------------------

#: (snapshot, values) of the latest snapshots; a new ingest run makes a new snapshot, so nothing stale
#: is served. Lives in the imported module: page scripts themselves run afresh on every rerun.
_MEMO: list[tuple[Snapshot, dict]] = []
MEMO_SNAPSHOTS, MEMO_VALUES = 4, 64


def memo(snapshot: Snapshot, key, compute):
    """``compute()`` once per (snapshot, key): options and maps are not rebuilt on every rerun."""
    values = next((held_values for held, held_values in _MEMO if held is snapshot), None)
    if values is None:
        values = {}
        _MEMO.append((snapshot, values))
        del _MEMO[:-MEMO_SNAPSHOTS]
    if key not in values:
        if len(values) >= MEMO_VALUES:
            values.clear()
        values[key] = compute()
    return values[key]


def cached(snapshot: Snapshot, function, *args):
    """``function(snapshot, *args)`` through the module's memo (call it from the page script)."""
    from dashboards.views import flow_map as module  # noqa: PLW0406  (the memo outlives this run)

    return module.memo(snapshot, (function.__name__, *args), lambda: function(snapshot, *args))


# ---- options (pure: tested without Streamlit) ----------------------------------------------------

def activity_options(snapshot: Snapshot) -> dict[str, str]:
    """Activity id -> name, for activities that have at least one flow."""
    with_flows = {flow.data.get("activity_id") for flow in graph_flows(snapshot.graph)}
    return {a.id: a.name for a in snapshot.activities if a.id in with_flows}


def category_options(snapshot: Snapshot) -> list[str]:
    """Data category keys carried by some flow and every broader key above them, sorted by key,
    so choosing a broader category shows the flows of its sub-categories too."""
    keys: set[str] = set()
    for flow in graph_flows(snapshot.graph):
        for key in flow.data.get("categories", ()):
            parts = key.split(".")
            keys.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(keys)


def category_option_label(key: str) -> str:
    """'  Bank account (user.financial.bank_account)': indented by depth, so the tree shows."""
    if key == ALL:
        return key
    return f"{'· ' * key.count('.')}{category_label(key)} ({key})"


def subject_options(snapshot: Snapshot) -> dict[str, str]:
    """Data subject key -> label, for the subjects some activity declares."""
    taxonomy = load_taxonomy()
    keys = {key for activity in snapshot.activities for key in activity.data_subjects}
    return {key: taxonomy.label(TaxonomyKind.DATA_SUBJECT, key) for key in sorted(keys)}


def activity_subjects(snapshot: Snapshot) -> dict[str, tuple[str, ...]]:
    return {activity.id: tuple(activity.data_subjects) for activity in snapshot.activities}


def country_options(snapshot: Snapshot) -> list[str]:
    """Countries of the systems and parties at either end of a flow."""
    graph = snapshot.graph
    codes = {
        code
        for flow in graph_flows(graph)
        for key in (flow.source, flow.target)
        for code in graph.node(key)["countries"]
    }
    return sorted(codes, key=lambda code: country_name(code).casefold())


def cluster_options(snapshot: Snapshot) -> list[str]:
    """Countries whose cluster holds a system or party: the ones a user can drill into."""
    codes = {code for code in home_countries(snapshot.graph).values() if code}
    return sorted(codes, key=lambda code: country_name(code).casefold())


def node_options(snapshot: Snapshot, kinds=(NodeKind.SYSTEM, NodeKind.PARTY)) -> dict[str, str]:
    """Node key -> 'Name (id)' for systems (and parties), sorted by name."""
    graph = snapshot.graph
    options = {
        key: f"{graph.node(key)['label']} ({graph.node(key)['id']})"
        for kind in kinds for key in graph.nodes_of(kind)
    }
    return dict(sorted(options.items(), key=lambda item: (item[1].casefold(), item[0])))


def role_options(snapshot: Snapshot) -> dict[str, str]:
    """'system:processor' -> 'Our system, we are Processor'; 'party:sub_processor' -> 'Party: Sub-processor'."""
    graph = snapshot.graph
    options: dict[str, str] = {}
    for key in graph.nodes_of(NodeKind.SYSTEM):
        role = graph.node(key).get("role")
        if role:
            options[f"system:{role}"] = f"Our system, we are {enum_label(SystemRole, role).lower()}"
    for key in graph.nodes_of(NodeKind.PARTY):
        role = graph.node(key).get("role")
        if role:
            options[f"party:{role}"] = f"Party: {enum_label(PartyRole, role)}"
    return dict(sorted(options.items(), key=lambda item: item[1]))


def draw_map(snapshot: Snapshot, choices: tuple[tuple[str, object], ...]) -> FlowMap:
    """The map for the chosen filters and view, within the drawing budget."""
    return build_flow_map(
        snapshot.graph, list(snapshot.transfers), activity_subjects=cached(snapshot, activity_subjects),
        budget=DEFAULT_BUDGET, **dict(choices),
    )


def colour_caption() -> str:
    keys = "; ".join(f"{status.colour}: {status.label.lower()}" for status in FlowStatus)
    return (
        "Our systems are grouped by country, then by the data centre or region that hosts them; parties "
        "outside our systems are the tab-shaped boxes, in the country that receives the data. "
        f"Edges are flows, labelled with the data categories they carry and coloured by their worst transfer "
        f"status under the regimes the record is kept under ({keys}). Dashed edges are onward transfers from "
        "a processor to its sub-processors; grey 3-D boxes are groups, their edges carry a flow count. "
        "Hover an edge for the flow, how the data moves and the mechanism on record."
    )


# ---- downloads (shared with the activities page) -------------------------------------------------

def can_download() -> bool:
    """The signed-in user may download (checked again here, not only by hiding the button)."""
    try:
        from dashboards.auth import Permission, current_user
    except ImportError:  # the role module is not installed: single local user
        return True
    return current_user().can(Permission.DOWNLOAD)


def svg_available() -> bool:
    """SVG needs the map exporter and Graphviz's ``dot`` program on the server."""
    try:
        import exports.map_export  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def map_downloads(draw: Callable[[], FlowMap], name: str, key: str) -> None:
    """Download a map: DOT always, SVG when Graphviz is installed on the server. ``draw`` returns
    the map and is called only when a button is pressed (a map not on screen costs nothing until then)."""
    if not can_download():
        st.caption("Your role does not allow downloads.")
        return
    columns = st.columns(2)
    columns[0].download_button(
        "Download the map (DOT)", data=lambda: draw().source, file_name=f"{name}.gv", mime=DOT_MIME, on_click="ignore", key=f"{key}_dot",
    )
    if svg_available():
        columns[1].download_button(
            "Download the map (SVG)", data=lambda: draw().pipe(format="svg"), file_name=f"{name}.svg", mime=SVG_MIME,
            on_click="ignore", key=f"{key}_svg",
        )
    else:
        columns[1].caption("SVG needs Graphviz on the server (`apt-get install graphviz`); the DOT file opens in any Graphviz viewer.")


# ---- the page -------------------------------------------------------------------------------------

def _index(options: list, value, default: int = 0) -> int:
    return options.index(value) if value in options else default


def _focus_from_query(snapshot: Snapshot) -> str | None:
    """``?focus=crm`` or ``?focus=system:crm``: the node to focus on, when it exists."""
    wanted = st.query_params.get("focus")
    if not wanted:
        return None
    for key in (wanted, f"system:{wanted}", f"party:{wanted}"):
        if key in snapshot.graph.graph and snapshot.graph.node(key)["kind"] in (NodeKind.SYSTEM, NodeKind.PARTY):
            return key
    return None


def render_filters(snapshot: Snapshot) -> dict:
    activities = cached(snapshot, activity_options)
    subjects = cached(snapshot, subject_options)
    systems = cached(snapshot, node_options)
    roles = cached(snapshot, role_options)
    first = st.columns(3)
    activity = first[0].selectbox(
        "Processing activity", [ALL, *activities], format_func=lambda key: activities.get(key, key), key="map_activity",
    )
    category = first[1].selectbox(
        "Data category (with its sub-categories)", [ALL, *cached(snapshot, category_options)], format_func=category_option_label,
        key="map_category",
    )
    subject = first[2].selectbox(
        "Data subject", [ALL, *subjects], format_func=lambda key: subjects.get(key, key), key="map_subject",
    )
    second = st.columns(3)
    country = second[0].selectbox(
        "Country (either end)", [ALL, *cached(snapshot, country_options)],
        format_func=lambda code: code if code == ALL else country_name(code), key="map_country",
    )
    system = second[1].selectbox(
        "System or party (either end)", [ALL, *systems], format_func=lambda key: systems.get(key, key), key="map_system",
    )
    role = second[2].selectbox("Role (either end)", [ALL, *roles], format_func=lambda key: roles.get(key, key), key="map_role")
    chosen = {
        "activity": activity, "category": category, "subject": subject, "country": country, "system": system, "role": role,
    }
    return {name: None if value == ALL else value for name, value in chosen.items()}


def render_view_controls(snapshot: Snapshot) -> dict:
    query_focus = _focus_from_query(snapshot)
    if query_focus and "map_mode" not in st.session_state:
        st.session_state["map_mode"] = FOCUS
        st.session_state["map_focus"] = query_focus
    mode = st.radio("Show", [WHOLE, FOCUS], horizontal=True, key="map_mode")
    if mode == FOCUS:
        systems = cached(snapshot, node_options)
        columns = st.columns([3, 2])
        focus = columns[0].selectbox("Focus on", list(systems), format_func=systems.get, key="map_focus")
        depth = columns[1].select_slider(
            "Depth (hops each way)", DEPTHS, value=1, key="map_depth",
            help="How many flows away from the system to draw, upstream and downstream.",
        )
        return {"focus": focus, "depth": None if depth == "all" else int(depth), "drill_country": None}
    clusters = cached(snapshot, cluster_options)
    drill = st.selectbox(
        "Drill into a country", [ALL, *clusters], format_func=lambda code: "All countries" if code == ALL else country_name(code),
        key="map_drill", help="Draw one country's systems and parties and their flows; the other ends are grouped by country.",
    )
    return {"focus": None, "depth": 1, "drill_country": None if drill == ALL else drill}


def render() -> None:
    snapshot = current_snapshot()
    st.title("Data-flow map")
    if not snapshot.graph.nodes_of(NodeKind.SYSTEM):
        st.info("The catalogue has no systems yet: load manifests with `ropa ingest manifest PATH`.")
        return

    filters = render_filters(snapshot)
    view = render_view_controls(snapshot)
    flow_map = cached(snapshot, draw_map, tuple(sorted({**filters, **view}.items())))
    info = flow_map.info
    if info.aggregated or info.edges_left_out:
        st.info(info.message)
    elif info.edges_total == 0:
        st.info("No flow matches these filters.")
    st.graphviz_chart(flow_map.digraph, width="stretch")
    st.caption(f"{info.edges_drawn} edge(s) and {info.nodes_drawn} node(s) drawn, of {info.edges_total} flow(s) in scope. " + colour_caption())
    map_downloads(lambda: flow_map, "flow-map", "map_download")


if __name__ == "__main__":
    render()
