"""Transfers: every international transfer derived from the flows, under UK GDPR and EU GDPR side by side."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from catalog.jurisdictions import TransferStatus
from catalog.transfers import Transfer
from catalog.vocab import FlowMechanism, TransferMechanism
from dashboards.state import Snapshot, current_snapshot
from dashboards.views import ALL, categories_text, country_name, enum_label, regime_label, role_label

COLUMNS = [
    "Flow", "Exporter", "Importer", "Importer role", "From", "To", "Onward via", "Data categories", "Moved by",
    "UK GDPR", "EU GDPR", "Mechanism", "TIA / TRA", "Gap under",
]


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
        "Moved by": enum_label(FlowMechanism, transfer.flow_mechanism),
        "UK GDPR": transfer.uk.status.label,
        "EU GDPR": transfer.eu.status.label,
        "Mechanism": enum_label(TransferMechanism, transfer.mechanism),
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


def render() -> None:
    snapshot = current_snapshot()
    st.title("International transfers")
    regimes = ", ".join(regime_label(regime) for regime in snapshot.graph.regimes)
    st.caption(
        f"Derived from the flows: every flow to another country, and onward transfers to sub-processors. "
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

    shown = [t for t in snapshot.transfers if matches(t, statuses, country, gaps_only)]
    table = pd.DataFrame([transfer_row(t, snapshot) for t in shown], columns=COLUMNS)
    st.dataframe(table, hide_index=True, width="stretch")
    gaps = sum(t.has_gap for t in shown)
    st.caption(f"{len(shown)} of {len(snapshot.transfers)} transfer(s) shown, {gaps} restricted and not covered by a mechanism on record.")
    st.download_button(
        "Download as JSON", data=transfers_json(snapshot, shown), file_name="transfers.json", mime="application/json", on_click="ignore",
    )


if __name__ == "__main__":
    render()
