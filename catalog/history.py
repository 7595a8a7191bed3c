"""The catalogue as it was at a moment, and what changed between two moments, from the history.

Every change to a top-level entry is a :class:`catalog.models.ChangeEvent` holding the entry's
document (manifest shape, :mod:`catalog.snapshot`) after the change, or None when it was retired.
The latest event of each entry at or before a moment is therefore that entry's state then.
Used by the dashboard's history page and reusable by the CLI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, type_coerce
from sqlmodel import Session, select

from catalog.models import ChangeEvent
from catalog.snapshot import SECTIONS, EntryKey

#: Entry kinds whose documents make up the catalogue (decisions on suggestions are events too, but not entries).
ENTRY_KINDS = frozenset(SECTIONS)

Path = str


def as_utc(when: datetime) -> datetime:
    """An aware UTC time; a naive time is taken to be UTC already (as event times are)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


#: An entry's latest event: its id (the revision) and its document after the change as stored.
Latest = tuple[int, Any]


def _latest_events(session: Session, *conditions) -> dict[EntryKey, Latest]:
    """Each entry's latest event among those meeting ``conditions``. Documents stay as the driver
    returns them (JSON text on SQLite) and are decoded only when needed: a diff compares the
    documents of the few entries that changed, not of the whole catalogue."""
    statement = (
        select(ChangeEvent.id, ChangeEvent.entry_kind, ChangeEvent.entry_id, type_coerce(ChangeEvent.after, String))
        .where(ChangeEvent.entry_kind.in_(sorted(ENTRY_KINDS)), *conditions)
        .order_by(ChangeEvent.id)
    )
    return {(kind, entry_id): (event_id, stored) for event_id, kind, entry_id, stored in session.execute(statement)}


def _decoded(stored: Any) -> dict | None:
    return json.loads(stored) if isinstance(stored, str) else stored


def _is_current(stored: Any) -> bool:
    """Whether a document as stored is an entry's (a retirement stores None: SQL NULL or JSON null)."""
    return stored is not None and stored != "null"


def _documents(latest: dict[EntryKey, Latest]) -> dict[EntryKey, dict]:
    return {key: _decoded(stored) for key, (_, stored) in sorted(latest.items()) if _is_current(stored)}


def _until(when: datetime | None) -> list:
    """The condition for events at or before ``when`` (none for None: up to now)."""
    return [] if when is None else [ChangeEvent.at <= as_utc(when)]


def state_at(session: Session, when: datetime | None) -> dict[EntryKey, dict]:
    """Document of every entry current at ``when`` (inclusive; None means now), by (kind, id)."""
    return _documents(_latest_events(session, *_until(when)))


@dataclass(frozen=True)
class AttributeChange:
    """One attribute of an entry that differs: its path inside the document, before and after.

    Paths name list items that have a ``name`` by that name: ``datasets[contacts].fields[email].categories``.
    A value that is absent on one side is None there.
    """

    path: Path
    before: Any
    after: Any


@dataclass
class Diff:
    """Entries added, changed (with their changed attributes) and retired between two states."""

    added: list[EntryKey] = field(default_factory=list)
    changed: dict[EntryKey, list[AttributeChange]] = field(default_factory=dict)
    retired: list[EntryKey] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.retired)


def _named_items(value: Any) -> dict[str, Any] | None:
    """A list of documents that all have a distinct name, keyed by name; else None."""
    if not isinstance(value, list) or not all(isinstance(item, dict) and "name" in item for item in value):
        return None
    names = [str(item["name"]) for item in value]
    return dict(zip(names, value, strict=True)) if len(set(names)) == len(names) else None


def attribute_changes(before: Any, after: Any, path: Path = "") -> list[AttributeChange]:
    """The differing attributes of two documents, descending into mappings and named lists.

    A whole document added or retired (None on one side) lists each of its attributes.
    """
    if not path and (before is None) != (after is None) and isinstance(before or after, dict):
        before, after = before or {}, after or {}
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[AttributeChange] = []
        for key in list(before) + [k for k in after if k not in before]:
            changes += attribute_changes(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        return changes
    old_items, new_items = _named_items(before), _named_items(after)
    if old_items is not None and new_items is not None and (before or after):
        changes = []
        for name in list(old_items) + [n for n in new_items if n not in old_items]:
            changes += attribute_changes(old_items.get(name), new_items.get(name), f"{path}[{name}]")
        return changes
    return [AttributeChange(path, before, after)]


def diff_states(a: dict[EntryKey, dict], b: dict[EntryKey, dict]) -> Diff:
    """What changed from state ``a`` to state ``b``."""
    diff = Diff()
    for key in sorted(set(a) | set(b)):
        if key not in a:
            diff.added.append(key)
        elif key not in b:
            diff.retired.append(key)
        else:
            changes = attribute_changes(a[key], b[key])
            if changes:
                diff.changed[key] = changes
    return diff


def diff_between(session: Session, start: datetime | None, end: datetime | None) -> Diff:
    """What changed from ``start`` to ``end`` (None for ``start`` is the empty catalogue, for ``end`` now).

    The same as :func:`diff_states` of the two states, without decoding every document: an entry
    whose latest event is the same at both moments has not changed.
    """
    before = _latest_events(session, *_until(start)) if start is not None else {}
    after = _latest_events(session, *_until(end))
    diff = Diff()
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, (None, None)), after.get(key, (None, None))
        was, now = _is_current(old[1]), _is_current(new[1])
        if now and not was:
            diff.added.append(key)
        elif was and not now:
            diff.retired.append(key)
        elif was and old[0] != new[0]:
            changes = attribute_changes(_decoded(old[1]), _decoded(new[1]))
            if changes:
                diff.changed[key] = changes
    return diff


# ---- revisions: the catalogue as of a change event ---------------------------------------------


def state_at_revision(session: Session, revision: int | None) -> dict[EntryKey, dict]:
    """Document of every entry current just after change event ``revision`` (inclusive); None or
    0 is the empty catalogue. Exact even within one run, whose events share one time."""
    if not revision:
        return {}
    return _documents(_latest_events(session, ChangeEvent.id <= revision))


def revision_end(session: Session, revision: int) -> int:
    """The last revision of the change set that ``revision`` belongs to: one ingest run appends
    one event per entry it changed, all at once, so a state between two of them never existed
    (an activity may name a system added by a later event of the same run). A decision on a
    suggestion (no run) is a change set of its own."""
    event = session.get(ChangeEvent, revision)
    if event is None or event.run_id is None:
        return revision
    statement = select(ChangeEvent.id).where(ChangeEvent.run_id == event.run_id).order_by(ChangeEvent.id.desc()).limit(1)
    return session.exec(statement).first() or revision


class UnknownMoment(ValueError):
    """Text that names no moment of the catalogue: not a revision, date or date-time, or a
    revision that does not exist."""


@dataclass(frozen=True)
class Moment:
    """A moment of the catalogue: when (UTC) and the latest revision at or before it (None when
    the catalogue was still empty then)."""

    at: datetime
    revision: int | None

    @property
    def iso(self) -> str:
        """The time in ISO 8601 UTC to the second."""
        return self.at.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"

    def text(self) -> str:
        return f"revision {self.revision} ({self.iso})" if self.revision else f"empty catalogue ({self.iso})"


def _latest_revision_at(session: Session, when: datetime) -> int | None:
    statement = select(ChangeEvent.id).where(ChangeEvent.at <= as_utc(when)).order_by(ChangeEvent.id.desc()).limit(1)
    return session.exec(statement).first()


def resolve_moment(session: Session, text: str) -> Moment:
    """A revision number (``42``), a date (``2026-11-25``: the end of that day, UTC) or an ISO
    date-time (``2026-11-25T09:30:00Z``; without an offset, UTC) as a :class:`Moment`.

    A revision inside a run's change set stands for the end of that run (:func:`revision_end`).

    Raises UnknownMoment for anything else, or for a revision the history does not hold.
    """
    value = (text or "").strip()
    if value.isdigit():
        revision = int(value)
        event = session.get(ChangeEvent, revision) if revision > 0 else None
        if event is None:
            latest = session.exec(select(ChangeEvent.id).order_by(ChangeEvent.id.desc()).limit(1)).first()
            known = f"revisions run from 1 to {latest}" if latest else "the history is empty"
            raise UnknownMoment(f"revision {revision} does not exist ({known})")
        return Moment(as_utc(event.at), revision_end(session, revision))
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            when = day.replace(hour=23, minute=59, second=59, microsecond=999999)
        else:
            when = as_utc(datetime.fromisoformat(value.replace("z", "Z")))
    except ValueError:
        raise UnknownMoment(
            f"'{text}' is not a revision number, a date (YYYY-MM-DD) or an ISO date-time (YYYY-MM-DDTHH:MM[:SS][+00:00])"
        ) from None
    return Moment(when, _latest_revision_at(session, when))
