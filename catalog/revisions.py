"""The catalogue at any revision: replayed from the history, compared, and recorded as it stood.

Every change to a top-level entry is a :class:`catalog.models.ChangeEvent` whose id is the
catalogue revision. :func:`catalog.history.state_at_revision` gives the entry documents at a
revision; :func:`replay` rebuilds such a state into a private temporary catalogue, so everything
derived from the store (the graph, the transfers, the Article 30 record) can be derived for the
past exactly as it is for the present.

What a replay cannot bring back is provenance below the entry level: entry documents hold the
manifest shape, not which source asserted each field, and field-level lineage is not part of them.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from catalog.apply import ReferenceErrors, apply_spec
from catalog.graph import CatalogGraph
from catalog.history import (
    AttributeChange,
    Diff,
    Moment,
    diff_states,
    state_at_revision,
)
from catalog.models import ChangeEvent, IngestRun
from catalog.snapshot import EntryKey, catalog_document
from catalog.specs import CatalogSpec
from catalog.store import Catalog, init_catalog
from catalog.transfers import Transfer, derive_transfers

#: Source name of the run that writes a replayed state into its temporary catalogue.
REPLAY_SOURCE = "manifest"

#: Attributes of a transfer compared between two states.
TRANSFER_ATTRIBUTES = ("uk_status", "eu_status", "mechanism")

TransferKey = tuple[str, str, str, str]


class ReplayError(ValueError):
    """A state from the history does not load as a catalogue (its entries reference each other
    inconsistently); names the problems."""


@contextmanager
def replay(state: dict[EntryKey, dict]) -> Iterator[Catalog]:
    """A temporary SQLite catalogue holding ``state`` (entry documents by (kind, id)), applied
    as one manifest run; removed on exit. A file, not ``sqlite://``: an in-memory database is
    private to one connection and the catalogue opens several."""
    with tempfile.TemporaryDirectory(prefix="ropa-replay-") as directory:
        catalog = init_catalog(f"sqlite:///{Path(directory) / 'replay.db'}")
        try:
            spec = CatalogSpec.model_validate(catalog_document(state))
            with catalog.session() as session:
                try:
                    apply_spec(session, spec, source=REPLAY_SOURCE, target="history replay", actor="replay")
                except ReferenceErrors as problem:
                    raise ReplayError(f"the state does not load as a catalogue: {problem}") from None
            yield catalog
        finally:
            catalog.dispose()


def state_transfers(state: dict[EntryKey, dict]) -> list[Transfer]:
    """The transfers derived from a state, as ``ropa transfers`` would have listed them then."""
    with replay(state) as catalog, catalog.session() as session:
        return derive_transfers(CatalogGraph.load(session))


def transfer_key(transfer: Transfer) -> TransferKey:
    """What identifies a transfer across states: its flow, its ends' countries and the importer
    (two onward transfers of one flow may go to two sub-processors in the same country)."""
    return (transfer.flow_id, transfer.origin, transfer.destination, transfer.importer)


def transfer_attributes(transfer: Transfer) -> dict[str, Any]:
    return {"uk_status": str(transfer.uk.status), "eu_status": str(transfer.eu.status), "mechanism": transfer.mechanism}


@dataclass
class TransferChanges:
    """Transfers that appeared, changed (status under either regime, or mechanism) or stopped."""

    added: list[Transfer] = field(default_factory=list)
    changed: list[tuple[Transfer, Transfer, list[AttributeChange]]] = field(default_factory=list)
    retired: list[Transfer] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.retired)


def transfer_changes(a: list[Transfer], b: list[Transfer]) -> TransferChanges:
    """What changed from transfers ``a`` to transfers ``b``, by :func:`transfer_key`."""
    before = {transfer_key(t): t for t in a}
    after = {transfer_key(t): t for t in b}
    changes = TransferChanges()
    for key in sorted(set(before) | set(after)):
        if key not in before:
            changes.added.append(after[key])
        elif key not in after:
            changes.retired.append(before[key])
        else:
            old, new = transfer_attributes(before[key]), transfer_attributes(after[key])
            differing = [AttributeChange(name, old[name], new[name]) for name in TRANSFER_ATTRIBUTES if old[name] != new[name]]
            if differing:
                changes.changed.append((before[key], after[key], differing))
    return changes


@dataclass
class RevisionDiff:
    """Everything that changed between two moments: entries and the transfers derived from them."""

    since: Moment
    until: Moment
    entries: Diff
    transfers: TransferChanges

    @property
    def empty(self) -> bool:
        return self.entries.empty and self.transfers.empty

    def as_dict(self) -> dict[str, Any]:
        def moment(m: Moment) -> dict[str, Any]:
            return {"revision": m.revision, "at": m.iso}

        def entry(key: EntryKey) -> dict[str, str]:
            return {"kind": key[0], "id": key[1]}

        def change(c: AttributeChange) -> dict[str, Any]:
            return {"path": c.path, "before": c.before, "after": c.after}

        def transfer(t: Transfer) -> dict[str, Any]:
            return {"flow_id": t.flow_id, "exporter": t.exporter, "importer": t.importer, "origin": t.origin,
                    "destination": t.destination, **transfer_attributes(t)}

        return {
            "since": moment(self.since),
            "until": moment(self.until),
            "entries": {
                "added": [entry(key) for key in self.entries.added],
                "changed": [{**entry(key), "changes": [change(c) for c in changes]} for key, changes in self.entries.changed.items()],
                "retired": [entry(key) for key in self.entries.retired],
            },
            "transfers": {
                "added": [transfer(t) for t in self.transfers.added],
                "changed": [{**transfer(new), "changes": [change(c) for c in changes]} for _old, new, changes in self.transfers.changed],
                "retired": [transfer(t) for t in self.transfers.retired],
            },
        }


def diff_revisions(session: Session, since: Moment, until: Moment) -> RevisionDiff:
    """Entries added, changed and retired from ``since`` to ``until``, and the transfers derived
    from each state compared (each state replayed into a temporary catalogue)."""
    before, after = state_at_revision(session, since.revision), state_at_revision(session, until.revision)
    entries = diff_states(before, after)
    transfers = transfer_changes(state_transfers(before), state_transfers(after)) if not entries.empty else TransferChanges()
    return RevisionDiff(since, until, entries, transfers)


def record_as_of(session: Session, moment: Moment, **options):
    """The Article 30 record as it stood at ``moment``: the state replayed, the record built with
    ``generated_at`` = the moment and the revision it shows, so two as-of records of one moment
    are equal. Activity dates come from the history (the event that last changed each activity);
    the inventory's per-field source is not in the history and is left blank."""
    from catalog.record import CatalogueRevision, build_record

    revision = CatalogueRevision(moment.revision, _event_time(session, moment.revision)) if moment.revision else None
    with replay(state_at_revision(session, moment.revision)) as catalog, catalog.session() as replayed:
        record = build_record(replayed, generated_at=moment.at, revision=revision, **options)
    dates = tuple(_activity_dates(session, moment.revision, record.activity_dates))
    inventory = tuple(dataclasses.replace(row, source="") for row in record.inventory_rows)
    return dataclasses.replace(record, activity_dates=dates, inventory_rows=inventory)


def _activity_dates(session: Session, revision: int | None, replayed) -> list:
    """When each activity was last changed, from the history up to ``revision`` (the replay's own
    run times mean nothing): the run of its latest event, else the event's time."""
    from catalog.record import ActivityDates

    last_change: dict[str, ChangeEvent] = {}
    if revision:
        statement = select(ChangeEvent).where(ChangeEvent.entry_kind == "activity", ChangeEvent.id <= revision).order_by(ChangeEvent.id)
        for event in session.exec(statement).all():
            last_change[event.entry_id] = event
    dates = []
    for entry in replayed:
        event = last_change.get(entry.activity_id)
        run = session.get(IngestRun, event.run_id) if event is not None and event.run_id is not None else None
        when = (run.finished_at or run.started_at) if run is not None else event.at if event is not None else None
        dates.append(ActivityDates(entry.activity_id, event.run_id if event is not None else None, when))
    return dates


def _event_time(session: Session, revision: int) -> datetime | None:
    event = session.get(ChangeEvent, revision)
    return event.at if event is not None else None
