"""Change history: every change to the catalogue, filterable, and what changed between two dates.

The history is append-only (``catalog.models.ChangeEvent``); the comparison rebuilds the catalogue
as it was at the end of each date from it (``catalog.history``), the same way the CLI can.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pandas as pd
import streamlit as st
from sqlmodel import select

from catalog.history import AttributeChange, Diff, attribute_changes, diff_between
from catalog.models import ChangeEvent
from dashboards.auth import Permission, User, current_user
from dashboards.state import current_revision, require_catalog
from dashboards.views.review import value_text

EVENT_COLUMNS = ["Event", "At (UTC)", "Actor", "Source", "Entry kind", "Entry", "Action", "Run"]


def end_of_day(day: date) -> datetime:
    """The last moment of a UTC date: the state 'as of' that date includes all its changes."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(microseconds=1)


#: What the event list shows; the documents before and after are read only for the event opened.
EVENT_FIELDS = ("id", "at", "actor", "source", "entry_kind", "entry_id", "action", "run_id")


def load_events(catalog) -> list[SimpleNamespace]:
    """Every change, newest first, without its documents (they are large: read one at a time)."""
    columns = [getattr(ChangeEvent, name) for name in EVENT_FIELDS]
    with catalog.session() as session:
        rows = session.exec(select(*columns).order_by(ChangeEvent.id.desc())).all()
    return [SimpleNamespace(**dict(zip(EVENT_FIELDS, row, strict=True))) for row in rows]


def load_documents(catalog, event_id: int) -> tuple[dict | None, dict | None]:
    """The entry's document before and after one change."""
    with catalog.session() as session:
        event = session.get(ChangeEvent, event_id)
        return (event.before, event.after) if event is not None else (None, None)


@st.cache_data(show_spinner="Rebuilding the catalogue at both dates…", max_entries=16)
def _diff(url: str, revision: tuple, start: datetime, end: datetime) -> Diff:
    """The comparison per (catalogue, revision, dates): reruns of the page do not replay the history."""
    from dashboards.state import require_catalog

    with require_catalog().session() as session:
        return diff_between(session, start, end)


def _day(event) -> date:
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    return at.astimezone(UTC).date()


def filter_events(events: list, start: date | None, end: date | None, kinds=(), actors=(), sources=()) -> list[ChangeEvent]:
    return [
        e for e in events
        if (start is None or _day(e) >= start) and (end is None or _day(e) <= end)
        and (not kinds or e.entry_kind in kinds) and (not actors or e.actor in actors) and (not sources or e.source in sources)
    ]


def events_table(events: list) -> pd.DataFrame:
    return pd.DataFrame([
        {
            "Event": e.id, "At (UTC)": _at_text(e.at), "Actor": e.actor, "Source": e.source,
            "Entry kind": e.entry_kind, "Entry": e.entry_id, "Action": e.action, "Run": e.run_id,
        }
        for e in events
    ], columns=EVENT_COLUMNS)


def _at_text(at: datetime) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def changes_table(changes: list[AttributeChange]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"Attribute": c.path, "Before": value_text(c.before), "After": value_text(c.after)} for c in changes],
        columns=["Attribute", "Before", "After"],
    )


def diff_tables(diff: Diff) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    added = pd.DataFrame([{"Kind": k, "Entry": i} for k, i in diff.added], columns=["Kind", "Entry"])
    retired = pd.DataFrame([{"Kind": k, "Entry": i} for k, i in diff.retired], columns=["Kind", "Entry"])
    changed = pd.DataFrame(
        [
            {"Kind": kind, "Entry": ident, "Attribute": c.path, "Before": value_text(c.before), "After": value_text(c.after)}
            for (kind, ident), changes in diff.changed.items() for c in changes
        ],
        columns=["Kind", "Entry", "Attribute", "Before", "After"],
    )
    return added, changed, retired


def render_events(user: User, events: list) -> None:
    first, last = min(_day(e) for e in events), max(max(_day(e) for e in events), datetime.now(UTC).date())
    filters = st.columns(4)
    chosen = filters[0].date_input("Dates (UTC)", value=(first, last), key="history_dates")
    start, end = (chosen[0], chosen[-1]) if isinstance(chosen, (tuple, list)) and chosen else (None, None)
    kinds = filters[1].multiselect("Entry kind", sorted({e.entry_kind for e in events}), key="history_kinds")
    actors = filters[2].multiselect("Actor", sorted({e.actor for e in events}), key="history_actors")
    sources = filters[3].multiselect("Source", sorted({e.source for e in events}), key="history_sources")
    shown = filter_events(events, start, end, kinds, actors, sources)
    table = events_table(shown)
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(f"{len(shown)} of {len(events)} change(s), newest first.")
    if user.can(Permission.DOWNLOAD):
        st.download_button("Download these changes (CSV)", data=table.to_csv(index=False), file_name="ropa-history.csv",
                           mime="text/csv", on_click="ignore", key="history_download")
    if shown:
        by_id = {e.id: e for e in shown}
        event_id = st.selectbox("Show one change", list(by_id), key="history_event",
                                format_func=lambda i: f"{i}: {by_id[i].action} {by_id[i].entry_kind} {by_id[i].entry_id}")
        before, after = load_documents(require_catalog(), event_id)
        st.dataframe(changes_table(attribute_changes(before, after)), hide_index=True, width="stretch")


def render_diff(catalog, events: list) -> None:
    st.subheader("Compare two dates")
    st.caption("The catalogue as it was at the end of each date (UTC), rebuilt from the history.")
    today = datetime.now(UTC).date()
    before_history = min(_day(e) for e in events) - timedelta(days=1)  # the empty catalogue
    columns = st.columns(2)
    start = columns[0].date_input("From the end of", value=max(before_history, today - timedelta(days=7)), key="history_from")
    end = columns[1].date_input("To the end of", value=today, key="history_to")
    diff = _diff(catalog.url, current_revision(), end_of_day(start), end_of_day(end))
    if diff.empty:
        st.info("Nothing changed between these dates.")
        return
    added, changed, retired = diff_tables(diff)
    st.caption(f"{len(diff.added)} added, {len(diff.changed)} changed, {len(diff.retired)} retired.")
    st.text("Added")
    st.dataframe(added, hide_index=True, width="stretch")
    st.text("Changed (attribute: before -> after)")
    st.dataframe(changed, hide_index=True, width="stretch")
    st.text("Retired")
    st.dataframe(retired, hide_index=True, width="stretch")


def render() -> None:
    user = current_user()
    catalog = require_catalog()
    st.title("Change history")
    events = load_events(catalog)
    if not events:
        st.info("No changes recorded yet: load the catalogue with `ropa ingest manifest PATH` or register a system.")
        return
    render_events(user, events)
    render_diff(catalog, events)


if __name__ == "__main__":
    render()
