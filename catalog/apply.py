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

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from operator import attrgetter
from typing import Any

import networkx as nx
from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, SQLModel, select

from catalog.models import (
    SEEN_ENTRY_MODELS,
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
from catalog.snapshot import EntryKey, NestedRows, _in_chunks, _mappings, entry_documents, read_values
from catalog.specs.problems import printable
from catalog.specs import (
    CatalogSpec,
    FieldRef,
    ReferenceProblem,
    SystemSpec,
    check_references,
)
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


@cache
def _primary_key(model: type[SQLModel]) -> str:
    return model.__table__.primary_key.columns.keys()[0]


def _identity(model: type[SQLModel], row) -> Any:
    return getattr(row, _primary_key(model))


#: Tables whose new rows are written with one executemany instead of one ORM object each: they
#: hold most of the rows of a large catalogue (a dbt project has a flow per model). Their rows are
#: _BulkRow objects; a change to one must be marked with _Writer.mark_dirty to be written.
BULK_INSERTED = frozenset({Dataset, DataField, Flow, FieldLineage})

#: Top-level entries, which remember the last run that reported them.
_SEEN_MODELS = frozenset(model for _kind, model in SEEN_ENTRY_MODELS)


@cache
def _column_defaults(model: type[SQLModel]) -> dict[str, Any]:
    """What the model would fill in for omitted attributes (a bulk insert bypasses the model)."""
    return {
        name: info.get_default(call_default_factory=True)
        for name, info in model.model_fields.items() if not info.is_required()
    }


@cache
def _generated_id(model: type[SQLModel]) -> bool:
    """Whether the database numbers new rows (the id is not the entry's own, like a flow's)."""
    return _natural_key(model) != (_primary_key(model),)


@cache
def _natural_key(model: type[SQLModel]) -> tuple[str, ...]:
    """The columns that identify a row of ``model`` within one catalogue."""
    return {
        Dataset: ("system_id", "name"),
        DataField: ("dataset_id", "name"),
        FieldLineage: ("source_field_id", "target_field_id"),
    }.get(model, (_primary_key(model),))


def _converted_column(values: Iterable[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """``convert`` applied to one column's values, once per distinct value where values repeat:
    NULLs, booleans and lists of plain strings (most rows share a few category lists)."""
    done: dict[Any, Any] = {}
    result = []
    for value in values:
        if value is None or value is True or value is False:
            key: Any = value
        elif type(value) is list and all(type(item) is str for item in value):
            key = tuple(value)
        else:
            result.append(convert(value))
            continue
        if key not in done:
            done[key] = convert(value)
        result.append(done[key])
    return result


def insert_many(session: Session, table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """INSERT ``rows`` (values in ``columns`` order) with the driver's executemany, in the session's
    transaction: SQLAlchemy's executemany builds a parameter dict per row, which costs more than
    the insert itself. The rows are turned into columns, each converted by its type's own bind
    conversion (JSON, booleans, times), and back into the driver's parameters."""
    connection = session.connection()
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=columns)
    by_name = dict(zip(columns, zip(*rows), strict=False))
    if not by_name:
        return
    for name in columns:
        convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            by_name[name] = _converted_column(by_name[name], convert)
    if compiled.positional:  # SQLite: tuples in the statement's parameter order
        parameters: list = list(zip(*[by_name[name] for name in compiled.positiontup]))
    else:
        parameters = [dict(zip(columns, values)) for values in zip(*[by_name[name] for name in columns])]
    with closing(connection.connection.cursor()) as cursor:
        cursor.executemany(str(compiled), parameters)


def _same_facts(kept: Any, reported: Any) -> bool:
    """Whether two values state the same: lists of keys or measures in another order do (a
    spreadsheet lists categories alphabetically, a manifest in the order written)."""
    if isinstance(kept, list) and isinstance(reported, list) and all(isinstance(item, str) for item in (*kept, *reported)):
        return sorted(kept) == sorted(reported)
    return kept == reported


class _BulkRow:
    """A row of a bulk-inserted table: attribute access over the dict of its columns, which it
    takes as its own (no copy; ``vars(row)`` is that dict)."""

    __slots__ = ("__dict__",)

    def __init__(self, columns: dict[str, Any]):
        self.__dict__ = columns


class _Writer:
    """Upserts rows of one run, counting what changed and which entries were touched.

    Each table is read once, on first use, into a cache keyed by its natural key; rows are then
    compared and changed in memory and written by a few flushes, not one query per row.
    """

    def __init__(self, session: Session, result: ApplyResult, source: str, refs: Mapping[Loc, str]):
        self.session, self.result, self.source, self.refs = session, result, source, refs
        self.seen: dict[type, set[Any]] = {}
        self.touched: set[EntryKey] = set()
        self.entry: EntryKey | None = None
        self._counted_unchanged: set[int] = set()
        self._rows: dict[type, dict[tuple, SQLModel]] = {}
        self._pending: dict[type, list[_BulkRow]] = {}
        self._dirty: dict[type, dict[int, _BulkRow]] = {}
        self._links: dict[type, dict[str, list[SQLModel]]] = {}

    def source_ref(self, loc: Loc) -> str | None:
        """Where the input said what is at ``loc`` (``file:line``), as it can be stored: a file
        name's bytes that are not UTF-8 are escaped."""
        ref = self.refs.get(loc)
        return None if ref is None else printable(ref)

    def rows(self, model: type[SQLModel]) -> dict[tuple, SQLModel]:
        """Every row of ``model`` by natural key, read once per run."""
        if model not in self._rows:
            columns = _natural_key(model)
            if model in BULK_INSERTED:
                loaded = [_BulkRow(mapping) for mapping in _mappings(self.session, select(model.__table__))]
            else:
                loaded = self.session.exec(select(model)).all()
            self._rows[model] = {tuple(getattr(row, c) for c in columns): row for row in loaded}
        return self._rows[model]

    def nested_rows(self) -> NestedRows | None:
        """Every dataset and field row as the database now holds them (after write_dirty), for
        the documents of the history; None when this run did not read them."""
        if Dataset not in self._rows or DataField not in self._rows or any(self._pending.values()) or any(self._dirty.values()):
            return None
        return [vars(row) for row in self._rows[Dataset].values()], [vars(row) for row in self._rows[DataField].values()]

    def mark_dirty(self, model: type[SQLModel], row) -> None:
        if model in BULK_INSERTED and row.id is not None:
            self._dirty.setdefault(model, {})[row.id] = row

    def find(self, model: type[SQLModel], key: Any) -> SQLModel | None:
        natural = tuple(key[c] for c in _natural_key(model)) if isinstance(key, dict) else (key,)
        return self.rows(model).get(natural)

    def upsert(self, model: type[SQLModel], key: Any, values: dict[str, Any], loc: Loc, *, label: str) -> SQLModel:
        """Insert or update one row; returns the row (the existing one when another source owns it).
        Called once per field of a large catalogue: kept to plain lookups."""
        natural = tuple([key[c] for c in _natural_key(model)]) if isinstance(key, dict) else (key,)
        table_rows = self.rows(model)
        row = table_rows.get(natural)
        source = self.source
        if row is None:
            identity = key if isinstance(key, dict) else {_primary_key(model): key}
            run_id = self.result.run.id
            seen_run = {"last_seen_run_id": run_id} if model in _SEEN_MODELS else {}  # written now, not updated by _mark_seen
            if model in BULK_INSERTED:
                row = _BulkRow({**_column_defaults(model), **identity, **values, **seen_run, "source": source, "source_ref": self.source_ref(loc), "run_id": run_id})
                if _generated_id(model):
                    row.id = None
                self._pending.setdefault(model, []).append(row)
            else:
                row = model(**identity, **values, **seen_run, source=source, source_ref=self.source_ref(loc), run_id=run_id)
                self.session.add(row)
            table_rows[natural] = row
            self._count("added", label)
        elif row.retired_run_id is None and row.source != source and not is_manual(source):
            self._report_conflicts(model, row, values, label)
            self._counted_unchanged.add(id(row))
            self.result.unchanged += 1
        elif row.retired_run_id is not None or row.source != source or any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.source, row.source_ref, row.run_id = source, self.source_ref(loc), self.result.run.id
            row.retired_run_id, row.retired_at = None, None
            self.mark_dirty(model, row)
            self._count("updated", label)
        else:  # unchanged rows keep the run that asserted their current content
            self.result.unchanged += 1
            self._counted_unchanged.add(id(row))
        seen = self.seen.get(model)
        if seen is None:
            seen = self.seen[model] = set()
        seen.add(id(row))
        return row

    def insert_pending(self) -> None:
        """Write the new rows of the bulk-inserted tables with one executemany each, and give the
        placeholders their ids (read back by natural key, unique per table), so later steps can
        key on them."""
        self.session.flush()
        for model, rows in self._pending.items():
            if not rows:
                continue
            table, generated = model.__table__, _generated_id(model)
            columns = [column.key for column in table.columns if column.key != "id" or not generated]
            insert_many(self.session, table, columns, map(attrgetter(*columns), rows))
            if generated:
                natural = _natural_key(model)
                by_key = {}
                for condition in _in_chunks(table.c[natural[0]], sorted({getattr(row, natural[0]) for row in rows})):
                    statement = select(*[table.c[c] for c in natural], table.c.id).where(condition)
                    by_key.update((tuple(values[:-1]), values[-1]) for values in read_values(self.session, statement, shared=True))
                key_of = attrgetter(*natural)
                for row in rows:
                    row.id = by_key[key_of(row) if len(natural) > 1 else (key_of(row),)]
            rows.clear()

    def write_dirty(self) -> None:
        """Write changed rows of the bulk tables with one executemany per table."""
        for model, rows in self._dirty.items():
            if not rows:
                continue
            table = model.__table__
            columns = [c for c in table.columns.keys() if c != "id"]
            statement = update(table).where(table.c.id == bindparam("row_id")).values({c: bindparam(f"new_{c}") for c in columns})
            self.session.execute(statement, [{"row_id": row.id, **{f"new_{c}": getattr(row, c) for c in columns}} for row in rows.values()])
            rows.clear()

    def _count(self, what: str, label: str) -> None:
        if what == "added":
            self.result.added += 1
        else:
            self.result.updated += 1
        self.result.changes.append(f"{what} {label}")
        if self.entry:
            self.touched.add(self.entry)

    def _report_conflicts(self, model: type[SQLModel], row, values: dict[str, Any], label: str) -> None:
        """Keep the owner's values; record (or refresh) one open conflict per differing attribute."""
        table, ident = model.__tablename__, str(_identity(model, row))
        for name, reported in values.items():
            kept = getattr(row, name)
            if _same_facts(kept, reported):
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

    def links(self, model: type[SQLModel], owner_column: str, owner_id: str, other_column: str, others: Iterable[str]) -> bool:
        """Make the link rows of one owner exactly ``others``; True when they changed."""
        if model not in self._links:
            grouped: dict[str, list[SQLModel]] = {}
            for row in self.session.exec(select(model)).all():
                grouped.setdefault(getattr(row, owner_column), []).append(row)
            self._links[model] = grouped
        rows = self._links[model].setdefault(owner_id, [])
        wanted = set(others)
        existing = {getattr(row, other_column) for row in rows}
        if existing == wanted:
            return False
        for row in [r for r in rows if getattr(r, other_column) not in wanted]:
            self.session.delete(row)
            rows.remove(row)
        for other in sorted(wanted - existing):
            link = model(**{owner_column: owner_id, other_column: other})
            self.session.add(link)
            rows.append(link)
        return True

    def links_changed(self, row: SQLModel, label: str) -> None:
        """Count ``row`` as updated, not unchanged, because its links changed."""
        if id(row) in self._counted_unchanged:
            self._counted_unchanged.discard(id(row))
            self.result.unchanged -= 1
            self.result.updated += 1
        self.result.changes.append(f"updated links of {label}")
        if self.entry:
            self.touched.add(self.entry)

    def retire(self, model: type[SQLModel], scope: Callable[[SQLModel], bool] | None = None, entry_of=None, *, any_source: bool = False) -> None:
        """Retire current rows of this source (of any source with ``any_source``), within
        ``scope``, that the run did not assert."""
        seen = self.seen.get(model, set())
        now = utc_now()
        for row in list(self.rows(model).values()):
            if (row.source != self.source and not any_source) or row.retired_run_id is not None or id(row) in seen:
                continue
            if scope is not None and not scope(row):
                continue
            row.retired_run_id, row.retired_at = self.result.run.id, now
            self.result.retired += 1
            self.result.changes.append(f"retired {model.__tablename__} {_identity(model, row)}")
            self.mark_dirty(model, row)
            entry = entry_of(row) if entry_of else self.entry
            if entry:
                self.touched.add(entry)


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


def _write_systems(writer: _Writer, systems: list[SystemSpec], only_set: bool, complete: bool) -> None:
    """Systems, then their hosting, datasets and fields, one flush per level so every foreign key
    points at a row already written (the unit of work does not order tables by foreign keys)."""
    rows = []
    for index, system in enumerate(systems):
        writer.entry = ("system", system.id)
        rows.append(writer.upsert(System, system.id, _values(system, exclude={"id", "hosted_in", "datasets"}, only_set=only_set), ("systems", index), label=f"system {system.id}"))
    writer.session.flush()
    for system, row in zip(systems, rows, strict=True):
        writer.entry = ("system", system.id)
        if (not only_set or "hosted_in" in system.model_fields_set) and row.source == writer.source:
            if writer.links(SystemLocation, "system_id", system.id, "location_id", system.hosted_in):
                writer.links_changed(row, f"system {system.id}")
    # Each system's datasets and fields as plain values in one dump (a dump per field costs more than the write)
    dumps = [system.model_dump(mode="json", include={"datasets"}, exclude_unset=only_set).get("datasets", []) for system in systems]
    fields = [[dataset.pop("fields", []) for dataset in datasets] for datasets in dumps]
    dataset_rows: list[list[Dataset]] = []
    for index, (system, datasets) in enumerate(zip(systems, dumps, strict=True)):
        writer.entry = ("system", system.id)
        dataset_rows.append([
            writer.upsert(
                Dataset, {"system_id": system.id, "name": dataset.pop("name")}, dataset,
                ("systems", index, "datasets", d_index), label=f"dataset {system.id}.{system.datasets[d_index].name}",
            )
            for d_index, dataset in enumerate(datasets)
        ])
    writer.insert_pending()  # new datasets get their ids, which their fields are keyed on
    for index, system in enumerate(systems):
        writer.entry = ("system", system.id)
        for d_index, (dataset_fields, dataset_row) in enumerate(zip(fields[index], dataset_rows[index], strict=True)):
            prefix = f"field {system.id}.{dataset_row.name}."
            for f_index, values in enumerate(dataset_fields):
                name = values.pop("name")
                writer.upsert(
                    DataField, {"dataset_id": dataset_row.id, "name": name}, values,
                    ("systems", index, "datasets", d_index, "fields", f_index), label=prefix + name,
                )
        if not complete:  # a complete run retires every unseen row of its source once, at the end
            dataset_ids = {dataset_row.id for dataset_row in dataset_rows[index]}
            writer.retire(DataField, lambda field_row, ids=dataset_ids: field_row.dataset_id in ids)
            writer.retire(Dataset, lambda dataset_row, system_id=system.id: dataset_row.system_id == system_id)
    writer.entry = None
    writer.insert_pending()


def _dataset_id(writer: _Writer, system_id: str, name: str | None) -> int | None:
    if name is None:
        return None
    row = writer.find(Dataset, {"system_id": system_id, "name": name})
    return row.id if row is not None else None


def _field_id(writer: _Writer, ref: FieldRef) -> int:
    dataset_id = _dataset_id(writer, ref.system, ref.dataset)
    row = writer.find(DataField, {"dataset_id": dataset_id, "name": ref.field}) if dataset_id is not None else None
    if row is None:
        raise ReferenceErrors([ReferenceProblem(("field_lineage",), f"no field {ref.path} in the catalogue")])
    return row.id


def _mark_seen(writer: _Writer) -> None:
    """Top-level entries this run reported remember it, whoever owns them."""
    run_id = writer.result.run.id
    for _kind, model in SEEN_ENTRY_MODELS:
        seen = writer.seen.get(model, set())
        if not seen:
            continue
        for row in writer.rows(model).values():
            if id(row) in seen and row.last_seen_run_id != run_id:
                row.last_seen_run_id = run_id
                writer.mark_dirty(model, row)


def _retire_unseen_nested(writer: _Writer) -> None:
    """After a complete run: unseen datasets and fields of this source are retired."""
    writer.retire(Dataset, entry_of=lambda row: ("system", row.system_id))
    datasets = {row.id: row for row in writer.rows(Dataset).values()}
    writer.retire(DataField, entry_of=lambda row: ("system", datasets[row.dataset_id].system_id))


def _retire_left_out_of_listed_systems(writer: _Writer, listed: set[str]) -> None:
    """What the spec leaves out of the systems it lists is no longer true, whoever asserted it."""
    writer.retire(Dataset, lambda row: row.system_id in listed, entry_of=lambda row: ("system", row.system_id), any_source=True)
    datasets = {row.id: row for row in writer.rows(Dataset).values()}
    writer.retire(DataField, lambda row: datasets[row.dataset_id].system_id in listed,
                  entry_of=lambda row: ("system", datasets[row.dataset_id].system_id), any_source=True)
    writer.retire(Flow, lambda row: row.source_system_id in listed, entry_of=lambda row: ("flow", row.id), any_source=True)


def _retire_inside_retired(writer: _Writer) -> None:
    """Everything inside a system or dataset this run retired is retired with it, whoever
    asserted it: a field cannot be current in a table that is gone."""
    run_id, now = writer.result.run.id, utc_now()
    retired_systems = {key[0] for key, row in writer.rows(System).items() if row.retired_run_id == run_id}
    datasets = {row.id: row for row in writer.rows(Dataset).values()}
    for dataset in datasets.values():
        if dataset.system_id in retired_systems and dataset.retired_run_id is None:
            dataset.retired_run_id, dataset.retired_at = run_id, now
            writer.mark_dirty(Dataset, dataset)
    retired_datasets = {ident for ident, row in datasets.items() if row.retired_run_id == run_id}
    if not retired_datasets:
        return
    for item in writer.rows(DataField).values():
        if item.dataset_id in retired_datasets and item.retired_run_id is None:
            item.retired_run_id, item.retired_at = run_id, now
            writer.mark_dirty(DataField, item)


def existing_ids(session: Session, other_than_source: str | None = None) -> dict[str, set[str]]:
    """Ids of current entries a spec may reference without declaring them: all of them for a
    partial spec (one system from the form); for a complete run, those other sources own (its own
    undeclared entries are about to be retired, so they cannot be referenced)."""
    def ids(model) -> set[str]:
        statement = select(model.id).where(model.retired_run_id.is_(None))
        if other_than_source is not None:
            statement = statement.where(model.source != other_than_source)
        return set(session.exec(statement).all())

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
    after = entry_documents(session, writer.touched, nested=writer.nested_rows())
    now, run_id = utc_now(), writer.result.run.id
    events = []
    for key in sorted(writer.touched):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        action = "added" if old is None else "retired" if new is None else "updated"
        events.append([now, run_id, actor, writer.source, key[0], key[1], action, old, new])
    session.flush()
    if events:  # one executemany, in this order (event ids follow it), instead of an ORM object each
        insert_many(session, ChangeEvent.__table__, ["at", "run_id", "actor", "source", "entry_kind", "entry_id", "action", "before", "after"], events)


def apply_spec(
    session: Session,
    spec: CatalogSpec,
    *,
    source: str,
    target: str = "",
    actor: str = "",
    source_refs: Mapping[Loc, str] | None = None,
    complete: bool = True,
    replace_systems: bool = False,
) -> ApplyResult:
    """Write ``spec`` as one run of ``source`` in the caller's transaction.

    ``complete`` says the spec is everything this source knows (a manifest directory): entries it
    asserted before and no longer does are retired. The registration form applies a single system
    with ``complete=False`` and ``replace_systems``: the spec is then the whole truth about the
    systems it lists, so their datasets, fields and outgoing flows it leaves out are retired,
    whichever source asserted them. Raises ReferenceErrors before writing anything when ids dangle.
    ``source_refs`` maps spec locations (as in pydantic error locs) to ``file:line`` strings.
    """
    problems = check_references(spec, existing=existing_ids(session, other_than_source=source if complete else None))
    if problems:
        raise ReferenceErrors(problems)
    only_set = not is_manual(source)
    before_keys = None if complete else _spec_entries(spec)
    if replace_systems and before_keys is not None:
        listed = [system.id for system in spec.systems]
        before_keys += [("flow", ident) for ident in session.exec(select(Flow.id).where(Flow.source_system_id.in_(listed), Flow.retired_run_id.is_(None))).all()]
    before = entry_documents(session, before_keys)
    run = IngestRun(source=source, target=target, actor=actor, started_at=utc_now(), status=RunStatus.SUCCEEDED.value)
    session.add(run)
    session.flush()
    result = ApplyResult(run=run)
    writer = _Writer(session, result, source, {} if source_refs is None else source_refs)

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
    session.flush()
    _write_systems(writer, spec.systems, only_set, complete)
    activity_rows = []
    for index, activity in enumerate(spec.activities):
        values = _values(activity, exclude={"id", "systems", "recipients"}, rename={"controller": "controller_id", "joint_controller": "joint_controller_id"}, only_set=only_set)
        activity_rows.append(put("activity", ProcessingActivity, activity.id, values, ("activities", index)))
    session.flush()
    for activity, row in zip(spec.activities, activity_rows, strict=True):
        writer.entry = ("activity", activity.id)
        if row.source == source:
            changed = writer.links(ActivitySystem, "activity_id", activity.id, "system_id", activity.systems)
            changed |= writer.links(ActivityRecipient, "activity_id", activity.id, "party_id", activity.recipients)
            if changed:
                writer.links_changed(row, f"activity {activity.id}")
    system_ids = {s.id for s in spec.systems}
    for index, flow in enumerate(spec.flows):
        to_system = flow.to in system_ids or (flow.to,) in writer.rows(System)
        values = _values(flow, exclude={"id", "from_system", "to", "activity", "from_dataset", "to_dataset"}, only_set=only_set)
        values.update(
            source_system_id=flow.from_system,
            target_system_id=flow.to if to_system else None,
            target_party_id=None if to_system else flow.to,
            activity_id=flow.activity,
            source_dataset_id=_dataset_id(writer, flow.from_system, flow.from_dataset),
            target_dataset_id=_dataset_id(writer, flow.to, flow.to_dataset) if to_system else None,
        )
        put("flow", Flow, flow.id, values, ("flows", index))
    writer.entry = None
    writer.insert_pending()
    for index, lineage in enumerate(spec.field_lineage):
        key = {"source_field_id": _field_id(writer, lineage.from_field), "target_field_id": _field_id(writer, lineage.to_field)}
        writer.entry = ("system", lineage.to_field.system)
        writer.upsert(FieldLineage, key, {"transformation": lineage.transformation, "masking": lineage.masking}, ("field_lineage", index),
                      label=f"lineage {lineage.from_field.path} -> {lineage.to_field.path}")
    writer.entry = None
    writer.insert_pending()

    if replace_systems:
        _retire_left_out_of_listed_systems(writer, {system.id for system in spec.systems})
    if complete:
        for kind, model in (("flow", Flow), ("activity", ProcessingActivity), ("system", System), ("party", Party), ("location", Location), ("organisation", Organisation)):
            writer.retire(model, entry_of=lambda row, kind=kind: (kind, row.id))
        writer.retire(FieldLineage, entry_of=lambda row: None)
        _retire_unseen_nested(writer)
    _retire_inside_retired(writer)
    _mark_seen(writer)
    writer.write_dirty()
    session.flush()
    _record_history(session, writer, before, actor)
    run.added, run.updated, run.unchanged, run.retired, run.conflicts = result.added, result.updated, result.unchanged, result.retired, result.conflicts
    run.finished_at = utc_now()
    session.flush()
    return result
