"""Processing activities: the Article 30 record as filterable tables (controller 30(1), processor 30(2)),
one activity in detail (its systems, flows, recipients and transfers, with its part of the map),
and downloads: the workbook in each layout ``exports.workbook`` offers (ICO, CNIL) and the map
(DOT always, SVG when Graphviz is installed on the server).

The record comes from ``catalog.record`` so the page says exactly what the workbook says; where
that module is not installed the page falls back to the activities as stored. On a large catalogue
the whole record (its annexes too) takes several seconds, so the page shows the controller and
processor records first and builds the rest, like the whole map, only when a download asks for it;
an activity's map is drawn when its tab is opened.
``?activity=<id>`` opens the page on one activity's detail.
"""

from __future__ import annotations

from io import BytesIO

import pandas as pd
import streamlit as st

from catalog.flowmap import graph_flows
from catalog.models import ProcessingActivity
from catalog.taxonomy import TaxonomyKind, load_taxonomy
from catalog.vocab import FlowMechanism, LawfulBasis, PartyRole, SystemRole
from dashboards.state import Snapshot, current_record, current_registers, current_snapshot
from dashboards.views import ALL, categories_text, country_name, enum_label, regime_label

ACTIVITY_COLUMN = "Activity"
WORKBOOK_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LAYOUT_LABELS = {"ico": "ICO layout", "cnil": "CNIL register layout"}


def search(table: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows with the text anywhere in them, ignoring case."""
    if not text.strip() or table.empty:
        return table
    needle = text.strip().casefold()
    hit = table.astype(str).apply(lambda column: column.str.casefold().str.contains(needle, regex=False)).any(axis=1)
    return table[hit]


def render_record(record) -> None:
    """The controller and processor records (``catalog.record.Registers`` or a whole ``Record``)."""
    from catalog.record import CONTROLLER_COLUMNS, CONTROLLER_SECTIONS, PROCESSOR_COLUMNS

    filters = st.columns([2, 1, 2])
    text = filters[0].text_input("Search", key="activities_search", placeholder="any word in any column")
    functions = sorted({row.business_function for row in record.controller_rows if row.business_function}, key=str.casefold)
    function = filters[1].selectbox("Business function", [ALL, *functions], key="activities_function")
    sections = filters[2].multiselect(
        "Template sections", list(CONTROLLER_SECTIONS), default=list(CONTROLLER_SECTIONS[:2]), key="activities_sections",
    )
    special_only = st.checkbox("Only activities with special category or criminal offence data", key="activities_special")

    rows = [
        row for row in record.controller_rows
        if (function == ALL or row.business_function == function) and (not special_only or row.special_category or row.criminal_offence)
    ]
    headings = [column.heading for column in CONTROLLER_COLUMNS if column.section in (sections or CONTROLLER_SECTIONS)]
    controller = pd.DataFrame(
        [{ACTIVITY_COLUMN: row.activity_name, **row.as_dict()} for row in rows],
        columns=[ACTIVITY_COLUMN, *[column.heading for column in CONTROLLER_COLUMNS]],
    )
    st.subheader("Controller record (Article 30(1))")
    st.dataframe(search(controller, text)[[ACTIVITY_COLUMN, *headings]], hide_index=True, width="stretch")

    st.subheader("Processor record (Article 30(2))")
    processor = pd.DataFrame([row.as_dict() for row in record.processor_rows], columns=[column.heading for column in PROCESSOR_COLUMNS])
    if processor.empty:
        st.caption("We act as processor for no client controller.")
    else:
        st.dataframe(search(processor, text), hide_index=True, width="stretch")


def stored_activities_table(activities: list[ProcessingActivity]) -> pd.DataFrame:
    """The activities as stored, when the derived record is not available."""
    taxonomy = load_taxonomy()
    return pd.DataFrame(
        [
            {
                ACTIVITY_COLUMN: activity.name,
                "Business function": activity.business_function,
                "Purpose": activity.purpose_text,
                "Data uses": "; ".join(taxonomy.label(TaxonomyKind.DATA_USE, key) for key in activity.purposes),
                "Data subjects": "; ".join(taxonomy.label(TaxonomyKind.DATA_SUBJECT, key) for key in activity.data_subjects),
                "Declared data categories": categories_text(activity.data_categories),
                "Lawful basis": enum_label(LawfulBasis, activity.lawful_basis),
                "Retention": activity.retention or "",
            }
            for activity in activities
        ],
        columns=[ACTIVITY_COLUMN, "Business function", "Purpose", "Data uses", "Data subjects", "Declared data categories", "Lawful basis", "Retention"],
    )


def render_stored() -> None:
    activities = current_snapshot().activities
    text = st.text_input("Search", key="activities_search", placeholder="any word in any column")
    controller = [a for a in activities if a.role != SystemRole.PROCESSOR]
    processor = [a for a in activities if a.role == SystemRole.PROCESSOR]
    st.subheader("As controller (Article 30(1))")
    st.dataframe(search(stored_activities_table(controller), text), hide_index=True, width="stretch")
    st.subheader("As processor (Article 30(2))")
    st.dataframe(search(stored_activities_table(processor), text), hide_index=True, width="stretch")


# ---- one activity in detail ------------------------------------------------------------------------

def activity_systems(snapshot: Snapshot, activity_id: str) -> pd.DataFrame:
    graph = snapshot.graph
    links = graph.activities.get(activity_id)
    rows = []
    for key in links.systems if links else ():
        node = graph.node(key)
        rows.append({
            "System": node["label"], "Id": node["id"], "We are": enum_label(SystemRole, node.get("role")),
            "Countries": ", ".join(country_name(code) for code in node["countries"]),
            "Owner": node.get("owner_email") or node.get("owner_team") or "",
        })
    return pd.DataFrame(rows, columns=["System", "Id", "We are", "Countries", "Owner"])


def activity_flows(snapshot: Snapshot, activity_id: str) -> pd.DataFrame:
    graph = snapshot.graph
    gaps = {t.flow_id for t in snapshot.transfers if t.has_gap and t.activity_id == activity_id}
    rows = [
        {
            "Flow": flow.flow_id, "From": graph.node(flow.source)["label"], "To": graph.node(flow.target)["label"],
            "Data categories": categories_text(flow.data.get("categories", ())),
            "Moved by": enum_label(FlowMechanism, flow.data.get("mechanism")),
            "Crosses a border": "yes" if set(graph.node(flow.source)["countries"]) != set(graph.node(flow.target)["countries"]) else "",
            "Transfer gap": "yes" if flow.flow_id in gaps else "",
        }
        for flow in graph_flows(graph) if flow.data.get("activity_id") == activity_id
    ]
    return pd.DataFrame(rows, columns=["Flow", "From", "To", "Data categories", "Moved by", "Crosses a border", "Transfer gap"])


def activity_recipients(snapshot: Snapshot, activity_id: str) -> pd.DataFrame:
    graph = snapshot.graph
    links = graph.activities.get(activity_id)
    rows = [
        {
            "Recipient": graph.node(key)["label"], "Id": graph.node(key)["id"],
            "Role": enum_label(PartyRole, graph.node(key).get("role")),
            "Country": country_name(graph.node(key).get("country") or ""),
            "Transfer mechanism": graph.node(key).get("transfer_mechanism") or "",
        }
        for key in (links.recipients if links else ())
    ]
    return pd.DataFrame(rows, columns=["Recipient", "Id", "Role", "Country", "Transfer mechanism"])


def render_activity_detail(snapshot: Snapshot) -> None:
    st.subheader("One activity in detail")
    activities = {activity.id: activity for activity in snapshot.activities}
    if not activities:
        st.caption("No processing activity is recorded.")
        return
    wanted = st.query_params.get("activity")
    if wanted in activities and st.session_state.get("activity_detail_preset") != wanted:  # ?activity=<id>
        st.session_state["activity_detail_preset"] = wanted
        st.session_state["activity_detail"] = wanted
    chosen = st.selectbox(
        "Activity", list(activities), format_func=lambda key: f"{activities[key].name} ({key})", key="activity_detail",
    )
    activity = activities[chosen]
    taxonomy = load_taxonomy()
    facts = pd.DataFrame(
        [
            ("Name", activity.name),
            ("We act as", enum_label(SystemRole, activity.role)),
            ("Business function", activity.business_function or ""),
            ("Purpose", activity.purpose_text or ""),
            ("Data uses", "; ".join(taxonomy.label(TaxonomyKind.DATA_USE, key) for key in activity.purposes)),
            ("Data subjects", "; ".join(taxonomy.label(TaxonomyKind.DATA_SUBJECT, key) for key in activity.data_subjects)),
            ("Declared data categories", categories_text(activity.data_categories)),
            ("Lawful basis", enum_label(LawfulBasis, activity.lawful_basis)),
            ("Retention", activity.retention or ""),
        ],
        columns=["", "Value"],
    )
    st.dataframe(facts, hide_index=True, width="stretch")
    tabs = st.tabs(["Systems", "Flows", "Recipients", "Map"], key="activity_detail_tab", on_change="rerun")
    with tabs[0]:
        st.dataframe(activity_systems(snapshot, chosen), hide_index=True, width="stretch")
    with tabs[1]:
        st.dataframe(activity_flows(snapshot, chosen), hide_index=True, width="stretch")
    with tabs[2]:
        st.dataframe(activity_recipients(snapshot, chosen), hide_index=True, width="stretch")
    with tabs[3]:
        if tabs[3].open:  # drawn once the tab is opened: the map costs more than the rest of the detail
            render_activity_map(snapshot, chosen)


def render_activity_map(snapshot: Snapshot, activity_id: str) -> None:
    from dashboards.views.flow_map import cached, draw_map, map_downloads

    flow_map = cached(snapshot, draw_map, (("activity", activity_id),))
    if flow_map.info.aggregated:
        st.info(flow_map.info.message)
    if flow_map.info.edges_total:
        st.graphviz_chart(flow_map.digraph, width="stretch")
    else:
        st.caption("No flow is recorded for this activity.")
    map_downloads(lambda: flow_map, f"flow-map-{activity_id}", "activity_map_download")


# ---- downloads -------------------------------------------------------------------------------------

def workbook_layouts() -> tuple[str, ...]:
    """The layouts exports.workbook can write (ICO only for a version without ``template=``)."""
    try:
        from exports import workbook
    except ImportError:
        return ()
    return tuple(getattr(workbook, "TEMPLATES", ("ico",)))


def workbook_bytes(template: str) -> bytes:
    """The Article 30 workbook as the catalogue is now, in one layout; built when the button is pressed."""
    from exports.workbook import write_workbook

    buffer = BytesIO()
    record = current_record()
    if template == "ico":
        write_workbook(record, buffer)
    else:
        write_workbook(record, buffer, template=template)
    return buffer.getvalue()


def render_downloads(snapshot: Snapshot) -> None:
    from dashboards.views.flow_map import cached, can_download, draw_map, map_downloads

    st.subheader("Downloads")
    if not can_download():
        st.caption("Your role does not allow downloads.")
        return
    layouts = workbook_layouts()
    if not layouts:
        st.info("The Article 30 workbook export is unavailable in this installation.")
    else:
        columns = st.columns(len(layouts))
        for column, layout in zip(columns, layouts):
            column.download_button(
                f"Download the workbook ({LAYOUT_LABELS.get(layout, layout)}, .xlsx)",
                data=lambda layout=layout: workbook_bytes(layout), file_name=f"ropa-{layout}.xlsx", mime=WORKBOOK_MIME,
                on_click="ignore", key=f"activities_workbook_{layout}",
            )
    regimes = ", ".join(regime_label(regime) for regime in snapshot.graph.regimes)
    st.caption(f"The whole record, kept under {regimes}. The map below is the whole data-flow map, drawn within its budget.")
    if graph_flows(snapshot.graph):
        map_downloads(lambda: cached(snapshot, draw_map, ()), "flow-map", "activities_map_download")


def render() -> None:
    st.title("Processing activities")
    snapshot = current_snapshot()
    try:
        registers = current_registers()
    except ImportError:
        st.info("The derived Article 30 record is unavailable in this installation; showing the activities as stored.")
        render_stored()
        render_activity_detail(snapshot)
        return
    render_record(registers)
    render_activity_detail(snapshot)
    render_downloads(snapshot)


if __name__ == "__main__":
    render()
