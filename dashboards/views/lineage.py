"""Lineage explorer: where data at one system, dataset or field goes, and where it comes from.

Pick a node (searchable: systems by name and id, datasets by ``system.dataset``, fields by
``system.dataset.field``), a direction and a depth; the page draws the closure as a graph
(``catalog.lineage``'s DOT: the chosen node bold, border crossings red, pseudonymising hops dashed)
and lists the same nodes in a table with the categories each hop carries, where the data crosses a
border and where it is pseudonymised. ``?node=system:crm`` (or a field path) opens it on a node.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import streamlit as st

from catalog.graph import CatalogGraph, NodeKind
from dashboards.state import Snapshot, current_snapshot
from dashboards.views import categories_text

KINDS = {
    NodeKind.SYSTEM.value: "System",
    NodeKind.DATASET.value: "Dataset",
    NodeKind.FIELD.value: "Field",
    NodeKind.PARTY.value: "Party (recipient)",
}
DIRECTIONS = {"downstream": "Downstream (where it goes)", "upstream": "Upstream (where it comes from)", "both": "Both"}
DEPTHS = [1, 2, 3, 4, 5, "all"]
#: A selectbox lists at most this many nodes; beyond it the user narrows them with the search box.
MAX_OPTIONS = 2000
#: The graph is drawn only up to this many hops (the same budget as the data-flow map).
MAX_DRAWN_STEPS = 300
TABLE_COLUMNS = {
    "direction": "Direction", "depth": "Hops", "node": "Node", "kind": "Kind", "path": "Path",
    "categories": "Data categories (last hop)", "border_crossings": "Crosses a border", "pseudonymised_at": "Pseudonymised at",
}


def node_label(graph: CatalogGraph, key: str) -> str:
    """How a node is listed: 'CRM (crm)', 'crm.contacts', 'crm.contacts.email'."""
    node = graph.node(key)
    if node["kind"] == NodeKind.FIELD:
        return node["path"]
    if node["kind"] == NodeKind.DATASET:
        return f"{node['system_id']}.{node['name']}"
    return f"{node['label']} ({node['id']})"


@lru_cache(maxsize=16)
def _labelled(graph: CatalogGraph, kind: str) -> tuple[tuple[str, str, str], ...]:
    """(key, label, text searched) of every node of a kind, sorted by label; once per snapshot graph."""
    rows = [(key, node_label(graph, key)) for key in graph.nodes_of(NodeKind(kind))]
    rows.sort(key=lambda row: (row[1].casefold(), row[0]))
    return tuple((key, label, f"{label} {key}".casefold()) for key, label in rows)


def node_options(graph: CatalogGraph, kind: str, search: str = "") -> tuple[dict[str, str], int]:
    """Node key -> label of one kind whose label or key contains the search text (at most
    MAX_OPTIONS of them); and how many matched in all."""
    needle = search.strip().casefold()
    matched = [(key, label) for key, label, text in _labelled(graph, kind) if not needle or needle in text]
    return dict(matched[:MAX_OPTIONS]), len(matched)


@lru_cache(maxsize=32)
def _lineage(graph: CatalogGraph, node: str, direction: str, depth: int | None):
    """One lineage query per (snapshot graph, node, direction, depth): reruns of the page reuse it."""
    from catalog.lineage import lineage

    return lineage(graph, node, direction, depth)


def result_table(result) -> pd.DataFrame:
    """The lineage result as the page's table: readable headings, category labels."""
    rows = result.as_table_rows()
    for row, node in zip(rows, result.nodes):
        row["categories"] = categories_text(node.categories)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS)).rename(columns=TABLE_COLUMNS)


def _text(*lines: str):
    """A DOT label from catalogue text: backslashes literal, never an HTML-like label."""
    import graphviz

    return graphviz.nohtml("\\n".join(line.replace("\\", "\\\\") for line in lines if line))


def lineage_graph(result):
    """The result as a readable Graphviz digraph: category labels (at most four, then '+N more')
    on each hop, the start bold, border crossings red, pseudonymising hops dashed. The download
    stays ``result.as_dot()``, the lineage module's own DOT."""
    import graphviz

    from catalog.flowmap import MAX_EDGE_CATEGORIES
    from dashboards.views import category_label

    steps = {}
    for node in result.nodes:
        for step in node.steps:
            steps[(step.source, step.target)] = step
    keys = sorted({result.start} | {key for pair in steps for key in pair})
    ids = {key: f"n{index}" for index, key in enumerate(keys)}
    dot = graphviz.Digraph("lineage")
    dot.attr(rankdir="LR", fontname="Helvetica")
    dot.attr("node", shape="box", style="rounded", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="9")
    for key in keys:
        extra = {"style": "rounded,bold", "penwidth": "2"} if key == result.start else {}
        dot.node(ids[key], label=_text(result.labels[key]), tooltip=_text(key), **extra)
    for (source, target), step in sorted(steps.items()):
        labels = sorted({category_label(key) for key in step.categories}, key=str.casefold)
        if len(labels) > MAX_EDGE_CATEGORIES:
            labels = [*labels[: MAX_EDGE_CATEGORIES - 1], f"+{len(labels) - MAX_EDGE_CATEGORIES + 1} more"]
        attrs = {"label": _text(*labels), "tooltip": _text(", ".join(step.categories) or "no categories recorded")}
        if step.crosses_border:
            attrs.update(color="red", fontcolor="red", penwidth="2")
        if step.pseudonymised:
            attrs["style"] = "dashed"
        dot.edge(ids[source], ids[target], **attrs)
    return dot


def drawn_steps(result) -> int:
    return len({(step.source, step.target) for node in result.nodes for step in node.steps})


def _query_node(graph: CatalogGraph) -> str | None:
    """The node named by ``?node=`` (a key, id or path), when it exists."""
    wanted = st.query_params.get("node")
    if not wanted:
        return None
    try:
        from catalog.lineage import UnknownNodeError, resolve_node
    except ImportError:
        return None
    try:
        return resolve_node(graph, wanted)
    except UnknownNodeError:
        st.warning("The node named in the link is not in the catalogue (it may have been retired).")
        return None


def render_picker(snapshot: Snapshot) -> tuple[str | None, str, int | None]:
    graph = snapshot.graph
    preset = _query_node(graph)
    if preset and st.session_state.get("lineage_preset") != preset:
        st.session_state["lineage_preset"] = preset
        st.session_state["lineage_kind"] = NodeKind(graph.node(preset)["kind"]).value
        st.session_state["lineage_search"] = ""
        st.session_state["lineage_node"] = preset
    kinds = [kind for kind in KINDS if graph.nodes_of(NodeKind(kind))]
    columns = st.columns([1, 2])
    kind = columns[0].radio("Start from a", kinds, format_func=KINDS.get, key="lineage_kind", horizontal=False)
    search = columns[1].text_input("Search", key="lineage_search", placeholder="part of a name, id or path")
    from dashboards.views import lineage as module  # noqa: PLW0406  its caches outlive this run of the page script

    options, matched = module.node_options(graph, kind, search)
    if matched > len(options):
        columns[1].caption(f"{matched} match; the first {len(options)} are listed. Type more of the name to narrow them.")
    if not options:
        columns[1].caption("Nothing matches.")
        return None, "downstream", 1
    if st.session_state.get("lineage_node") not in options:
        st.session_state.pop("lineage_node", None)
    node = columns[1].selectbox(
        KINDS[kind], list(options), format_func=options.get, key="lineage_node", index=None,
        placeholder=f"Choose a {KINDS[kind].split()[0].lower()} (type to search)",
    )
    controls = st.columns(2)
    direction = controls[0].radio("Direction", list(DIRECTIONS), format_func=DIRECTIONS.get, key="lineage_direction", horizontal=True)
    depth = controls[1].select_slider("Depth (hops)", DEPTHS, value="all", key="lineage_depth")
    return node, direction, None if depth == "all" else int(depth)


def render() -> None:
    snapshot = current_snapshot()
    st.title("Lineage explorer")
    st.caption(
        "Where personal data at a system, dataset or field goes (downstream) and where it comes from (upstream), "
        "with the data categories each hop carries. Red edges cross a border; dashed edges pseudonymise the data. "
        "A field's answer follows its field lineage, then the flows that carry its categories from each system holding it "
        "(the 'held in' hops)."
    )
    if not snapshot.graph.nodes_of(NodeKind.SYSTEM):
        st.info("The catalogue has no systems yet: load manifests with `ropa ingest manifest PATH`.")
        return

    node, direction, depth = render_picker(snapshot)
    if node is None:
        st.caption("Choose where to start.")
        return
    from dashboards.views import lineage as module  # noqa: PLW0406  its cache outlives this run of the page script

    result = module._lineage(snapshot.graph, node, direction, depth)
    st.text(f"{len(result.nodes)} node(s) reached from {result.start_label}")
    if not result.nodes:
        st.info("Nothing is recorded in that direction: no flow or field lineage reaches further.")
        return
    crossings = sum(bool(n.border_crossings) for n in result.nodes)
    pseudonymised = sum(bool(n.pseudonymised_at) for n in result.nodes)
    metrics = st.columns(3)
    metrics[0].metric("Nodes reached", len(result.nodes))
    metrics[1].metric("Reached across a border", crossings)
    metrics[2].metric("Pseudonymised on the way", pseudonymised)
    steps = drawn_steps(result)
    if steps > MAX_DRAWN_STEPS:
        st.info(f"{steps} hops are more than the {MAX_DRAWN_STEPS} the page draws: lower the depth to see the graph; the table lists them all.")
    else:
        st.graphviz_chart(lineage_graph(result), width="stretch")
    st.dataframe(result_table(result), hide_index=True, width="stretch")
    from dashboards.views.flow_map import can_download

    if can_download():
        columns = st.columns(2)
        columns[0].download_button("Download as JSON", data=result.as_json(), file_name="lineage.json", mime="application/json", on_click="ignore", key="lineage_json")
        columns[1].download_button("Download the graph (DOT)", data=result.as_dot(), file_name="lineage.gv", mime="text/vnd.graphviz", on_click="ignore", key="lineage_dot")


if __name__ == "__main__":
    render()
