"""The ``database`` source: discover a database's tables and columns and suggest their personal-data categories.

Any SQLAlchemy URL works; SQLite is built in, PostgreSQL uses psycopg, MySQL needs the optional
pymysql driver (``pip install ropa-catalog[mysql]``). Schemas, tables, views, columns, types,
comments, primary and foreign keys are read with ``sqlalchemy.inspect``; datasets are named
``schema.table`` (plain ``table`` for SQLite's main schema) and foreign keys become field-level
lineage (``foreign_key``) from the referenced column to the referencing one.

The database belongs to a system already in the catalogue (registered by a manifest). The run
asserts only that system's datasets and fields, without categories; each column's category is a
*suggestion* (catalog.suggestions) until a person confirms or rejects it. Values are sampled
(at most ``sample_rows`` per table) in memory only: the catalogue keeps evidence (recogniser,
share matched, sample size, name tokens), never a value. Credentials in the URL are masked in
every message and never stored.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import URL, Connection, Engine, Inspector, make_url
from sqlalchemy.engine.reflection import ObjectKind
from sqlmodel import Session, select

from catalog.apply import ApplyResult
from catalog.models import DataField, Dataset, System
from catalog.specs import CatalogSpec, DatasetSpec, FieldLineageSpec, FieldRef, FieldSpec, SystemSpec
from catalog.store import Catalog, hide_secrets, mask_url, sqlite_url_for
from catalog.suggest import nearest
from catalog.suggestions import SuggestionInput, record_field_suggestions
from ingest.base import IngestReport, Source, SourceConfig, apply_and_report
from ingest.classification import TypeFamily, classify_column
from ingest.classification.recognisers import MAX_VALUE_LENGTH
from ingest.errors import IngestError, LocatedError

SOURCE_NAME = "database"
DEFAULT_SAMPLE_ROWS = 200
MAX_SAMPLE_ROWS = 10_000
DEFAULT_MAX_TABLES = 10_000
CONNECT_TIMEOUT_SECONDS = 15
MAX_SOURCE_LENGTH = 40  # IngestRun.source and the provenance columns
FOREIGN_KEY = "foreign_key"
MYSQL_EXTRA_HINT = "pip install 'ropa-catalog[mysql]'"
MYSQL_DRIVER_INSTALLED = importlib.util.find_spec("pymysql") is not None
#: Schemas of the database's own machinery, never discovered unless named with --schemas.
SYSTEM_SCHEMAS = frozenset({
    "information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys",
})
#: Column lengths of the catalogue (catalog.models): longer names cannot be stored.
MAX_NAME_LENGTH = 300
MAX_DATA_TYPE_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 4000
#: URL drivers used when a URL names only the database kind.
DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "mysql": "mysql+pymysql"}


def source_name(system_id: str) -> str:
    """``database:<system>``: each system's discovery retires only what it asserted itself.

    System ids may be longer than the 40 characters a source name may have; those are shortened
    with a hash so two long ids never share a scope.
    """
    name = f"{SOURCE_NAME}:{system_id}"
    if len(name) <= MAX_SOURCE_LENGTH:
        return name
    digest = hashlib.sha256(system_id.encode()).hexdigest()[:8]
    return f"{SOURCE_NAME}:{system_id[:MAX_SOURCE_LENGTH - len(SOURCE_NAME) - 10]}~{digest}"


def _description() -> str:
    text = "Database discovery (any SQLAlchemy URL): tables, views, columns and foreign keys, with suggested personal-data categories."
    if not MYSQL_DRIVER_INSTALLED:
        text += f" MySQL URLs need `{MYSQL_EXTRA_HINT}` (pymysql is not installed); SQLite and PostgreSQL work."
    return text


# ---------------------------------------------------------------------------------------------
# Connecting


def _error(message: str, suggestion: str | None = None, *, hint: str | None = None) -> IngestError:
    return IngestError([LocatedError(message, suggestion=suggestion, hint=hint)])


def _scrub(text: str, url: URL | None, raw: str) -> str:
    """A driver message with the URL masked and its secrets (password, password-like query
    values, as written and encoded) replaced, first line only."""
    line = (text.strip().splitlines() or [""])[0]
    rendered = url.render_as_string(hide_password=False) if url is not None else ""
    line = hide_secrets(line, raw, rendered)
    if url is not None and url.password:
        password = str(url.password)
        for written in {password, quote(password, safe=""), quote_plus(password)}:
            line = line.replace(written, "***")
    return line


def _parse_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except Exception:  # noqa: BLE001 - any parse failure is the same user error
        as_sqlite = sqlite_url_for(raw)
        hint = f"for a SQLite file write {mask_url(as_sqlite)}" if as_sqlite else "write it as e.g. postgresql+psycopg://user@host/db or sqlite:///path/app.db"
        raise _error(f"not a database URL: {mask_url(raw)}", hint=hint) from None
    default = DEFAULT_DRIVERS.get(url.drivername)
    return url.set(drivername=default) if default else url


def _sqlite_engine(url: URL, shown: str) -> Engine:
    """SQLite opened read-only, and never created: a mistyped path is an error, not a new empty file."""
    database = url.database
    if not database or database == ":memory:":
        return sa.create_engine(url)
    path = Path(database)
    if not path.is_file():
        raise _error(f"cannot connect to {shown}: no such SQLite database file")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))


def open_engine(raw: str) -> tuple[Engine, str, URL]:
    """An engine for the URL, the URL as shown everywhere (credentials masked), and the parsed URL.

    IngestError when no engine can be made (bad URL, missing driver, missing SQLite file).
    """
    url = _parse_url(raw)
    shown = mask_url(url.render_as_string(hide_password=False))
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, shown), shown, url
    if backend == "mysql" and not MYSQL_DRIVER_INSTALLED:
        raise _error(f"cannot connect to {shown}: MySQL needs the pymysql driver", hint=f"install it with {MYSQL_EXTRA_HINT}")
    connect_args: dict[str, Any] = {}
    if backend in ("postgresql", "mysql"):
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    try:
        return sa.create_engine(url, connect_args=connect_args), shown, url
    except (ImportError, sa.exc.NoSuchModuleError) as error:
        raise _error(f"cannot connect to {shown}: no driver for '{url.drivername}' ({_scrub(str(error), url, raw)})") from None
    except sa.exc.ArgumentError as error:
        raise _error(f"not a usable database URL {shown}: {_scrub(str(error), url, raw)}") from None


# ---------------------------------------------------------------------------------------------
# Discovery


@dataclass
class DiscoveredColumn:
    name: str
    data_type: str | None
    family: str
    comment: str
    cut_in_database: bool = False  # plain text, cut with substr() when sampled (not enums: PostgreSQL has no substr for them)


@dataclass
class DiscoveredTable:
    schema: str | None  # as passed to the inspector (None: SQLite main / the default schema)
    name: str
    dataset: str  # name in the catalogue
    kind: str  # table, view or materialized view
    comment: str = ""
    columns: list[DiscoveredColumn] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[dict] = field(default_factory=list)


def type_family(column_type: Any) -> str:
    """What a declared type allows a column to hold, for classification."""
    if isinstance(column_type, sa.Boolean):
        return TypeFamily.BOOLEAN
    if isinstance(column_type, (sa.Date, sa.DateTime)):
        return TypeFamily.DATE
    if isinstance(column_type, (sa.Integer, sa.Numeric)):
        return TypeFamily.NUMBER
    if isinstance(column_type, sa.LargeBinary) or type(column_type).__name__.upper() in ("BYTEA", "BLOB", "BINARY", "VARBINARY"):
        return TypeFamily.BINARY
    if isinstance(column_type, (sa.String, sa.Enum)):
        return TypeFamily.TEXT
    return TypeFamily.OTHER


def _type_text(column_type: Any, engine: Engine) -> str | None:
    try:
        text = column_type.compile(dialect=engine.dialect)
    except Exception:  # noqa: BLE001 - a type the dialect cannot render (NullType): keep its class name
        text = type(column_type).__name__
        if text == "NullType":
            return None
    return str(text)[:MAX_DATA_TYPE_LENGTH].lower()


def _schemas(inspector: Inspector, engine: Engine, wanted: list[str]) -> list[str | None]:
    """Schemas to read as the inspector takes them: None for SQLite's main schema."""
    available = inspector.get_schema_names()
    if wanted:
        missing = [name for name in wanted if name not in available]
        if missing:
            raise _error(f"no schema '{missing[0]}' in the database", nearest(missing[0], available))
        chosen = list(wanted)
    elif engine.dialect.name == "mysql":
        chosen = [inspector.default_schema_name] if inspector.default_schema_name else []
    else:
        chosen = [name for name in available if name not in SYSTEM_SCHEMAS and not name.startswith(("pg_temp", "pg_toast"))]
    if engine.dialect.name == "sqlite":
        return [None if name == "main" else name for name in chosen]
    return chosen


def _dataset_name(schema: str | None, table: str) -> str:
    return table if schema is None else f"{schema}.{table}"


def _optional(method, default, **arguments):
    """An inspector call some dialects do not implement (comments on SQLite, materialised views)."""
    try:
        return method(**arguments)
    except NotImplementedError:
        return default


def _first_line(error: sa.exc.DBAPIError) -> str:
    return (str(error.orig).strip().splitlines() or [""])[0]


def _columns(connection: Connection, inspector: Inspector, schema: str | None, names: list[str], warnings: list[LocatedError]) -> dict:
    """Columns of every table and view of a schema; a view that cannot be read (its table was dropped) is skipped with a warning."""
    try:
        return inspector.get_multi_columns(schema=schema, kind=ObjectKind.ANY)
    except sa.exc.DBAPIError:
        connection.rollback()
    columns = {}
    for name in names:
        try:
            columns[(schema, name)] = inspector.get_columns(name, schema=schema)
        except sa.exc.DBAPIError as error:
            connection.rollback()
            warnings.append(LocatedError(f"skipped: its columns cannot be read ({_first_line(error)})", field_path=_dataset_name(schema, name)))
    return columns


def discover(connection: Connection, schemas: list[str], max_tables: int, warnings: list[LocatedError]) -> list[DiscoveredTable]:
    """Every table and view of the chosen schemas with columns, keys and comments, sorted by dataset name."""
    engine = connection.engine
    inspector = sa.inspect(connection)
    found: list[DiscoveredTable] = []
    for schema in _schemas(inspector, engine, schemas):
        tables = inspector.get_table_names(schema=schema)
        views = set(inspector.get_view_names(schema=schema))
        materialized = set(_optional(inspector.get_materialized_view_names, [], schema=schema))
        if len(found) + len(tables) + len(views) + len(materialized) > max_tables:
            raise _error(
                f"the database has more than {max_tables} {'table or view' if max_tables == 1 else 'tables and views'} in the schemas read",
                hint="name the schemas to read with --schemas, or raise --max-tables",
            )
        columns = _columns(connection, inspector, schema, [*tables, *sorted(views | materialized)], warnings)
        keys = inspector.get_multi_pk_constraint(schema=schema)
        foreign = inspector.get_multi_foreign_keys(schema=schema)
        comments = _optional(inspector.get_multi_table_comment, {}, schema=schema, kind=ObjectKind.ANY) \
            if engine.dialect.supports_comments else {}
        for (_, name), table_columns in columns.items():
            kind = "view" if name in views else "materialized view" if name in materialized else "table"
            table = DiscoveredTable(schema, name, _dataset_name(schema, name), kind)
            table.comment = ((comments.get((schema, name)) or {}).get("text") or "").strip()
            table.primary_key = list((keys.get((schema, name)) or {}).get("constrained_columns") or [])
            table.foreign_keys = list(foreign.get((schema, name)) or [])
            for column in table_columns:
                column_type = column["type"]
                table.columns.append(DiscoveredColumn(
                    column["name"], _type_text(column_type, engine), type_family(column_type), (column.get("comment") or "").strip(),
                    cut_in_database=isinstance(column_type, sa.String) and not isinstance(column_type, sa.Enum),
                ))
            if len(table.dataset) > MAX_NAME_LENGTH or any(len(c.name) > MAX_NAME_LENGTH for c in table.columns):
                warnings.append(LocatedError(f"skipped: a name is longer than {MAX_NAME_LENGTH} characters", field_path=table.dataset[:80]))
                continue
            found.append(table)
    return sorted(found, key=lambda table: table.dataset)


def sample_columns(connection: Connection, table: DiscoveredTable, rows: int) -> dict[str, list[object]]:
    """Up to ``rows`` values of every column that could hold personal data, in key order, kept in memory only.

    Text is cut to the recognisers' maximum length in the database, so a column of huge
    documents costs no more than a short one.
    """
    wanted = [c for c in table.columns if c.family not in (TypeFamily.BOOLEAN, TypeFamily.BINARY)]
    if not wanted or rows <= 0:
        return {}
    selected = [
        sa.func.substr(sa.column(c.name), 1, MAX_VALUE_LENGTH).label(f"c{i}") if c.cut_in_database else sa.column(c.name).label(f"c{i}")
        for i, c in enumerate(wanted)
    ]
    statement = sa.select(*selected).select_from(sa.table(table.name, schema=table.schema))
    order = [sa.column(name) for name in table.primary_key]
    if order:
        statement = statement.order_by(*order)
    result = connection.execute(statement.limit(rows)).fetchall()
    return {column.name: [row[i] for row in result] for i, column in enumerate(wanted)}


# ---------------------------------------------------------------------------------------------
# The spec


def _dataset_spec(table: DiscoveredTable) -> DatasetSpec:
    """Only what the database says: a description for views and commented tables, each field's type and comment."""
    values: dict[str, Any] = {"name": table.dataset, "fields": [_field_spec(column) for column in table.columns]}
    if table.kind != "table":
        values["description"] = f"A {table.kind}." + (f" {table.comment}" if table.comment else "")
    elif table.comment:
        values["description"] = table.comment
    if "description" in values:
        values["description"] = values["description"][:MAX_DESCRIPTION_LENGTH]
    return DatasetSpec(**values)


def _field_spec(column: DiscoveredColumn) -> FieldSpec:
    values: dict[str, Any] = {"name": column.name, "data_type": column.data_type}
    if column.comment:
        values["description"] = column.comment[:MAX_DESCRIPTION_LENGTH]
    return FieldSpec(**values)


def _lineage(system_id: str, tables: list[DiscoveredTable], default_schema: str | None, warnings: list[LocatedError]) -> list[FieldLineageSpec]:
    """Foreign keys as lineage inside the system: from the referenced column to the referencing one."""
    by_key = {(table.schema, table.name): table for table in tables}
    lineage: list[FieldLineageSpec] = []
    for table in tables:
        for foreign_key in table.foreign_keys:
            referred = None
            for schema in (foreign_key.get("referred_schema"), table.schema, default_schema):
                referred = by_key.get((schema, foreign_key["referred_table"]))
                if referred is not None:
                    break
            if referred is None:
                warnings.append(LocatedError(
                    f"foreign key to {foreign_key['referred_table']}, which is not among the tables read: no lineage recorded",
                    field_path=table.dataset,
                ))
                continue
            known = {column.name for column in referred.columns}
            for source_column, target_column in zip(foreign_key["referred_columns"], foreign_key["constrained_columns"], strict=False):
                if source_column not in known:
                    continue
                lineage.append(FieldLineageSpec(
                    from_field=FieldRef(system=system_id, dataset=referred.dataset, field=source_column),
                    to_field=FieldRef(system=system_id, dataset=table.dataset, field=target_column),
                    transformation=FOREIGN_KEY,
                ))
    return lineage


# ---------------------------------------------------------------------------------------------
# The run


def _existing_system(catalog: Catalog, system_id: str) -> System:
    with catalog.session() as session:
        current = session.exec(select(System).where(System.retired_run_id.is_(None))).all()
        by_id = {system.id: system for system in current}
        if system_id not in by_id:
            raise _error(
                f"system '{system_id}' is not in the catalogue: register it in a manifest first",
                nearest(system_id, by_id),
            )
        system = by_id[system_id]
        session.expunge(system)
        return system


@dataclass
class DiscoveryResult:
    tables: list[DiscoveredTable]
    suggestions: dict[tuple[str, str], list[SuggestionInput]]  # (dataset, field) -> at most one suggestion
    default_schema: str | None


def discover_and_classify(raw_url: str, *, sample_rows: int, schemas: list[str], max_tables: int, warnings: list[LocatedError]) -> tuple[DiscoveryResult, str]:
    """Read the database's structure and classify every column; the result and the masked URL."""
    engine, shown, url = open_engine(raw_url)
    step = "connect to"
    try:
        with engine.connect() as connection:
            step = "read"
            if engine.dialect.name == "postgresql":
                connection = connection.execution_options(postgresql_readonly=True)
            tables = discover(connection, schemas, max_tables, warnings)
            default_schema = None if engine.dialect.name == "sqlite" else sa.inspect(connection).default_schema_name
            suggestions = dict(_classify_all(connection, tables, sample_rows, warnings, url, raw_url))
    except (sa.exc.SQLAlchemyError, OSError) as error:
        reason = _scrub(str(getattr(error, "orig", None) or error), url, raw_url)
        raise _error(f"cannot {step} {shown}: {reason}") from None
    finally:
        engine.dispose()
    return DiscoveryResult(tables, suggestions, default_schema), shown


def _classify_all(
    connection: Connection, tables: list[DiscoveredTable], sample_rows: int, warnings: list[LocatedError], url: URL, raw: str,
) -> Iterator[tuple[tuple[str, str], list[SuggestionInput]]]:
    """Each column's suggestion, sampling one table at a time so only one table's values are ever in memory."""
    for table in tables:
        try:
            sample = sample_columns(connection, table, sample_rows)
        except sa.exc.DBAPIError as error:
            connection.rollback()
            warnings.append(LocatedError(
                f"could not sample the {table.kind} ({_scrub(str(error.orig), url, raw)}): categories suggested from column names only",
                field_path=table.dataset,
            ))
            sample = {}
        for column in table.columns:
            values = sample.pop(column.name, [])
            yield (table.dataset, column.name), classify_column(column.name, column.family, values, table_name=table.name)


def _fields_of_retired_datasets(session: Session, system_id: str, run_id: int) -> list[int]:
    """Fields of the datasets this run retired (tables dropped since the last run): their suggestions go too."""
    statement = (
        select(DataField.id).join(Dataset, DataField.dataset_id == Dataset.id)
        .where(Dataset.system_id == system_id, Dataset.retired_run_id == run_id)
    )
    return list(session.exec(statement).all())


def _field_ids(session: Session, system_id: str) -> dict[tuple[str, str], int]:
    statement = (
        select(DataField.id, Dataset.name, DataField.name).join(Dataset, DataField.dataset_id == Dataset.id)
        .where(Dataset.system_id == system_id, Dataset.retired_run_id.is_(None), DataField.retired_run_id.is_(None))
    )
    return {(dataset, name): ident for ident, dataset, name in session.exec(statement).all()}


def ingest_database(
    catalog: Catalog, url: str, system_id: str, *, sample_rows: int = DEFAULT_SAMPLE_ROWS, schemas: list[str] | None = None,
    max_tables: int = DEFAULT_MAX_TABLES, actor: str = "", allow_empty: bool = False,
) -> IngestReport:
    """Discover the database behind ``url`` as datasets and fields of ``system_id`` and suggest categories, in one run."""
    started = time.monotonic()
    system = _existing_system(catalog, system_id)
    warnings: list[LocatedError] = []
    found, shown = discover_and_classify(url, sample_rows=sample_rows, schemas=schemas or [], max_tables=max_tables, warnings=warnings)
    spec = CatalogSpec(
        systems=[SystemSpec(id=system.id, name=system.name, datasets=[_dataset_spec(table) for table in found.tables])],
        field_lineage=_lineage(system.id, found.tables, found.default_schema, warnings),
    )
    source = source_name(system.id)
    suggestion_changes: list[str] = []

    def record(session: Session, result: ApplyResult) -> None:
        ids = _field_ids(session, system.id)
        names = {ids[key]: key for key in found.suggestions if key in ids}
        dropped = set(_fields_of_retired_datasets(session, system.id, result.run.id))
        by_field = {field_id: found.suggestions[key] for field_id, key in names.items()} | {field_id: [] for field_id in dropped}
        for field_id, counts in record_field_suggestions(session, run_id=result.run.id, source=source, by_field=by_field).items():
            if field_id in dropped:
                if counts.retired:
                    suggestion_changes.append(f"retired suggestion for field {field_id} of a dropped table")
                continue
            dataset, name = names[field_id]
            for what in ("added", "updated", "retired"):
                if getattr(counts, what):
                    suggestion_changes.append(f"{what} suggestion for field {system.id}.{dataset}.{name}")

    report = apply_and_report(
        catalog, spec, source=source, target=shown, actor=actor, warnings=warnings, complete=False, started=started, after_apply=record,
        allow_empty=allow_empty, anchors=1,  # the system is the catalogue's, named so the datasets have a home
    )
    report.changes.extend(suggestion_changes)
    return report


class DatabaseSource(Source):
    """Database discovery with personal-data classification."""

    name = SOURCE_NAME
    description = _description()

    class Config(SourceConfig):
        url: str = Field(description="SQLAlchemy database URL, e.g. postgresql+psycopg://reader@db/app or sqlite:///app.db; credentials are masked in all output and never stored.")
        system: str = Field(description="Id of the catalogue system this database belongs to (registered by a manifest).")
        sample_rows: int = Field(default=DEFAULT_SAMPLE_ROWS, ge=0, le=MAX_SAMPLE_ROWS, description="Rows sampled per table to recognise values (0: column names only); values are never stored.")
        schemas: list[str] = Field(default_factory=list, description="Schemas to read (default: every schema except the database's own).")
        max_tables: int = Field(default=DEFAULT_MAX_TABLES, ge=1, description="Refuse databases with more tables and views than this in the schemas read.")

    def run(self, catalog: Catalog, config: Config, actor: str = "") -> IngestReport:
        return ingest_database(
            catalog, config.url, config.system, sample_rows=config.sample_rows, schemas=config.schemas,
            max_tables=config.max_tables, actor=actor, allow_empty=config.allow_empty,
        )
