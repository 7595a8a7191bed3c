"""Write a validated CatalogSpec into the store as one ingest run.

One run is one transaction (the caller's session): entries are added, updated or left unchanged
by comparing their content; entries this source asserted before and no longer reports are
retired with the run that retired them, never deleted. A re-run of the same input reports zero
changes.

Precedence: what a person entered (the manual sources, manifest and dashboard) is never
overwritten by an automatic source, and an automatic source never overwrites what another source
owns; a differing value is kept as a Conflict for a person to decide. Automatic sources assert
only the attributes they set. Every change to a top-level entry is appended to the history
(ChangeEvent) with the entry's document before and after.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import networkx as nx
from sqlmodel import Session, SQLModel, select

from catalog.models import (
    ActivityRecipient,
    ActivitySystem,
    ChangeEvent,
    Conflict,
    DataField,
    Dataset,
    FieldLineage,
    Flow,
    IngestRun,
    Location,
    Organisation,
    Party,
    ProcessingActivity,
    System,
    SystemLocation,
)
from catalog.snapshot import EntryKey, entry_documents
from catalog.specs import CatalogSpec, FieldRef, ReferenceProblem, SystemSpec, check_references
from catalog.vocab import RunStatus

Loc = tuple[str | int, ...]

#: Sources through which a person enters or confirms facts; automatic sources never overwrite them.
MANUAL_SOURCES = frozenset({"manifest", "dashboard"})


def is_manual(source: str) -> bool:
    return source in MANUAL_SOURCES


class ReferenceErrors(ValueError):
    """The spec names ids that do not exist, or repeats ids; nothing was written."""

    def __init__(self, problems: list[ReferenceProblem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


@dataclass
class ApplyResult:
    """Counts of one run, and the run row recorded for it."""

    run: IngestRun
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    conflicts: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.retired


def utc_now() -> datetime:
    return datetime.now(UTC)


def _primary_key(model: type[SQLModel]) -> str:
    return model.__table__.primary_key.columns.keys()[0]


def _identity(row: SQLModel) -> Any:
    return getattr(row, _primary_key(type(row)))


class _Writer:
    """Upserts rows of one run, counting what changed and which entries were touched."""

    def __init__(self, session: Session, result: ApplyResult, source: str, refs: dict[Loc, str]):
        self.session, self.result, self.source, self.refs = session, result, source, refs
        self.seen: dict[type, set[Any]] = {}
        self.touched: set[EntryKey] = set()
        self.entry: EntryKey | None = None
        self._last_unchanged = False

    def upsert(self, model: type[SQLModel], key: Any, values: dict[str, Any], loc: Loc, *, label: str) -> SQLModel:
        """Insert or update one row; returns the row (the existing one when another source owns it)."""
        row = self._find(model, key) if isinstance(key, dict) else self.session.get(model, key)
        self._last_unchanged = False
        provenance = {"source": self.source, "source_ref": self.refs.get(loc), "run_id": self.result.run.id}
        if row is None:
            row = model(**(key if isinstance(key, dict) else {_primary_key(model): key}), **values, **provenance)
            self.session.add(row)
            self._count("added", label)
        elif row.retired_run_id is None and row.source != self.source and not is_manual(self.source):
            self._report_conflicts(row, values, label)
            self._last_unchanged = True
            self.result.unchanged += 1
        else:
            differs = any(getattr(row, name) != value for name, value in values.items())
            if differs or row.retired_run_id is not None or row.source != self.source:
                for name, value in values.items():
                    setattr(row, name, value)
                row.retired_run_id, row.retired_at = None, None
                self._count("updated", label)
            else:
                self.result.unchanged += 1
                self._last_unchanged = True
            for name, value in provenance.items():
                setattr(row, name, value)
        self.session.flush()
        self.seen.setdefault(model, set()).add(_identity(row))
        return row

    def _count(self, what: str, label: str) -> None:
        setattr(self.result, what, getattr(self.result, what) + 1)
        self.result.changes.append(f"{what} {label}")
        if self.entry:
            self.touched.add(self.entry)

    def _report_conflicts(self, row: SQLModel, values: dict[str, Any], label: str) -> None:
        """Keep the owner's values; record (or refresh) one open conflict per differing attribute."""
        table, ident = type(row).__tablename__, str(_identity(row))
        for name, reported in values.items():
            kept = getattr(row, name)
            if kept == reported:
                continue
            existing = self.session.exec(select(Conflict).where(
                Conflict.entity == table, Conflict.entity_id == ident, Conflict.field == name,
                Conflict.reported_source == self.source, Conflict.status == "open",
            )).first()
            if existing is None:
                existing = Conflict(entity=table, entity_id=ident, label=label, field=name, kept_source=row.source, reported_source=self.source)
                self.session.add(existing)
            existing.kept_value, existing.reported_value, existing.run_id = kept, reported, self.result.run.id
            self.result.conflicts += 1

    def _find(self, model: type[SQLModel], key: dict[str, Any]) -> SQLModel | None:
        statement = select(model)
        for name, value in key.items():
            statement = statement.where(getattr(model, name) == value)
        return self.session.exec(statement).first()

    def links(self, model: type[SQLModel], owner_column: str, owner_id: str, other_column: str, others: Iterable[str]) -> bool:
        """Make the link rows of one owner exactly ``others``; True when they changed."""
        wanted = set(others)
        rows = self.session.exec(select(model).where(getattr(model, owner_column) == owner_id)).all()
        existing = {getattr(row, other_column) for row in rows}
        if existing == wanted:
            return False
        for row in rows:
            if getattr(row, other_column) not in wanted:
                self.session.delete(row)
        for other in sorted(wanted - existing):
            self.session.add(model(**{owner_column: owner_id, other_column: other}))
        self.session.flush()
        return True

    def links_changed(self, label: str) -> None:
        """Count the last upserted entry as updated because its links changed."""
        if self._last_unchanged:
            self.result.unchanged -= 1
            self.result.updated += 1
            self._last_unchanged = False
        self.result.changes.append(f"updated links of {label}")
        if self.entry:
            self.touched.add(self.entry)

    def retire(self, model: type[SQLModel], scope=None, entry_of=None) -> None:
        """Retire current rows of this source that the run did not assert."""
        statement = select(model).where(model.source == self.source, model.retired_run_id.is_(None))
        if scope is not None:
            statement = statement.where(scope)
        seen = self.seen.get(model, set())
        for row in self.session.exec(statement).all():
            if _identity(row) not in seen:
                row.retired_run_id, row.retired_at = self.result.run.id, utc_now()
                self.result.retired += 1
                self.result.changes.append(f"retired {model.__tablename__} {_identity(row)}")
                entry = entry_of(row) if entry_of else self.entry
                if entry:
                    self.touched.add(entry)
        self.session.flush()


def _values(spec, *, exclude: set[str] = frozenset(), rename: dict[str, str] | None = None, only_set: bool = False) -> dict[str, Any]:
    data = spec.model_dump(mode="json", exclude=set(exclude), exclude_unset=only_set)
    for old, new in (rename or {}).items():
        if old in data:
            data[new] = data.pop(old)
    return data


def _parents_first(parties) -> list:
    order = nx.DiGraph()
    order.add_nodes_from(p.id for p in parties)
    order.add_edges_from((p.parent, p.id) for p in parties if p.parent)
    by_id = {p.id: p for p in parties}
    return [by_id[ident] for ident in nx.topological_sort(order) if ident in by_id]


def _write_system(writer: _Writer, index: int, system: SystemSpec, only_set: bool) -> None:
    loc = ("systems", index)
    writer.entry = ("system", system.id)
    row = writer.upsert(System, system.id, _values(system, exclude={"id", "hosted_in", "datasets"}, only_set=only_set), loc, label=f"system {system.id}")
    if (not only_set or "hosted_in" in system.model_fields_set) and row.source == writer.source:
        if writer.links(SystemLocation, "system_id", system.id, "location_id", system.hosted_in):
            writer.links_changed(f"system {system.id}")
    for d_index, dataset in enumerate(system.datasets):
        d_loc = (*loc, "datasets", d_index)
        dataset_row = writer.upsert(
            Dataset, {"system_id": row.id, "name": dataset.name}, _values(dataset, exclude={"name", "fields"}, only_set=only_set), d_loc,
            label=f"dataset {system.id}.{dataset.name}",
        )
        for f_index, spec_field in enumerate(dataset.fields):
            writer.upsert(
                DataField, {"dataset_id": dataset_row.id, "name": spec_field.name}, _values(spec_field, exclude={"name"}, only_set=only_set),
                (*d_loc, "fields", f_index), label=f"field {system.id}.{dataset.name}.{spec_field.name}",
            )
        writer.retire(DataField, DataField.dataset_id == dataset_row.id)
    writer.retire(Dataset, Dataset.system_id == row.id)


def _dataset_id(session: Session, system_id: str, name: str | None) -> int | None:
    if name is None:
        return None
    return session.exec(select(Dataset.id).where(Dataset.system_id == system_id, Dataset.name == name)).first()


def _field_id(session: Session, ref: FieldRef) -> int:
    statement = (
        select(DataField.id).join(Dataset, DataField.dataset_id == Dataset.id)
        .where(Dataset.system_id == ref.system, Dataset.name == ref.dataset, DataField.name == ref.field)
    )
    ident = session.exec(statement).first()
    if ident is None:
        raise ReferenceErrors([ReferenceProblem(("field_lineage",), f"no field {ref.path} in the catalogue")])
    return ident


def _retire_contents_of_retired_systems(writer: _Writer) -> None:
    """A retired system's datasets and fields are retired with it, by the same run."""
    run_id = writer.result.run.id
    retired_systems = select(System.id).where(System.retired_run_id == run_id)
    writer.retire(Dataset, Dataset.system_id.in_(retired_systems), entry_of=lambda row: ("system", row.system_id))
    retired_datasets = select(Dataset.id).where(Dataset.retired_run_id == run_id)
    writer.retire(DataField, DataField.dataset_id.in_(retired_datasets), entry_of=lambda row: None)


def _existing_ids(session: Session) -> dict[str, set[str]]:
    """Ids of current entries, so a partial spec (one system from the form) may reference them."""
    def ids(model) -> set[str]:
        return set(session.exec(select(model.id).where(model.retired_run_id.is_(None))).all())

    return {
        "locations": ids(Location), "systems": ids(System), "parties": ids(Party),
        "activities": ids(ProcessingActivity),
    }


def _spec_entries(spec: CatalogSpec) -> list[EntryKey]:
    entries: list[EntryKey] = [("organisation", spec.organisation.id)] if spec.organisation else []
    entries += [("location", x.id) for x in spec.locations] + [("party", x.id) for x in spec.parties]
    entries += [("system", x.id) for x in spec.systems] + [("activity", x.id) for x in spec.activities]
    entries += [("flow", x.id) for x in spec.flows]
    return entries


def _record_history(session: Session, writer: _Writer, before: dict[EntryKey, dict], actor: str) -> None:
    """Append one ChangeEvent per touched entry whose document changed."""
    if not writer.touched:
        return
    after = entry_documents(session, writer.touched)
    now = utc_now()
    for key in sorted(writer.touched):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        action = "added" if old is None else "retired" if new is None else "updated"
        session.add(ChangeEvent(
            at=now, run_id=writer.result.run.id, actor=actor, source=writer.source,
            entry_kind=key[0], entry_id=key[1], action=action, before=old, after=new,
        ))
    session.flush()


def apply_spec(
    session: Session,
    spec: CatalogSpec,
    *,
    source: str,
    target: str = "",
    actor: str = "",
    source_refs: dict[Loc, str] | None = None,
    complete: bool = True,
) -> ApplyResult:
    """Write ``spec`` as one run of ``source`` in the caller's transaction.

    ``complete`` says the spec is everything this source knows (a manifest directory): entries it
    asserted before and no longer does are retired. The registration form applies a single system
    with ``complete=False``. Raises ReferenceErrors before writing anything when ids dangle.
    ``source_refs`` maps spec locations (as in pydantic error locs) to ``file:line`` strings.
    """
    problems = check_references(spec, existing=None if complete else _existing_ids(session))
    if problems:
        raise ReferenceErrors(problems)
    only_set = not is_manual(source)
    before = entry_documents(session, _spec_entries(spec) if not complete else None)
    run = IngestRun(source=source, target=target, actor=actor, started_at=utc_now(), status=RunStatus.SUCCEEDED.value)
    session.add(run)
    session.flush()
    result = ApplyResult(run=run)
    writer = _Writer(session, result, source, source_refs or {})

    def put(kind: str, model, ident: str, values: dict, loc: Loc) -> SQLModel:
        writer.entry = (kind, ident)
        return writer.upsert(model, ident, values, loc, label=f"{kind} {ident}")

    if spec.organisation is not None:
        put("organisation", Organisation, spec.organisation.id, _values(spec.organisation, exclude={"id"}, only_set=only_set), ("organisation",))
    for index, location in enumerate(spec.locations):
        put("location", Location, location.id, _values(location, exclude={"id"}, only_set=only_set), ("locations", index))
    positions = {p.id: i for i, p in enumerate(spec.parties)}
    for party in _parents_first(spec.parties):
        put("party", Party, party.id, _values(party, exclude={"id"}, rename={"parent": "parent_id"}, only_set=only_set), ("parties", positions[party.id]))
    for index, system in enumerate(spec.systems):
        _write_system(writer, index, system, only_set)
    for index, activity in enumerate(spec.activities):
        values = _values(activity, exclude={"id", "systems", "recipients"}, rename={"controller": "controller_id", "joint_controller": "joint_controller_id"}, only_set=only_set)
        row = put("activity", ProcessingActivity, activity.id, values, ("activities", index))
        if row.source == source:
            changed = writer.links(ActivitySystem, "activity_id", activity.id, "system_id", activity.systems)
            changed |= writer.links(ActivityRecipient, "activity_id", activity.id, "party_id", activity.recipients)
            if changed:
                writer.links_changed(f"activity {activity.id}")
    system_ids = {s.id for s in spec.systems}
    for index, flow in enumerate(spec.flows):
        to_system = flow.to in system_ids or session.get(System, flow.to) is not None
        values = _values(flow, exclude={"id", "from_system", "to", "activity", "from_dataset", "to_dataset"}, only_set=only_set)
        values.update(
            source_system_id=flow.from_system,
            target_system_id=flow.to if to_system else None,
            target_party_id=None if to_system else flow.to,
            activity_id=flow.activity,
            source_dataset_id=_dataset_id(session, flow.from_system, flow.from_dataset),
            target_dataset_id=_dataset_id(session, flow.to, flow.to_dataset) if to_system else None,
        )
        put("flow", Flow, flow.id, values, ("flows", index))
    writer.entry = None
    for index, lineage in enumerate(spec.field_lineage):
        key = {"source_field_id": _field_id(session, lineage.from_field), "target_field_id": _field_id(session, lineage.to_field)}
        writer.entry = ("system", lineage.to_field.system)
        writer.upsert(FieldLineage, key, {"transformation": lineage.transformation, "masking": lineage.masking}, ("field_lineage", index),
                      label=f"lineage {lineage.from_field.path} -> {lineage.to_field.path}")
    writer.entry = None

    if complete:
        for kind, model in (("flow", Flow), ("activity", ProcessingActivity), ("system", System), ("party", Party), ("location", Location), ("organisation", Organisation)):
            writer.retire(model, entry_of=lambda row, kind=kind: (kind, row.id))
        writer.retire(FieldLineage, entry_of=lambda row: None)
        system_of_dataset = lambda dataset_id: ("system", session.get(Dataset, dataset_id).system_id)  # noqa: E731
        writer.retire(Dataset, entry_of=lambda row: ("system", row.system_id))
        writer.retire(DataField, entry_of=lambda row: system_of_dataset(row.dataset_id))
        _retire_contents_of_retired_systems(writer)
    _record_history(session, writer, before, actor)
    run.added, run.updated, run.unchanged, run.retired, run.conflicts = result.added, result.updated, result.unchanged, result.retired, result.conflicts
    run.finished_at = utc_now()
    session.flush()
    return result
