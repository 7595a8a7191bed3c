"""Review: data categories suggested by discovery, and values on which two sources disagree.

Everyone may look. A DPO confirms or rejects any suggestion, and an engineer those on fields of
systems they own; only a DPO resolves conflicts. The buttons appear only for those allowed, and
``dashboards.actions`` checks again before writing; each decision is in the change history.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from catalog.models import DataField, Dataset, System
from catalog.suggestions import SuggestionNotOpen, open_suggestions
from dashboards.actions import ConflictNotOpen, decide_suggestion, may_decide_on_system, open_conflicts, resolve_conflict
from dashboards.auth import Permission, PermissionDenied, User, current_user
from dashboards.state import require_catalog
from dashboards.views import category_label

MESSAGE_KEY = "review_message"
SUGGESTION_COLUMNS = ["Id", "Field", "Category", "Category key", "Score", "Recogniser", "Evidence", "System owner"]
CONFLICT_COLUMNS = ["Id", "Entry", "Attribute", "Kept value", "Kept from", "Reported value", "Reported by", "Run"]


def value_text(value: Any) -> str:
    """A stored value as plain text (JSON for lists and mappings)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def suggestion_rows(catalog) -> list[dict]:
    """Open suggestions with their field path and the owner of the field's system."""
    rows = []
    with catalog.session() as session:
        for suggestion in open_suggestions(session):
            item = session.get(DataField, suggestion.field_id)
            dataset = session.get(Dataset, item.dataset_id) if item else None
            system = session.get(System, dataset.system_id) if dataset else None
            if item is None or dataset is None or system is None or item.retired_run_id is not None:
                continue
            rows.append({
                "id": suggestion.id, "path": f"{system.id}.{dataset.name}.{item.name}", "category": suggestion.category,
                "score": suggestion.score, "recogniser": suggestion.recogniser, "evidence": suggestion.evidence, "system": system,
            })
        session.expunge_all()  # the systems are read after the session closes
    return rows


def suggestions_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([
        {
            "Id": row["id"], "Field": row["path"], "Category": category_label(row["category"]), "Category key": row["category"],
            "Score": round(row["score"], 2), "Recogniser": row["recogniser"], "Evidence": value_text(row["evidence"]),
            "System owner": row["system"].owner_email or row["system"].owner_team,
        }
        for row in rows
    ], columns=SUGGESTION_COLUMNS)


def conflicts_table(conflicts) -> pd.DataFrame:
    return pd.DataFrame([
        {
            "Id": c.id, "Entry": c.label or f"{c.entity} {c.entity_id}", "Attribute": c.field,
            "Kept value": value_text(c.kept_value), "Kept from": c.kept_source,
            "Reported value": value_text(c.reported_value), "Reported by": c.reported_source, "Run": c.run_id,
        }
        for c in conflicts
    ], columns=CONFLICT_COLUMNS)


def _done(message: str) -> None:
    st.session_state[MESSAGE_KEY] = message
    st.rerun()


def render_suggestions(user: User, catalog) -> None:
    st.subheader("Suggested data categories")
    rows = suggestion_rows(catalog)
    if not rows:
        st.info("No suggestions are waiting for a decision.")
        return
    st.caption("From discovery of live databases: the evidence says why (column names, share of sampled values that matched), never the values themselves.")
    st.dataframe(suggestions_table(rows), hide_index=True, width="stretch")
    decidable = {row["id"]: row for row in rows if may_decide_on_system(user, row["system"])}
    if not decidable:
        st.caption("Your role cannot decide these suggestions (the DPO decides any; engineers those on systems they own).")
        return
    chosen = st.selectbox(
        "Suggestion to decide", list(decidable), key="review_suggestion",
        format_func=lambda i: f"{decidable[i]['path']}: {category_label(decidable[i]['category'])} ({decidable[i]['score']:.2f})",
    )
    columns = st.columns(2)
    confirm = columns[0].button("Confirm: add the category to the field", key="review_confirm", type="primary")
    reject = columns[1].button("Reject: never suggest it again", key="review_reject")
    if confirm or reject:
        try:
            decide_suggestion(user, chosen, confirm, catalog=catalog)
        except (PermissionDenied, SuggestionNotOpen) as exc:
            st.error("Not recorded.")
            st.text(str(exc))
            return
        _done(f"{'Confirmed' if confirm else 'Rejected'} suggestion {chosen}.")


def render_conflicts(user: User, catalog) -> None:
    st.subheader("Conflicts between sources")
    conflicts = open_conflicts(catalog)
    if not conflicts:
        st.info("No open conflicts: no automatic source disagrees with what is on record.")
        return
    st.caption("An automatic source reported a value that differs from what a person entered or another source owns; the owner's value is kept until someone decides.")
    st.dataframe(conflicts_table(conflicts), hide_index=True, width="stretch")
    if not user.can(Permission.RESOLVE_CONFLICTS):
        st.caption("Only the DPO resolves conflicts.")
        return
    by_id = {c.id: c for c in conflicts}
    chosen = st.selectbox(
        "Conflict to resolve", list(by_id), key="review_conflict",
        format_func=lambda i: f"{i}: {by_id[i].label or by_id[i].entity_id} / {by_id[i].field}",
    )
    columns = st.columns(2)
    keep = columns[0].button("Keep the value on record", key="review_keep")
    take = columns[1].button("Take the reported value", key="review_take", type="primary")
    if keep or take:
        try:
            resolve_conflict(user, chosen, take_reported=take, catalog=catalog)
        except (PermissionDenied, ConflictNotOpen) as exc:
            st.error("Not resolved.")
            st.text(str(exc))
            return
        _done(f"Conflict {chosen}: {'took the reported value' if take else 'kept the value on record'}.")


def render() -> None:
    user = current_user()
    catalog = require_catalog()
    st.title("Review suggestions and conflicts")
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        st.success(message)
    render_suggestions(user, catalog)
    render_conflicts(user, catalog)


if __name__ == "__main__":
    render()
