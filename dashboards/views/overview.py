"""Overview: how big the catalogue is, what needs fixing, and the Article 30 workbook."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from catalog.graph import NodeKind
from catalog.vocab import TransferMechanism
from dashboards.auth import Permission, current_user
from dashboards.state import Snapshot, current_snapshot
from dashboards.views import country_name, enum_label, regime_label


def render_counts(snapshot: Snapshot) -> None:
    columns = st.columns(5)
    columns[0].metric("Systems", snapshot.count(NodeKind.SYSTEM))
    columns[1].metric("Processing activities", len(snapshot.activities))
    columns[2].metric("Parties", snapshot.count(NodeKind.PARTY))
    columns[3].metric("Locations", snapshot.count(NodeKind.LOCATION))
    columns[4].metric("Transfers", len(snapshot.transfers))


GAP_COLUMNS = ["Flow", "Exporter", "Importer", "From", "To", "Mechanism on record", "Gap under"]


def transfer_gaps_table(snapshot: Snapshot) -> pd.DataFrame:
    """Restricted transfers that no mechanism on record covers, one row each."""
    rows = [
        {
            "Flow": transfer.flow_id,
            "Exporter": transfer.exporter_name,
            "Importer": transfer.importer_name,
            "From": country_name(transfer.origin),
            "To": country_name(transfer.destination),
            "Mechanism on record": enum_label(TransferMechanism, transfer.mechanism),
            "Gap under": ", ".join(regime_label(regime) for regime in transfer.gap_under),
        }
        for transfer in snapshot.transfers
        if transfer.has_gap
    ]
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def render_gaps(snapshot: Snapshot) -> None:
    st.subheader("Open gaps")
    gaps = transfer_gaps_table(snapshot)
    if gaps.empty:
        st.success("Every restricted transfer is covered by a transfer mechanism on record.")
        return
    st.warning(
        f"{len(gaps)} restricted transfer(s) are not covered by a transfer mechanism on record under every regime "
        "the record is kept under (an Article 46 safeguard or an Article 49 derogation; the UK IDTA covers UK GDPR "
        "only, EU SCCs EU GDPR only). Record one on the flow or on the receiving party."
    )
    st.dataframe(gaps, hide_index=True, width="stretch")


def render_workbook_download() -> None:
    st.subheader("Article 30 record")
    try:  # another part of the product; the rest of the dashboard works without it
        from catalog.record import build_record  # noqa: F401
        from exports.workbook import write_workbook  # noqa: F401
    except ImportError:
        st.info("The Article 30 workbook export is unavailable in this installation.")
        return
    if not current_user().can(Permission.DOWNLOAD):
        st.caption("Your role does not allow downloads.")
        return
    from dashboards.views.activities import WORKBOOK_MIME, workbook_bytes  # the record cached per revision

    st.download_button(
        "Download the Article 30 workbook (.xlsx)",
        data=lambda: workbook_bytes("ico"),
        file_name="ropa.xlsx",
        mime=WORKBOOK_MIME,
        on_click="ignore",
        help="The controller and processor records, transfers and systems, derived from the catalogue now.",
    )


def render() -> None:
    snapshot = current_snapshot()
    st.title("Overview")
    organisation = snapshot.graph.organisation
    regimes = ", ".join(regime_label(regime) for regime in snapshot.graph.regimes)
    st.text(f"Record of {organisation.name if organisation else '(organisation not recorded)'}, kept under {regimes}")
    render_counts(snapshot)
    render_gaps(snapshot)
    render_workbook_download()


if __name__ == "__main__":
    render()
