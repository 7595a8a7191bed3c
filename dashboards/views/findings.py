"""Findings: the rules' checks of the catalogue against UK GDPR and EU GDPR, most severe first.

Counts per severity, the findings as a filterable table, and one finding in detail with a link to
the item it names: systems, datasets, fields and parties open in the lineage explorer
(``?node=``), activities on the processing activities page (``?activity=``), transfers on the
transfers page (``?flow=``). Findings come from ``catalog.rules.run_rules``, once per catalogue
revision.
"""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd
import streamlit as st

from catalog.graph import NodeKind
from dashboards.state import current_snapshot, require_catalog

#: Severity -> how it is shown; most severe first.
SEVERITY_ORDER = ["critical", "high", "medium", "low", "info"]
COLUMNS = ["Severity", "Rule", "Article", "Item kind", "Item", "Message", "Fix", "Where asserted", "Open"]

#: Finding item kind -> (page script, query parameter, how the value is built from the item id).
LINKS = {
    "system": ("views/lineage.py", "node", "lineage", lambda item: f"system:{item}"),
    "party": ("views/lineage.py", "node", "lineage", lambda item: f"party:{item}"),
    "dataset": ("views/lineage.py", "node", "lineage", lambda item: item),
    "field": ("views/lineage.py", "node", "lineage", lambda item: item),
    "activity": ("views/activities.py", "activity", "activities", lambda item: item),
    "transfer": ("views/transfers.py", "flow", "transfers", lambda item: item),
}
LINK_LABELS = {
    "views/lineage.py": "Open it in the lineage explorer",
    "views/activities.py": "Open the activity",
    "views/transfers.py": "Open the transfer",
}


def _revision_key(catalog) -> tuple:
    """What changes whenever the catalogue does (the state module's revision, else the latest run)."""
    from dashboards import state

    revision = getattr(state, "_revision", None) or state._latest_run_id
    return (revision(catalog),)


#: Above this many systems the checks run when asked (they take minutes there), not on page load.
AUTO_RUN_SYSTEMS = 2000
#: (url, revision) pairs whose findings are in the cache of this server process.
_computed: set[tuple] = set()


@st.cache_resource(show_spinner="Running the checks…", max_entries=8)
def _findings(url: str, revision: tuple) -> tuple:
    from catalog.rules import run_rules
    from dashboards.state import _open

    with _open(url).session() as session:
        findings = tuple(run_rules(session))
    _computed.add((url, revision))
    return findings


def link_for(finding) -> tuple[str, dict[str, str]] | None:
    """(page script, query params) of the page that shows the finding's item; None when there is none."""
    target = LINKS.get(finding.item_kind)
    if target is None:
        return None
    page, parameter, _url, value = target
    return page, {parameter: value(finding.item_id)}


def link_url(finding) -> str | None:
    """A relative URL for the table's link column."""
    target = LINKS.get(finding.item_kind)
    if target is None:
        return None
    _page, parameter, url, value = target
    return f"{url}?{parameter}={quote(value(finding.item_id), safe='')}"


def counts(findings) -> dict[str, int]:
    tally = {severity: 0 for severity in SEVERITY_ORDER}
    for finding in findings:
        tally[finding.severity.value] = tally.get(finding.severity.value, 0) + 1
    return tally


def findings_table(findings) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Severity": finding.severity.value, "Rule": finding.rule_id, "Article": finding.article,
                "Item kind": finding.item_kind, "Item": finding.item_id, "Message": finding.message, "Fix": finding.fix_hint,
                "Where asserted": finding.source_ref or "", "Open": link_url(finding),
            }
            for finding in findings
        ],
        columns=COLUMNS,
    )


def render_detail(findings) -> None:
    st.subheader("One finding")
    index = st.selectbox(
        "Finding", range(len(findings)),
        format_func=lambda i: f"{findings[i].severity.value.upper()} {findings[i].rule_id}: {findings[i].item_kind} {findings[i].item_id}",
        key="findings_detail",
    )
    finding = findings[index]
    st.text(f"{finding.severity.value.upper()}  {finding.rule_id}  ({finding.article})")
    st.text(finding.message)
    st.caption("How to fix it")
    st.text(finding.fix_hint)
    if finding.source_ref:
        st.caption("Where it was asserted")
        st.code(finding.source_ref, language=None)
    link = link_for(finding)
    if link is not None:
        page, params = link
        st.page_link(page, label=LINK_LABELS[page], query_params=params, icon=":material/open_in_new:")


def render() -> None:
    catalog = require_catalog()
    st.title("Findings")
    st.caption(
        "Checks of the catalogue against UK GDPR and EU GDPR (lawful basis, special category conditions, transfer "
        "mechanisms and assessments, processor contracts, retention, owners, DPIA triggers), most severe first."
    )
    try:
        from catalog.rules import run_rules  # noqa: F401
    except ImportError:
        st.info("The rules engine is unavailable in this installation (catalog.rules is not installed yet).")
        return
    # Page scripts run afresh each time: state that must outlive a run lives in the imported module.
    from dashboards.views import findings as module  # noqa: PLW0406

    revision = _revision_key(catalog)
    systems = len(current_snapshot().graph.nodes_of(NodeKind.SYSTEM))
    if (catalog.url, revision) not in module._computed and systems > module.AUTO_RUN_SYSTEMS:
        st.info(
            f"The catalogue holds {systems} systems: the checks take a while at this size, so they run when asked. "
            "The result is kept until the catalogue changes. `ropa check` runs the same checks from the command line."
        )
        if not st.button("Run the checks now", key="findings_run", type="primary"):
            return
    findings = module._findings(catalog.url, revision)

    tally = counts(findings)
    columns = st.columns(len(SEVERITY_ORDER))
    for column, severity in zip(columns, SEVERITY_ORDER):
        column.metric(severity.capitalize(), tally.get(severity, 0))
    if not findings:
        st.success("No findings: every check passes.")
        return

    filters = st.columns([2, 2, 1, 2])
    severities = filters[0].multiselect("Severity", SEVERITY_ORDER, key="findings_severity", placeholder="all severities")
    rules = sorted({finding.rule_id for finding in findings})
    chosen_rules = filters[1].multiselect("Rule", rules, key="findings_rule", placeholder="all rules")
    kinds = sorted({finding.item_kind for finding in findings})
    kind = filters[2].selectbox("Item kind", ["All", *kinds], key="findings_kind")
    text = filters[3].text_input("Search", key="findings_search", placeholder="any word in the message or item")
    needle = text.strip().casefold()
    shown = [
        finding for finding in findings
        if (not severities or finding.severity.value in severities)
        and (not chosen_rules or finding.rule_id in chosen_rules)
        and (kind == "All" or finding.item_kind == kind)
        and (not needle or needle in f"{finding.message} {finding.item_id} {finding.fix_hint}".casefold())
    ]
    st.dataframe(
        findings_table(shown), hide_index=True, width="stretch",
        column_config={"Open": st.column_config.LinkColumn("Open", display_text="open")},
    )
    st.caption(f"{len(shown)} of {len(findings)} finding(s) shown.")
    if shown:
        render_detail(shown)


if __name__ == "__main__":
    render()
