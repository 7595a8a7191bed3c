"""The catalogue as spec documents: the shape of manifest YAML, one document per top-level entry.

Used for the change history (each change stores the entry's document before and after), for
reproducing the catalogue as it was at an earlier time, and for the JSON export. Documents
validate as :class:`catalog.specs.CatalogSpec` entries, so a snapshot round-trips.
"""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Iterable, Mapping
from contextlib import closing
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Session, select

from catalog.models import (
    ActivityRecipient,
    ActivitySystem,
    DataField,
    Dataset,
    Flow,
    Location,
    Organisation,
    Party,
    ProcessingActivity,
    System,
    SystemLocation,
)
from catalog.specs import ActivitySpec, FlowSpec, LocationSpec, OrganisationSpec, PartySpec, SystemSpec
from catalog.specs.system import DatasetSpec, FieldSpec

#: Section of CatalogSpec for each kind of top-level entry.
SECTIONS = {"organisation": "organisation", "location": "locations", "system": "systems", "party": "parties", "activity": "activities", "flow": "flows"}

EntryKey = tuple[str, str]


def _document(spec_class, row, rename: dict[str, str] | None = None, **extra) -> dict[str, Any]:
    """Columns of ``row`` (a mapping) that the spec knows, under the spec's YAML aliases, plus ``extra``."""
    values = {}
    for name, alias, column in _spec_columns(spec_class, tuple((rename or {}).items())):
        if name in extra:
            values[alias] = extra[name]
        elif column in row:
            values[alias] = row[column]
    return values


def _documents(spec_class, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``_document`` of each row, for rows that hold every column the spec knows (a table's full
    rows, as a system's fields are): the values picked in one step per row."""
    columns = _spec_columns(spec_class, ())
    aliases = [alias for _name, alias, _column in columns]
    names = [column for _name, _alias, column in columns]
    pick = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    try:
        return [dict(zip(aliases, pick(row))) for row in rows]
    except KeyError:  # a row without some column: the general way
        return [_document(spec_class, row) for row in rows]


@cache
def _spec_columns(spec_class, rename: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    """(attribute, YAML key, column) of each spec field, worked out once per class: documents are built per field."""
    renamed = dict(rename)
    return tuple((name, field.alias or name, renamed.get(name, name)) for name, field in spec_class.model_fields.items())


def _not_retired(model):
    """Current rows as plain mappings: snapshots read many rows and need no ORM objects."""
    return select(model.__table__).where(model.__table__.c.retired_run_id.is_(None))


def read_values(session: Session, statement, *, shared: bool) -> list[list[Any]]:
    """The rows of ``statement`` as lists of converted values, read through the driver's cursor:
    at a million rows SQLAlchemy's row objects cost as much as the read itself. Each column gets
    its type's own result conversion; JSON text is decoded once per distinct value (most rows share
    a few category lists) and then either ``shared`` between rows, frozen (lists become tuples), or
    copied for each row."""
    connection = session.connection()
    dialect = connection.dialect
    converters = [_converter(column.type, dialect, shared=shared) for column in statement.selected_columns]
    converted = [(index, convert) for index, convert in enumerate(converters) if convert is not None]
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if "%" in sql and dialect.paramstyle in ("format", "pyformat"):  # literals with doubled percent signs: let SQLAlchemy run it
        return [[_frozen(value) if shared else value for value in row] for row in session.execute(statement)]
    with closing(connection.connection.cursor()) as cursor:
        cursor.execute(sql)
        raw_rows = cursor.fetchall()
    rows = []
    for raw in raw_rows:
        values = list(raw)
        for index, convert in converted:
            if values[index] is not None:  # NULL stays None under every conversion; most are NULL (retired_at)
                values[index] = convert(values[index])
        rows.append(values)
    return rows


def _mappings(session: Session, statement) -> list[dict[str, Any]]:
    """Rows as plain dicts, each with its own copies of JSON values: documents test and read each
    column (which a RowMapping makes slow) and may be changed by their reader."""
    keys = [column.key for column in statement.selected_columns]
    return [dict(zip(keys, values, strict=True)) for values in read_values(session, statement, shared=False)]


def _frozen(value: Any) -> Any:
    """A JSON list as a tuple, so one decoded value can be shared by many read-only rows."""
    return tuple(value) if isinstance(value, list) else value


def _copied(value: Any) -> Any:
    """A copy of decoded JSON, as deep as its lists and mappings go."""
    if isinstance(value, list):
        return [_copied(item) for item in value] if any(isinstance(item, (list, dict)) for item in value) else value.copy()
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    return value


def _converter(column_type, dialect, *, shared: bool):
    """The column's result conversion (None when there is none). JSON is decoded once per distinct
    text (on SQLite; PostgreSQL's driver decodes it), then frozen and shared, or copied per row."""
    convert = column_type.dialect_impl(dialect).result_processor(dialect, None)
    if not isinstance(column_type, JSON):
        return convert
    decode_text = convert or json.loads
    decoded: dict[str, Any] = {}

    def decode(value: Any) -> Any:
        if not isinstance(value, str):  # None, or already decoded by the driver
            return _frozen(value) if shared else value
        if value not in decoded:
            loaded = decode_text(value)
            decoded[value] = _frozen(loaded) if shared else loaded
        return decoded[value] if shared else _copied(decoded[value])

    return decode


@cache
def _row_type(model) -> type:
    """A named tuple per table: attribute access like the model, a fraction of an ORM object's cost."""
    return namedtuple(f"{model.__name__}Row", [column.name for column in model.__table__.columns])


def current_rows(session: Session, model) -> list:
    """Current rows of a large table as read-only named tuples: the graph, the rules and the record
    read every field. JSON lists are tuples, shared between the rows that hold the same list."""
    statement = select(*model.__table__.columns).where(model.__table__.c.retired_run_id.is_(None))
    make = _row_type(model)._make
    return [make(values) for values in read_values(session, statement, shared=True)]


def _in_chunks(column, values: list, size: int = 5000):
    """IN-list conditions of at most ``size`` values (SQLite limits bound parameters)."""
    return [column.in_(values[start:start + size]) for start in range(0, len(values), size)] or [column.in_([])]


def _rows_where(session: Session, model, column, values: list | None, order_by) -> list:
    """Current rows of ``model``, all of them or those whose ``column`` is in ``values``, sorted in
    Python (SQLite and PostgreSQL collate '-' and '_' differently; documents must not differ)."""
    if values is None:
        rows = _mappings(session, _not_retired(model))
    else:
        rows = []
        for condition in _in_chunks(column, values):
            rows += _mappings(session, _not_retired(model).where(condition))
    return sorted(rows, key=lambda row: row[order_by.key])


#: Every dataset row and every field row, current or retired, as mappings holding what the
#: database now holds: what a writer has in memory, so documents need not read them back.
NestedRows = tuple[Iterable[Mapping[str, Any]], Iterable[Mapping[str, Any]]]


def _current_in(rows: Iterable[Mapping[str, Any]], column: str, wanted: set | None, order_by: str) -> list[Mapping[str, Any]]:
    """Current rows whose ``column`` is in ``wanted`` (all current rows when None), sorted as _rows_where sorts."""
    found = [row for row in rows if row["retired_run_id"] is None and (wanted is None or row[column] in wanted)]
    return sorted(found, key=lambda row: row[order_by])


def _system_documents(session: Session, ids: list[str] | None, nested: NestedRows | None = None) -> dict[EntryKey, dict]:
    systems = _rows_where(session, System, System.__table__.c.id, ids, System.__table__.c.id)
    wanted = None if ids is None else [row["id"] for row in systems]
    hosting: dict[str, list[str]] = {}
    links = select(SystemLocation.__table__)
    for condition in ([True] if wanted is None else _in_chunks(SystemLocation.__table__.c.system_id, wanted)):
        for link in _mappings(session, links.where(condition)):
            hosting.setdefault(link["system_id"], []).append(link["location_id"])
    datasets: dict[str, list] = {}
    if nested is None:
        dataset_rows = _rows_where(session, Dataset, Dataset.__table__.c.system_id, wanted, Dataset.__table__.c.name)
    else:
        dataset_rows = _current_in(nested[0], "system_id", None if wanted is None else set(wanted), "name")
    for dataset in dataset_rows:
        datasets.setdefault(dataset["system_id"], []).append(dataset)
    dataset_ids = None if wanted is None else [d["id"] for group in datasets.values() for d in group]
    if nested is None:
        field_rows = _rows_where(session, DataField, DataField.__table__.c.dataset_id, dataset_ids, DataField.__table__.c.name)
    else:
        field_rows = _current_in(nested[1], "dataset_id", None if dataset_ids is None else set(dataset_ids), "name")
    fields: dict[int, list] = {}
    for item in field_rows:
        fields.setdefault(item["dataset_id"], []).append(item)
    documents = {}
    for system in systems:
        dataset_docs = [
            _document(DatasetSpec, dataset, fields=_documents(FieldSpec, fields.get(dataset["id"], [])))
            for dataset in datasets.get(system["id"], [])
        ]
        documents[("system", system["id"])] = _document(SystemSpec, system, hosted_in=sorted(hosting.get(system["id"], [])), datasets=dataset_docs)
    return documents


def _links(session: Session, model, column: str, ids: list[str]) -> dict[str, list[str]]:
    links: dict[str, list[str]] = {}
    for condition in _in_chunks(model.__table__.c.activity_id, ids):
        for link in _mappings(session, select(model.__table__).where(condition)):
            links.setdefault(link["activity_id"], []).append(link[column])
    return {key: sorted(values) for key, values in links.items()}


def entry_documents(session: Session, keys: Iterable[EntryKey] | None = None, *, nested: NestedRows | None = None) -> dict[EntryKey, dict]:
    """Documents of current entries; all of them, or only ``keys`` (kind, id). ``nested`` gives
    every dataset and field row instead of reading them (see NestedRows); the documents are the same."""
    wanted: dict[str, list[str]] | None = None
    if keys is not None:
        wanted = {}
        for kind, ident in sorted(set(keys)):
            wanted.setdefault(kind, []).append(ident)

    def rows(model, kind):
        if wanted is not None and kind not in wanted:
            return []
        table = model.__table__
        return _rows_where(session, model, table.c.id, None if wanted is None else wanted[kind], table.c.id)

    documents: dict[EntryKey, dict] = {}
    for row in rows(Organisation, "organisation"):
        documents[("organisation", row["id"])] = _document(OrganisationSpec, row)
    for row in rows(Location, "location"):
        documents[("location", row["id"])] = _document(LocationSpec, row)
    for row in rows(Party, "party"):
        documents[("party", row["id"])] = _document(PartySpec, row, {"parent": "parent_id"})
    if wanted is None or "system" in wanted:
        documents.update(_system_documents(session, None if wanted is None else wanted["system"], nested))
    activities = rows(ProcessingActivity, "activity")
    ids = [a["id"] for a in activities]
    systems, recipients = _links(session, ActivitySystem, "system_id", ids), _links(session, ActivityRecipient, "party_id", ids)
    for row in activities:
        documents[("activity", row["id"])] = _document(
            ActivitySpec, row, {"controller": "controller_id", "joint_controller": "joint_controller_id"},
            systems=systems.get(row["id"], []), recipients=recipients.get(row["id"], []),
        )
    flows = rows(Flow, "flow")
    names = _dataset_names(session, {row[end] for row in flows for end in ("source_dataset_id", "target_dataset_id")} - {None})
    for row in flows:
        documents[("flow", row["id"])] = _document(
            FlowSpec, row, {"activity": "activity_id"}, from_system=row["source_system_id"],
            to=row["target_system_id"] or row["target_party_id"],
            from_dataset=names.get(row["source_dataset_id"]), to_dataset=names.get(row["target_dataset_id"]),
        )
    return documents


def _dataset_names(session: Session, dataset_ids: set[int]) -> dict[int, str]:
    """Names of the datasets flows name, in one query per chunk rather than one per flow end."""
    table = Dataset.__table__
    names: dict[int, str] = {}
    for condition in _in_chunks(table.c.id, sorted(dataset_ids)):
        names.update((ident, name) for ident, name in session.execute(select(table.c.id, table.c.name).where(condition)))
    return names


def field_lineage_documents(session: Session) -> list[dict[str, Any]]:
    """Current field-level lineage as ``field_lineage`` entries ({from, to} by system, dataset, field)."""
    from catalog.models import FieldLineage

    datasets = {row["id"]: row for row in _mappings(session, _not_retired(Dataset))}
    fields = {row["id"]: row for row in _mappings(session, _not_retired(DataField)) if row["dataset_id"] in datasets}

    def ref(field_id: int) -> dict[str, str] | None:
        item = fields.get(field_id)
        if item is None:
            return None
        dataset = datasets[item["dataset_id"]]
        return {"system": dataset["system_id"], "dataset": dataset["name"], "field": item["name"]}

    documents = []
    for row in _mappings(session, _not_retired(FieldLineage)):
        source, target = ref(row["source_field_id"]), ref(row["target_field_id"])
        if source and target:
            documents.append({"from": source, "to": target, "transformation": row["transformation"], "masking": row["masking"]})
    return sorted(documents, key=lambda d: (tuple(d["from"].values()), tuple(d["to"].values())))


def catalog_document(documents: dict[EntryKey, dict], field_lineage: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Documents grouped into one CatalogSpec-shaped mapping, in a stable order."""
    result: dict[str, Any] = {"organisation": None, **{section: [] for kind, section in SECTIONS.items() if kind != "organisation"}}
    for (kind, _ident), document in sorted(documents.items()):
        if kind == "organisation":
            result["organisation"] = document
        else:
            result[SECTIONS[kind]].append(document)
    result["field_lineage"] = list(field_lineage or [])
    return result
