"""Ingest throughput, in fields per second, against a raw sqlite3 ``executemany`` of the same rows.

Two inputs of about ``--fields`` fields each, each ingested into a fresh SQLite catalogue:

* ``manifest``: :func:`catalog.synth.synth_spec` (100 fields per system) dumped to YAML files, one
  per system, read and applied by :func:`ingest.manifest.ingest_manifests`;
* ``dbt``: a generated ``manifest.json`` (v12; 20 columns per model, a chain of models, a PII
  marker on every fifth column) ingested by :func:`ingest.dbt.ingest_dbt` into one system.

``read s`` is reading and validating the input into a spec, timed on its own (the rest of
``ingest s`` is writing: apply, suggestions, history, commit).

The baseline, ``raw s``, is a raw sqlite3 ``executemany`` of the same rows in the same run: every
row the ingest added, in every table (datasets and fields, and what the ingest writes beside them:
provenance columns, flows, the run, its change history, suggested categories), read back from the
ingested catalogue and inserted into a fresh catalogue with the same schema (indexes, foreign
keys, WAL), in one transaction, through the driver's own connection. The goal is ingest within 3x
of it. ``fields-only s`` is the narrower floor used before: only the dataset and field rows, into
two bare tables without foreign keys or extra indexes. The ratios are printed as measured, with
the load average, since a busy machine slows both sides unevenly. Run
``.venv/bin/python benchmarks/bench_ingest.py --fields 2000`` for a quick check. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlmodel import SQLModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.apply import apply_spec  # noqa: E402
from catalog.specs import CatalogSpec  # noqa: E402
from catalog.store import Catalog, init_catalog  # noqa: E402
from catalog.synth import synth_spec  # noqa: E402
from ingest.dbt import DbtOptions, ingest_dbt, load_dbt  # noqa: E402
from ingest.manifest import ingest_manifests, load_manifests  # noqa: E402

FIELDS_PER_SYSTEM = 100
COLUMNS_PER_MODEL = 20
YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Measurement:
    input: str
    fields: int
    read_seconds: float  # reading and validating the input into a spec, measured on its own
    ingest_seconds: float  # the whole ingest: reading, apply, suggestions, history, commit
    raw_rows: int  # rows the ingest added, in every table
    raw_seconds: float  # raw executemany of those rows into the same schema
    fields_only_seconds: float  # raw executemany of the dataset and field rows alone, into bare tables

    @property
    def fields_per_second(self) -> float:
        return self.fields / self.ingest_seconds if self.ingest_seconds else float("inf")

    @property
    def ratio(self) -> float:
        return self.ingest_seconds / self.raw_seconds if self.raw_seconds else float("inf")

    @property
    def write_ratio(self) -> float:
        """The rest of the ingest (ingest less the separately timed read) against raw."""
        return max(self.ingest_seconds - self.read_seconds, 0.0) / self.raw_seconds if self.raw_seconds else float("inf")

    @property
    def fields_only_ratio(self) -> float:
        return self.ingest_seconds / self.fields_only_seconds if self.fields_only_seconds else float("inf")


Rows = dict[str, list[tuple]]


@dataclass(frozen=True)
class TableRows:
    """Every row of every catalogue table, read with plain sqlite3, and where each table's primary key is."""

    rows: Rows
    keys: dict[str, tuple[int, ...]]  # positions of the primary-key columns in each row

    def added_since(self, before: TableRows) -> Rows:
        """The rows whose primary key ``before`` did not hold: the rows a run added (rows it
        updated, such as a system it saw again, are not counted)."""
        added = {}
        for table, rows in self.rows.items():
            positions = self.keys[table]
            old = {tuple(row[p] for p in positions) for row in before.rows.get(table, ())}
            new = [row for row in rows if tuple(row[p] for p in positions) not in old]
            if new:
                added[table] = new
        return added


def table_rows(database: Path) -> TableRows:
    with closing(sqlite3.connect(database)) as connection:
        names = [table.name for table in SQLModel.metadata.sorted_tables]
        rows = {name: connection.execute(f'SELECT * FROM "{name}"').fetchall() for name in names}
        keys = {}
        for name in names:
            columns = connection.execute(f'PRAGMA table_info("{name}")').fetchall()  # (cid, name, type, notnull, default, pk)
            keys[name] = tuple(column[0] for column in sorted(columns, key=lambda column: column[5]) if column[5])
    return TableRows(rows, keys)


def replay_seconds(folder: Path, before: Rows, added: Rows) -> float:
    """Insert ``added`` with the driver's executemany into a fresh catalogue holding ``before``:
    the same rows into the same schema and settings, the floor any ingest of them is compared with."""
    catalog = fresh_catalog(folder, f"replay-{time.monotonic_ns()}")
    order = [table.name for table in SQLModel.metadata.sorted_tables]  # foreign keys point at rows already there

    def insert(connection: sqlite3.Connection, rows: Rows) -> None:
        for table in order:
            if rows.get(table):
                width = len(rows[table][0])
                connection.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * width)})', rows[table])

    pooled = catalog.engine.raw_connection()  # the catalogue's own connection: its pragmas applied
    try:
        connection = pooled.driver_connection
        with connection:
            insert(connection, before)
        start = time.perf_counter()
        with connection:
            insert(connection, added)
        seconds = time.perf_counter() - start
    finally:
        pooled.close()
        catalog.dispose()
    return seconds


def fields_only_seconds(folder: Path, datasets: list[tuple[str, str]], fields: list[tuple[int, str, str | None, str, str]]) -> float:
    """Insert only the dataset and field rows into two bare tables (no foreign keys, no extra
    indexes, default journal): the narrower floor this benchmark used first, kept for comparison."""
    connection = sqlite3.connect(folder / f"raw-{time.monotonic_ns()}.db")
    connection.executescript("""
        CREATE TABLE dataset (id INTEGER PRIMARY KEY, system_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
            data_subjects JSON, retention TEXT, source TEXT, source_ref TEXT, run_id INTEGER, retired_run_id INTEGER, retired_at TEXT,
            UNIQUE (system_id, name));
        CREATE TABLE data_field (id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL REFERENCES dataset(id), name TEXT NOT NULL,
            data_type TEXT, description TEXT NOT NULL DEFAULT '', data_categories JSON, pseudonymised BOOLEAN NOT NULL DEFAULT 0,
            source TEXT, source_ref TEXT, run_id INTEGER, retired_run_id INTEGER, retired_at TEXT, UNIQUE (dataset_id, name));
    """)
    start = time.perf_counter()
    with connection:
        connection.executemany(
            "INSERT INTO dataset (id, system_id, name, data_subjects, source, run_id) VALUES (?, ?, ?, '[]', 'bench', 1)",
            [(number, system, name) for number, (system, name) in enumerate(datasets, start=1)],
        )
        connection.executemany(
            "INSERT INTO data_field (dataset_id, name, data_type, description, data_categories, source, run_id) VALUES (?, ?, ?, ?, ?, 'bench', 1)",
            fields,
        )
    seconds = time.perf_counter() - start
    connection.close()
    return seconds


def timed_ingest(folder: Path, name: str, ingest: Callable[[Catalog], object], prepare: Callable[[Catalog], object] | None = None) -> tuple[float, Rows, Rows]:
    """Run ``ingest`` on a fresh catalogue (after the untimed ``prepare``): its seconds, and the
    rows before it and the rows it added."""
    catalog = fresh_catalog(folder, name)
    if prepare is not None:
        prepare(catalog)
    before = table_rows(folder / f"{name}.db")
    start = time.perf_counter()
    ingest(catalog)
    seconds = time.perf_counter() - start
    catalog.dispose()
    return seconds, before.rows, table_rows(folder / f"{name}.db").added_since(before)


def fresh_catalog(folder: Path, name: str) -> Catalog:
    return init_catalog(f"sqlite:///{folder / name}.db")


def bench_manifest(folder: Path, wanted_fields: int) -> Measurement:
    systems = max(1, round(wanted_fields / FIELDS_PER_SYSTEM))
    spec = synth_spec(systems, FIELDS_PER_SYSTEM, seed=1)
    root = folder / "manifests"
    (root / "systems").mkdir(parents=True)
    document = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for system in document.pop("systems"):
        (root / "systems" / f"{system['id']}.yml").write_text(yaml.dump({"systems": [system]}, Dumper=YAML_DUMPER, sort_keys=False), encoding="utf-8")
    (root / "catalogue.yml").write_text(yaml.dump(document, Dumper=YAML_DUMPER, sort_keys=False), encoding="utf-8")
    datasets = [(system.id, dataset.name) for system in spec.systems for dataset in system.datasets]
    fields = [
        (number, item.name, item.data_type, item.description, json.dumps(item.data_categories))
        for number, dataset in enumerate((d for s in spec.systems for d in s.datasets), start=1) for item in dataset.fields
    ]
    start = time.perf_counter()
    load_manifests(root)
    read_seconds = time.perf_counter() - start
    seconds, before, added = timed_ingest(folder, "manifest", lambda catalog: ingest_manifests(catalog, root))
    return Measurement(
        "manifest (YAML)", len(fields), read_seconds, seconds, sum(map(len, added.values())),
        replay_seconds(folder, before, added), fields_only_seconds(folder, datasets, fields),
    )


def dbt_manifest(models: int) -> dict:
    """A v12 manifest: ``models`` models in a chain, each with 20 columns, every fifth marked PII."""
    nodes, parent_map = {}, {}
    for number in range(models):
        unique_id = f"model.bench.model_{number:05d}"
        columns = {
            f"column_{c:02d}": {
                "name": f"column_{c:02d}", "data_type": "varchar", "description": f"Column {c} of model {number}",
                "meta": {"contains_pii": "email"} if c % 5 == 0 else {}, "tags": [], "config": {"meta": {}, "tags": []},
            }
            for c in range(COLUMNS_PER_MODEL)
        }
        parents = [f"model.bench.model_{number - 1:05d}"] if number else []
        nodes[unique_id] = {
            "unique_id": unique_id, "resource_type": "model", "package_name": "bench", "name": f"model_{number:05d}",
            "alias": f"model_{number:05d}", "database": "analytics", "schema": f"schema_{number % 10}", "description": "",
            "columns": columns, "meta": {}, "tags": [], "config": {"materialized": "table", "meta": {}, "tags": []},
            "depends_on": {"nodes": parents},
        }
        parent_map[unique_id] = parents
    return {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "project_name": "bench"},
        "nodes": nodes, "sources": {}, "exposures": {}, "parent_map": parent_map,
    }


def bench_dbt(folder: Path, wanted_fields: int) -> Measurement:
    models = max(1, round(wanted_fields / COLUMNS_PER_MODEL))
    data = dbt_manifest(models)
    path = folder / "manifest.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    datasets = [("warehouse", f"analytics.{n['schema']}.{n['alias']}") for n in data["nodes"].values()]
    fields = [
        (number, c["name"], c["data_type"], c["description"], "[]")
        for number, n in enumerate(data["nodes"].values(), start=1) for c in n["columns"].values()
    ]
    start = time.perf_counter()
    load_dbt(path, DbtOptions("warehouse"), {"warehouse": "Warehouse"}, {}, max_bytes=2**40)
    read_seconds = time.perf_counter() - start
    def declare_system(catalog: Catalog) -> None:
        with catalog.session() as session:
            apply_spec(session, CatalogSpec.model_validate({"systems": [{"id": "warehouse", "name": "Warehouse"}]}), source="manifest")

    seconds, before, added = timed_ingest(folder, "dbt", lambda catalog: ingest_dbt(catalog, path, "warehouse", max_bytes=2**40), declare_system)
    return Measurement(
        "dbt manifest.json", len(fields), read_seconds, seconds, sum(map(len, added.values())),
        replay_seconds(folder, before, added), fields_only_seconds(folder, datasets, fields),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fields", type=int, default=10_000, help="About how many fields each input holds (default 10,000).")
    parser.add_argument("--only", choices=("manifest", "dbt"), help="Run one input only.")
    args = parser.parse_args(argv)
    runs = {"manifest": bench_manifest, "dbt": bench_dbt}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, bench in runs.items():
            if args.only in (None, name):
                print(f"Ingesting {name} with about {args.fields:,} fields ...", flush=True)
                rows.append(bench(Path(folder), args.fields))
    print()
    print(f"{'input':<18} {'fields':>8} {'read s':>7} {'ingest s':>9} {'fields/s':>9} {'rows':>7} {'raw s':>7} {'ingest/raw':>11} {'write/raw':>10} {'fields-only s':>14} {'ingest/fields-only':>19}")
    for row in rows:
        print(
            f"{row.input:<18} {row.fields:>8,} {row.read_seconds:>7.2f} {row.ingest_seconds:>9.2f} {row.fields_per_second:>9,.0f} {row.raw_rows:>7,} "
            f"{row.raw_seconds:>7.3f} {row.ratio:>10.1f}x {row.write_ratio:>9.1f}x {row.fields_only_seconds:>14.3f} {row.fields_only_ratio:>18.0f}x"
        )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print("(goal: ingest within 3x of a raw executemany of the same rows: 'rows' is every row the ingest added, in every table,")
    print(" replayed in 'raw s' into the same schema; 'read s' is the part of ingest spent reading the input; 'write/raw' is")
    print(" the rest of the ingest against raw; 'fields-only s' inserts only the dataset and field rows into two bare tables;")
    print(f" SQLite, Python {sys.version.split()[0]}, load average {load} on {os.cpu_count()} CPUs)")

if __name__ == "__main__":
    main()
