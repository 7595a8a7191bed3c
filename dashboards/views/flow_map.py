"""Data-flow map: where personal data goes, by country and data centre, with transfer gaps in red."""

from __future__ import annotations

import streamlit as st

from catalog.flowmap import FlowStatus, build_flow_map
from catalog.graph import NodeKind
from dashboards.state import Snapshot, current_snapshot
from dashboards.views import ALL, category_label, country_name


def activity_options(snapshot: Snapshot) -> dict[str, str]:
    """Activity id -> name, for activities that have at least one flow."""
    with_flows = {flow.data.get("activity_id") for flow in snapshot.graph.flows()}
    return {a.id: a.name for a in snapshot.activities if a.id in with_flows}


def category_options(snapshot: Snapshot) -> list[str]:
    """Data category keys carried by some flow, sorted by label."""
    keys = {key for flow in snapshot.graph.flows() for key in flow.data.get("categories", ())}
    return sorted(keys, key=lambda key: (category_label(key).casefold(), key))


def country_options(snapshot: Snapshot) -> list[str]:
    """Countries of the systems and parties at either end of a flow."""
    graph = snapshot.graph
    codes = {
        code
        for flow in graph.flows()
        for key in (flow.source, flow.target)
        for code in graph.node(key)["countries"]
    }
    return sorted(codes, key=lambda code: country_name(code).casefold())


def colour_caption() -> str:
    keys = "; ".join(f"{status.colour}: {status.label.lower()}" for status in FlowStatus)
    return (
        "Our systems are grouped by country, then by the data centre or region that hosts them; parties "
        "outside our systems are the tab-shaped boxes, in the country that receives the data. "
        f"Edges are flows, labelled with the data categories they carry and coloured by their worst transfer "
        f"status under the regimes the record is kept under ({keys}). Dashed edges are onward transfers from "
        "a processor to its sub-processors. Hover an edge for the flow, how the data moves and the mechanism on record."
    )


def render() -> None:
    snapshot = current_snapshot()
    st.title("Data-flow map")
    if not snapshot.graph.nodes_of(NodeKind.SYSTEM):
        st.info("The catalogue has no systems yet: load manifests with `ropa ingest manifest PATH`.")
        return

    activities = activity_options(snapshot)
    filters = st.columns(3)
    activity = filters[0].selectbox(
        "Processing activity", [ALL, *activities], format_func=lambda key: activities.get(key, key), key="map_activity",
    )
    category = filters[1].selectbox(
        "Data category", [ALL, *category_options(snapshot)],
        format_func=lambda key: key if key == ALL else f"{category_label(key)} ({key})", key="map_category",
    )
    country = filters[2].selectbox(
        "Country", [ALL, *country_options(snapshot)],
        format_func=lambda code: code if code == ALL else country_name(code), key="map_country",
    )

    dot = build_flow_map(
        snapshot.graph, list(snapshot.transfers),
        activity=None if activity == ALL else activity,
        category=None if category == ALL else category,
        country=None if country == ALL else country,
    )
    st.graphviz_chart(dot, width="stretch")
    st.caption(colour_caption())
    st.download_button("Download the map (DOT)", data=dot.source, file_name="flow-map.gv", mime="text/vnd.graphviz", on_click="ignore")


if __name__ == "__main__":
    render()
