"""Transfers: every international transfer derived from the flows, under UK GDPR and EU GDPR side by side.

A world map draws one arc per (origin, destination, status) between country centroids, coloured by
status: red where no mechanism on record covers a restricted transfer (a gap), orange where a
mechanism covers it, blue where none is needed (adequacy, the EEA, or no transfer under the regime). The map works offline:
no tile server, no basemap (pydeck with ``map_provider=None``), only a graticule, the arcs and the
country points and codes (``catalog.geo``). Below it the table with its filters, and the detail of
one transfer: exporter, importer, their roles, the instrument each regime needs
(``catalog.transfer_assessment``) and whether the TIA / TRA is on record, in one set of columns
for both regimes so that the table reads across.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from catalog.flowmap import FlowStatus, transfer_status
from catalog.geo import load_centroids
from catalog.jurisdictions import Regime, TransferStatus
from catalog.transfers import DERIVED_MECHANISMS, Transfer
from catalog.vocab import FlowMechanism, TransferMechanism
from dashboards.state import Snapshot, current_snapshot
from dashboards.views import ALL, categories_text, country_name, enum_label, regime_label, role_label

COLUMNS = [
    "Flow", "Exporter", "Importer", "Importer role", "From", "To", "Onward via", "Data categories", "Moved by",
    "UK GDPR", "EU GDPR", "Mechanism", "TIA / TRA", "Gap under",
]

#: Arc colours (RGBA) by status, the same meaning as the data-flow map's edge colours.
ARC_COLOURS: dict[FlowStatus, list[int]] = {
    FlowStatus.GAP: [214, 39, 40, 220],
    FlowStatus.MECHANISM: [255, 127, 14, 210],
    FlowStatus.ADEQUATE: [31, 119, 180, 190],
}
#: The detail selectbox lists at most this many transfers.
MAX_DETAIL_OPTIONS = 2000
ARC_LEGEND = {
    FlowStatus.GAP: "red: restricted, no mechanism on record covers it (gap)",
    FlowStatus.MECHANISM: "orange: restricted, covered by a mechanism on record",
    FlowStatus.ADEQUATE: "blue: not restricted (adequacy, within the EEA, or not a transfer under the regime: data entering, or never in, its territory)",
}


def moved_by(transfer: Transfer) -> str:
    """How the data moves: the flow's mechanism, or hosting, or a recipient no flow reaches."""
    return DERIVED_MECHANISMS.get(transfer.flow_mechanism) or enum_label(FlowMechanism, transfer.flow_mechanism)


def mechanisms_text(transfer: Transfer) -> str:
    return ", ".join(enum_label(TransferMechanism, value) for value in transfer.on_record)


def transfer_row(transfer: Transfer, snapshot: Snapshot) -> dict[str, str | bool]:
    graph = snapshot.graph.graph
    return {
        "Flow": transfer.flow_id,
        "Exporter": transfer.exporter_name,
        "Importer": transfer.importer_name,
        "Importer role": role_label(transfer.importer_role),
        "From": country_name(transfer.origin),
        "To": country_name(transfer.destination),
        "Onward via": " > ".join(graph.nodes[key]["label"] for key in transfer.via if key in graph),
        "Data categories": categories_text(transfer.data_categories),
        "Moved by": moved_by(transfer),
        "UK GDPR": transfer.uk.status.label,
        "EU GDPR": transfer.eu.status.label,
        "Mechanism": mechanisms_text(transfer),
        "TIA / TRA": transfer.assessment_ref or "",
        "Gap under": ", ".join(regime_label(regime) for regime in transfer.gap_under),
    }


def matches(transfer: Transfer, statuses: list[str], country: str, gaps_only: bool) -> bool:
    """Status filters match either regime's status; the country filter matches either end."""
    if gaps_only and not transfer.has_gap:
        return False
    if statuses and not {transfer.uk.status.value, transfer.eu.status.value} & set(statuses):
        return False
    return country == ALL or country in (transfer.origin, transfer.destination)


def transfers_json(snapshot: Snapshot, transfers: list[Transfer]) -> str:
    """The same document as ``ropa transfers --format json``, for the shown transfers."""
    return json.dumps({"regimes": list(snapshot.graph.regimes), "transfers": [t.as_dict() for t in transfers]}, indent=2) + "\n"


# ---- the world map ------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorldMapData:
    """Rows for the map layers; transfers whose countries have no centroid are counted, not drawn."""

    arcs: list[dict]
    points: list[dict]
    unplaced: tuple[str, ...]


def world_map_data(transfers: list[Transfer]) -> WorldMapData:
    """One arc per (origin, destination, status) with its count; one point per country."""
    centroids = load_centroids()
    counts: Counter[tuple[str, str, FlowStatus]] = Counter()
    unplaced: set[str] = set()
    for transfer in transfers:
        missing = [code for code in (transfer.origin, transfer.destination) if code not in centroids]
        if missing:
            unplaced.update(missing)
            continue
        counts[(transfer.origin, transfer.destination, transfer_status(transfer))] += 1
    arcs = []
    for (origin, destination, status), count in sorted(counts.items(), key=lambda item: (-item[0][2].severity, item[0][:2])):
        source, target = centroids.get(origin), centroids.get(destination)
        arcs.append({
            "from": origin, "to": destination, "status": status.value, "count": count,
            "source": [source.lon, source.lat], "target": [target.lon, target.lat],
            "colour": ARC_COLOURS[status], "width": min(2 + count, 10),
            "tooltip": f"{country_name(origin)} to {country_name(destination)}: {count} transfer(s), {status.label}",
        })
    codes = sorted({arc["from"] for arc in arcs} | {arc["to"] for arc in arcs})
    points = []
    for code in codes:
        point = centroids.get(code)
        points.append({
            "code": code, "position": [point.lon, point.lat],
            "tooltip": country_name(code),
            "outgoing": sum(arc["count"] for arc in arcs if arc["from"] == code),
        })
    return WorldMapData(arcs, points, tuple(sorted(unplaced)))


def _graticule() -> list[dict]:
    """Meridians every 30 degrees and parallels every 30 degrees: the only background (no tiles)."""
    lines = [{"path": [[lon, lat] for lat in range(-80, 81, 10)]} for lon in range(-180, 181, 30)]
    lines += [{"path": [[lon, lat] for lon in range(-180, 181, 10)]} for lat in range(-60, 61, 30)]
    return lines


def world_map(data: WorldMapData):
    """A pydeck Deck with no basemap (offline): graticule, arcs, country points and codes."""
    import pydeck as pdk

    layers = [
        pdk.Layer("PathLayer", data=_graticule(), get_path="path", get_color=[160, 160, 160, 90], width_min_pixels=1, id="graticule"),
        pdk.Layer(
            "ArcLayer", data=data.arcs, id="transfers", get_source_position="source", get_target_position="target",
            get_source_color="colour", get_target_color="colour", get_width="width", pickable=True, great_circle=True,
        ),
        pdk.Layer(
            "ScatterplotLayer", data=data.points, id="countries", get_position="position", get_radius=60000,
            radius_min_pixels=4, get_fill_color=[60, 60, 60, 200], pickable=True,
        ),
        pdk.Layer(
            "TextLayer", data=data.points, id="country-codes", get_position="position", get_text="code", get_size=14,
            get_color=[30, 30, 30, 255], get_pixel_offset=[0, -14],
        ),
    ]
    # map_provider=None with the default map_style: no basemap, so nothing is fetched from a tile server.
    return pdk.Deck(
        layers=layers, map_provider=None,
        initial_view_state=pdk.ViewState(latitude=30, longitude=10, zoom=0.9, pitch=0),
        tooltip={"text": "{tooltip}"},
    )


def map_data(snapshot: Snapshot, filters: tuple) -> WorldMapData:
    """The world map's rows for the transfers the filters show (memoised per snapshot by the page)."""
    statuses, country, gaps_only = filters
    return world_map_data([t for t in snapshot.transfers if matches(t, list(statuses), country, gaps_only)])


def transfers_table(snapshot: Snapshot) -> pd.DataFrame:
    """Every transfer as a table row, in the snapshot's order (the page filters it with a mask)."""
    return pd.DataFrame([transfer_row(t, snapshot) for t in snapshot.transfers], columns=COLUMNS)


def render_world_map(data: WorldMapData) -> None:
    if not data.arcs:
        st.caption("No transfer to draw on the map.")
    else:
        st.pydeck_chart(world_map(data), height=420, key="transfers_world_map")
        st.caption(
            "Arcs go from the exporter's country to the importer's, one per status, thicker with more transfers: "
            + "; ".join(ARC_LEGEND.values()) + ". Drawn offline: no map tiles, only country centres and a 30 degree grid."
        )
    if data.unplaced:
        st.caption(f"Not drawn (no map point for the country): {', '.join(data.unplaced)}.")


# ---- one transfer in detail -------------------------------------------------------------------------

def transfer_option(transfer: Transfer) -> str:
    return f"{transfer.flow_id}: {transfer.exporter_name} ({transfer.origin}) to {transfer.importer_name} ({transfer.destination})"


def gap_text(transfer: Transfer, regime: Regime, needs_mechanism: bool) -> str:
    """A gap as the Overview counts it: restricted, uncovered, under a regime the record is kept under."""
    if regime in transfer.gap_under:
        return "yes"
    return "no (the record is not kept under this regime)" if needs_mechanism else "no"


def requirement_rows(snapshot: Snapshot, transfer: Transfer) -> pd.DataFrame | None:
    """What each regime needs for the transfer, from catalog.transfer_assessment; None when not installed."""
    try:
        from catalog.transfer_assessment import assess_transfer
    except ImportError:
        return None
    assessed = assess_transfer(snapshot.graph, transfer)

    def yes(value: bool | None) -> str:
        return "" if value is None else ("yes" if value else "no")

    rows = []
    for requirement in (assessed.uk, assessed.eu):
        name = requirement.assessment_name
        rows.append({
            "Regime": regime_label(requirement.regime),
            "Status": requirement.status.label,
            "Needs a mechanism": yes(not requirement.adequacy_covers),
            "Instrument that fits": ", ".join(enum_label(TransferMechanism, m) for m in requirement.instruments) or "none needed",
            "On record": enum_label(TransferMechanism, requirement.mechanism.value) if requirement.mechanism else "",
            "Covers this regime": requirement.coverage_text,
            "Module fits the roles": yes(requirement.mechanism_fits_roles),
            "Risk assessment expected": f"{yes(requirement.assessment_expected)} ({name})",
            "Risk assessment on record": f"{yes(requirement.assessment_on_record)} ({name})",
            "Gap": gap_text(transfer, requirement.regime, requirement.needs_mechanism),
        })
    frame = pd.DataFrame(rows)
    frame.attrs["contract_roles"] = (assessed.exporter_contract_role.value, assessed.importer_contract_role.value)
    frame.attrs["same_organisation"] = assessed.same_organisation
    return frame


def render_detail(snapshot: Snapshot, shown: list[Transfer]) -> None:
    st.subheader("One transfer in detail")
    if not shown:
        st.caption("No transfer matches the filters.")
        return
    if len(shown) > MAX_DETAIL_OPTIONS:
        st.caption(f"The first {MAX_DETAIL_OPTIONS} of {len(shown)} transfers are listed; narrow them with the filters above.")
        shown = shown[:MAX_DETAIL_OPTIONS]
    wanted = st.query_params.get("flow")
    if wanted and st.session_state.get("transfer_detail_preset") != wanted:  # ?flow=<id>, from a finding's link
        st.session_state["transfer_detail_preset"] = wanted
        first = next((i for i, t in enumerate(shown) if t.flow_id == wanted), None)
        if first is not None:
            st.session_state["transfer_detail"] = first
    if st.session_state.get("transfer_detail", 0) >= len(shown):
        st.session_state.pop("transfer_detail", None)
    index = st.selectbox(
        "Transfer", range(len(shown)), format_func=lambda i: transfer_option(shown[i]), key="transfer_detail",
    )
    transfer = shown[index]
    graph = snapshot.graph.graph
    facts = pd.DataFrame(
        [
            ("Flow", transfer.flow_id),
            ("Exporter", f"{transfer.exporter_name} ({role_label(transfer.exporter_role)})"),
            ("Importer", f"{transfer.importer_name} ({role_label(transfer.importer_role)})"),
            ("From", country_name(transfer.origin)),
            ("To", country_name(transfer.destination)),
            ("Onward via", " > ".join(graph.nodes[key]["label"] for key in transfer.via if key in graph)),
            ("Data categories", categories_text(transfer.data_categories)),
            ("Moved by", moved_by(transfer)),
            *([("Held there by", graph.nodes[transfer.host]["label"])] if transfer.host in graph else []),
            ("Mechanism on record", mechanisms_text(transfer)),
            ("TIA / TRA on record", transfer.assessment_ref or "none"),
            ("UK GDPR", f"{transfer.uk.status.label}. {transfer.uk.note}".strip()),
            ("EU GDPR", f"{transfer.eu.status.label}. {transfer.eu.note}".strip()),
        ],
        columns=["", "Value"],
    )
    st.dataframe(facts, hide_index=True, width="stretch")
    if transfer.is_undocumented:
        st.warning(
            "Recipient with no documented flow: the activity declares this recipient, but no flow, onward chain or hosting "
            "from its systems reaches it. This is a gap in the map, not a known data path: catalogue the flow (or remove the "
            "recipient from the activity). Until then it is assessed from the organisation's country with the activity's declared categories."
        )
    requirements = requirement_rows(snapshot, transfer)
    if requirements is None:
        st.info("What each regime needs (instrument by the parties' roles, TIA / TRA) is unavailable: catalog.transfer_assessment is not installed.")
        return
    exporter_role, importer_role = requirements.attrs["contract_roles"]
    st.caption(
        f"In a transfer contract the exporter is the {exporter_role} and the importer the {importer_role}"
        + (" (the importer is one of our own systems: no contract with ourselves, but the record still shows the move)."
           if requirements.attrs["same_organisation"] else ".")
    )
    st.dataframe(requirements, hide_index=True, width="stretch")


# ---- the page -----------------------------------------------------------------------------------------

def render() -> None:
    snapshot = current_snapshot()
    st.title("International transfers")
    regimes = ", ".join(regime_label(regime) for regime in snapshot.graph.regimes)
    st.caption(
        f"Derived from the flows: every flow to another country, onward transfers to sub-processors, systems hosted by "
        f"a provider abroad, and recipients an activity declares that no flow reaches (a gap in the map). "
        f"Gaps are judged under the regimes the record is kept under ({regimes})."
    )
    if not snapshot.transfers:
        st.info("No flow crosses a border.")
        return

    countries = sorted({c for t in snapshot.transfers for c in (t.origin, t.destination)}, key=lambda c: country_name(c).casefold())
    filters = st.columns([2, 1, 1])
    statuses = filters[0].multiselect(
        "Status (under either regime)", TransferStatus.choices(), format_func=lambda value: TransferStatus(value).label, key="transfer_status",
    )
    country = filters[1].selectbox(
        "Country (either end)", [ALL, *countries], format_func=lambda code: code if code == ALL else country_name(code), key="transfer_country",
    )
    gaps_only = filters[2].checkbox("Gaps only", key="transfer_gaps_only", help="Restricted transfers that no mechanism on record covers, under a regime the record is kept under.")

    from dashboards.views.flow_map import cached

    mask = [matches(t, statuses, country, gaps_only) for t in snapshot.transfers]
    shown = [t for t, keep in zip(snapshot.transfers, mask) if keep]
    render_world_map(cached(snapshot, map_data, (tuple(sorted(statuses)), country, gaps_only)))
    table = cached(snapshot, transfers_table)[mask]
    st.dataframe(table, hide_index=True, width="stretch")
    gaps = int((table["Gap under"] != "").sum())  # from the memoised table: a gap is derived anew on each access
    st.caption(f"{len(shown)} of {len(snapshot.transfers)} transfer(s) shown, {gaps} restricted and not covered by a mechanism on record.")
    from dashboards.views.flow_map import can_download

    if can_download():
        st.download_button(
            "Download as JSON", data=lambda: transfers_json(snapshot, shown), file_name="transfers.json", mime="application/json", on_click="ignore",
        )
    render_detail(snapshot, shown)


if __name__ == "__main__":
    render()
