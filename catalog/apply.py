"""Write a validated CatalogSpec into the store as one ingest run.

One run is one transaction (the caller's session): entries are added, updated or left unchanged
by comparing their content; entries this source asserted before and no longer reports are
retired with the run that retired them, never deleted. A re-run of the same input reports zero
changes.
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
    DataField,
    Dataset,
    Flow,
    IngestRun,
    Location,
    Organisation,
    Party,
    ProcessingActivity,
    System,
    SystemLocation,
)
from catalog.specs import CatalogSpec, ReferenceProblem, SystemSpec, check_references
from catalog.vocab import RunStatus

Loc = tuple[str | int, ...]


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
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.retired


def _now() -> datetime:
    return datetime.now(UTC)


class _Writer:
    """Upserts rows of one run, counting what changed."""

    def __init__(self, session: Session, result: ApplyResult, source: str, refs: dict[Loc, str]):
        self.session, self.result, self.source, self.refs = session, result, source, refs
        self.seen: dict[type, set[Any]] = {}
        self._last_unchanged = False

    def upsert(self, model: type[SQLModel], key: Any, values: dict[str, Any], loc: Loc, *, label: str) -> SQLModel:
        row = self.session.get(model, key) if not isinstance(key, dict) else self._find(model, key)
        self._last_unchanged = False
        provenance = {"source": self.source, "source_ref": self.refs.get(loc), "run_id": self.result.run.id}
        if row is None:
            row = model(**(key if isinstance(key, dict) else {}), **values, **provenance)
            if not isinstance(key, dict):
                setattr(row, _primary_key(model), key)
            self.session.add(row)
            self.result.added += 1
            self.result.changes.append(f"added {label}")
        else:
            differs = any(getattr(row, name) != value for name, value in values.items())
            if differs or row.retired_run_id is not None or row.source != self.source:
                for name, value in values.items():
                    setattr(row, name, value)
                row.retired_run_id, row.retired_at = None, None
                self.result.updated += 1
                self.result.changes.append(f"updated {label}")
            else:
                self.result.unchanged += 1
                self._last_unchanged = True
            for name, value in provenance.items():
                setattr(row, name, value)
        self.session.flush()
        self.seen.setdefault(model, set()).add(_identity(row))
        return row

    def links_changed(self, label: str) -> None:
        """Count the last upserted entry as updated because its links changed."""
        if self._last_unchanged:
            self.result.unchanged -= 1
            self.result.updated += 1
            self._last_unchanged = False
        self.result.changes.append(f"updated links of {label}")

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

    def retire(self, model: type[SQLModel], scope=None) -> None:
        """Retire current rows of this source that the run did not assert."""
        statement = select(model).where(model.source == self.source, model.retired_run_id.is_(None))
        if scope is not None:
            statement = statement.where(scope)
        seen = self.seen.get(model, set())
        for row in self.session.exec(statement).all():
            if _identity(row) not in seen:
                row.retired_run_id, row.retired_at = self.result.run.id, _now()
                self.result.retired += 1
                self.result.changes.append(f"retired {model.__tablename__} {_identity(row)}")
        self.session.flush()


def _primary_key(model: type[SQLModel]) -> str:
    return model.__table__.primary_key.columns.keys()[0]


def _identity(row: SQLModel) -> Any:
    return getattr(row, _primary_key(type(row)))


def _values(spec, *, exclude: set[str] = frozenset(), rename: dict[str, str] | None = None) -> dict[str, Any]:
    data = spec.model_dump(mode="json", exclude=set(exclude))
    for old, new in (rename or {}).items():
        data[new] = data.pop(old)
    return data


def _parents_first(parties) -> list:
    order = nx.DiGraph()
    order.add_nodes_from(p.id for p in parties)
    order.add_edges_from((p.parent, p.id) for p in parties if p.parent)
    by_id = {p.id: p for p in parties}
    return [by_id[ident] for ident in nx.topological_sort(order) if ident in by_id]


def _write_system(writer: _Writer, index: int, system: SystemSpec) -> None:
    loc = ("systems", index)
    row = writer.upsert(System, system.id, _values(system, exclude={"id", "hosted_in", "datasets"}), loc, label=f"system {system.id}")
    if writer.links(SystemLocation, "system_id", system.id, "location_id", system.hosted_in):
        writer.links_changed(f"system {system.id}")
    for d_index, dataset in enumerate(system.datasets):
        d_loc = (*loc, "datasets", d_index)
        dataset_row = writer.upsert(
            Dataset, {"system_id": row.id, "name": dataset.name}, _values(dataset, exclude={"name", "fields"}), d_loc,
            label=f"dataset {system.id}.{dataset.name}",
        )
        for f_index, spec_field in enumerate(dataset.fields):
            writer.upsert(
                DataField, {"dataset_id": dataset_row.id, "name": spec_field.name}, _values(spec_field, exclude={"name"}),
                (*d_loc, "fields", f_index), label=f"field {system.id}.{dataset.name}.{spec_field.name}",
            )
        writer.retire(DataField, DataField.dataset_id == dataset_row.id)
    writer.retire(Dataset, Dataset.system_id == row.id)


def _retire_contents_of_retired_systems(writer: _Writer) -> None:
    """A retired system's datasets and fields are retired with it, by the same run."""
    run_id = writer.result.run.id
    retired_systems = select(System.id).where(System.retired_run_id == run_id)
    writer.retire(Dataset, Dataset.system_id.in_(retired_systems))
    retired_datasets = select(Dataset.id).where(Dataset.retired_run_id == run_id)
    writer.retire(DataField, DataField.dataset_id.in_(retired_datasets))


def _existing_ids(session: Session) -> dict[str, set[str]]:
    """Ids of current entries, so a partial spec (one system from the form) may reference them."""
    def ids(model) -> set[str]:
        return set(session.exec(select(model.id).where(model.retired_run_id.is_(None))).all())

    return {
        "locations": ids(Location), "systems": ids(System), "parties": ids(Party),
        "activities": ids(ProcessingActivity),
    }


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
    run = IngestRun(source=source, target=target, actor=actor, started_at=_now(), status=RunStatus.SUCCEEDED.value)
    session.add(run)
    session.flush()
    result = ApplyResult(run=run)
    writer = _Writer(session, result, source, source_refs or {})

    if spec.organisation is not None:
        writer.upsert(Organisation, spec.organisation.id, _values(spec.organisation, exclude={"id"}), ("organisation",), label=f"organisation {spec.organisation.id}")
    for index, location in enumerate(spec.locations):
        writer.upsert(Location, location.id, _values(location, exclude={"id"}), ("locations", index), label=f"location {location.id}")
    positions = {p.id: i for i, p in enumerate(spec.parties)}
    for party in _parents_first(spec.parties):
        writer.upsert(Party, party.id, _values(party, exclude={"id"}, rename={"parent": "parent_id"}), ("parties", positions[party.id]), label=f"party {party.id}")
    for index, system in enumerate(spec.systems):
        _write_system(writer, index, system)
    for index, activity in enumerate(spec.activities):
        values = _values(activity, exclude={"id", "systems", "recipients"}, rename={"controller": "controller_id", "joint_controller": "joint_controller_id"})
        writer.upsert(ProcessingActivity, activity.id, values, ("activities", index), label=f"activity {activity.id}")
        changed = writer.links(ActivitySystem, "activity_id", activity.id, "system_id", activity.systems)
        changed |= writer.links(ActivityRecipient, "activity_id", activity.id, "party_id", activity.recipients)
        if changed:
            writer.links_changed(f"activity {activity.id}")
    system_ids = {s.id for s in spec.systems}
    for index, flow in enumerate(spec.flows):
        to_system = flow.to in system_ids or session.get(System, flow.to) is not None
        values = _values(flow, exclude={"id", "from_system", "to", "activity"})
        values.update(
            source_system_id=flow.from_system,
            target_system_id=flow.to if to_system else None,
            target_party_id=None if to_system else flow.to,
            activity_id=flow.activity,
        )
        writer.upsert(Flow, flow.id, values, ("flows", index), label=f"flow {flow.id}")

    if complete:
        for model in (Flow, ProcessingActivity, System, Party, Location, Organisation):
            writer.retire(model)
        _retire_contents_of_retired_systems(writer)
    run.added, run.updated, run.unchanged, run.retired = result.added, result.updated, result.unchanged, result.retired
    run.finished_at = _now()
    session.flush()
    return result
