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


@st.cache_resource(show_spinner="Reading the history…", max_entries=4)
def _events(url: str, revision: tuple) -> tuple[SimpleNamespace, ...]:
    """The events per (catalogue, revision), shared read-only: reruns and filter changes do not re-read them."""
    return tuple(load_events(require_catalog()))


def load_documents(catalog, event_id: int) -> tuple[dict | None, dict | None]:
    """The entry's document before and after one change."""
    with catalog.session() as session:
        event = session.get(ChangeEvent, event_id)
        return (event.before, event.after) if event is not None else (None, None)


@st.cache_data(show_spinner="Rebuilding the catalogue at both dates…", max_entries=16)
def _diff(url: str, revision: tuple, start: datetime, end: datetime) -> Diff:
    """The comparison per (catalogue, revision, dates): reruns of the page do not replay the history."""
    with require_catalog().session() as session:
        return diff_between(session, start, end)


def _day(event) -> date:
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    return at.astimezone(UTC).date()


def filter_events(events, start: date | None, end: date | None, kinds=(), actors=(), sources=()) -> list[ChangeEvent]:
    shown = []
    for e in events:
        if (kinds and e.entry_kind not in kinds) or (actors and e.actor not in actors) or (sources and e.source not in sources):
            continue
        day = _day(e)
        if (start is None or day >= start) and (end is None or day <= end):
            shown.append(e)
    return shown


def events_table(events) -> pd.DataFrame:
    """One row per event; the times formatted in one go (a history holds tens of thousands of events)."""
    at = pd.to_datetime([e.at for e in events], utc=True).strftime("%Y-%m-%d %H:%M:%S")  # naive times are UTC
    return pd.DataFrame({
        "Event": [e.id for e in events], "At (UTC)": list(at), "Actor": [e.actor for e in events],
        "Source": [e.source for e in events], "Entry kind": [e.entry_kind for e in events],
        "Entry": [e.entry_id for e in events], "Action": [e.action for e in events], "Run": [e.run_id for e in events],
    }, columns=EVENT_COLUMNS)


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


def render_events(user: User, events, first: date, last: date) -> None:
    """The events, filtered; ``first`` and ``last`` are the days of the oldest and newest."""
    last = max(last, datetime.now(UTC).date())
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
        st.download_button("Download these changes (CSV)", data=lambda: table.to_csv(index=False), file_name="ropa-history.csv",
                           mime="text/csv", on_click="ignore", key="history_download")
    if shown:
        by_id = {e.id: e for e in shown}
        event_id = st.selectbox("Show one change", list(by_id), key="history_event",
                                format_func=lambda i: f"{i}: {by_id[i].action} {by_id[i].entry_kind} {by_id[i].entry_id}")
        before, after = load_documents(require_catalog(), event_id)
        st.dataframe(changes_table(attribute_changes(before, after)), hide_index=True, width="stretch")


def render_diff(catalog, first: date, revision: tuple) -> None:
    st.subheader("Compare two dates")
    st.caption("The catalogue as it was at the end of each date (UTC), rebuilt from the history.")
    today = datetime.now(UTC).date()
    before_history = first - timedelta(days=1)  # the empty catalogue
    columns = st.columns(2)
    start = columns[0].date_input("From the end of", value=max(before_history, today - timedelta(days=7)), key="history_from")
    end = columns[1].date_input("To the end of", value=today, key="history_to")
    diff = _diff(catalog.url, revision, end_of_day(start), end_of_day(end))
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
    revision = current_revision()
    events = _events(catalog.url, revision)
    if not events:
        st.info("No changes recorded yet: load the catalogue with `ropa ingest manifest PATH` or register a system.")
        return
    days = [_day(e) for e in events]
    render_events(user, events, min(days), max(days))
    render_diff(catalog, min(days), revision)


if __name__ == "__main__":
    render()
