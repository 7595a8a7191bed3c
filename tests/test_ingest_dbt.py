"""The dbt source: a v12 manifest in; the warehouse's datasets, fields, lineage, exposures and
suggested categories out; unsupported or bad manifests name the problem and write nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlmodel import select

from catalog.graph import CatalogGraph, NodeKind, node_key
from catalog.models import CategorySuggestion, Conflict, DataField, Dataset, Flow, Party, System
from catalog.vocab import RunStatus
from ingest.dbt import ingest_dbt
from ingest.errors import IngestError, LocatedError
from ingest.openlineage import DEFAULT_MAX_BYTES
from ingest.registry import SOURCE_MODULES, run_source
from tests.test_ingest_openlineage import table_counts, with_manifests, write

V12 = "https://schemas.getdbt.com/dbt/manifest/v12.json"


def column(name: str, data_type: str | None = "text", description: str = "", **extra) -> dict:
    return {"name": name, "description": description, "data_type": data_type, "meta": {}, "tags": [], "config": {"meta": {}, "tags": []}, **extra}


def node(resource_type: str, name: str, schema: str, columns: list[dict] = (), database: str | None = "analytics", **extra) -> dict:
    unique_id = f"{resource_type}.shop.{name}"
    config = {"enabled": True, "materialized": {"model": "table", "seed": "seed", "snapshot": "snapshot"}.get(resource_type), "meta": {}, "tags": []}
    config |= extra.pop("config", {})
    return {
        "unique_id": unique_id, "resource_type": resource_type, "package_name": "shop", "name": name, "alias": name,
        "database": database, "schema": schema, "relation_name": f'"{database}"."{schema}"."{name}"', "description": extra.pop("description", ""),
        "columns": {c["name"]: c for c in columns}, "meta": {}, "tags": [], "config": config,
        "depends_on": {"macros": [], "nodes": extra.pop("depends_on", [])}, **extra,
    }


def manifest_data() -> dict:
    """A shop project: a CRM source, a staging view, an ephemeral model, a seed, the customers mart,
    its snapshot, a test, and two exposures. Column meta sits in both places dbt has used."""
    source = {
        "unique_id": "source.shop.crm.customers", "resource_type": "source", "package_name": "shop", "name": "customers",
        "source_name": "crm", "identifier": "customers_raw", "database": "analytics", "schema": "raw",
        "relation_name": '"analytics"."raw"."customers_raw"', "description": "CRM customers as loaded",
        "columns": {"email": column("email", "varchar", meta={"contains_pii": True})},
        "meta": {}, "tags": [], "config": {"enabled": True},
    }
    staging = node("model", "stg_customers", "staging", [column("email"), column("phone", tags=["pii"])], depends_on=["source.shop.crm.customers"])
    ephemeral = node("model", "int_customers", "staging", config={"materialized": "ephemeral"}, depends_on=["model.shop.stg_customers"])
    seed = node("seed", "country_codes", "seeds", [column("code"), column("name")], database=None)
    customers = node(
        "model", "customers", "marts", description="One row per customer", depends_on=["model.shop.int_customers", "seed.shop.country_codes"],
        columns=[
            column("customer_id", "bigint", "Surrogate key", meta={"category": "user.unique_id"}),
            column("email", "varchar", "Login email", meta={"pii": "email"}),
            column("full_name", "varchar", config={"meta": {"gdpr": {"pii": "name"}}, "tags": []}),
            column("shoe_size", "int", meta={"pii": "shoe_size"}),
            column("marketing_opt_in", "boolean", meta={"pii": False}),
            column("country_code", "char(2)"),
        ],
    )
    customers["config"]["meta"] = {"contains_pii": True}  # a model-level marker: no column to suggest for
    snapshot = node("snapshot", "customers_snapshot", "snapshots", [column("customer_id", "bigint")], depends_on=["model.shop.customers"])
    test = {
        "unique_id": "test.shop.not_null_customers_email.abc123", "resource_type": "test", "package_name": "shop",
        "name": "not_null_customers_email", "database": "analytics", "schema": "dbt_test__audit", "columns": {}, "meta": {}, "tags": [],
        "config": {"enabled": True, "severity": "ERROR"}, "depends_on": {"nodes": ["model.shop.customers"]},
    }
    exposures = {
        "exposure.shop.weekly_kpis": {
            "unique_id": "exposure.shop.weekly_kpis", "name": "weekly_kpis", "label": "Weekly KPIs", "type": "dashboard",
            "owner": {"name": "Analytics", "email": "analytics@acme.example"}, "depends_on": {"nodes": ["model.shop.customers"]},
        },
        "exposure.shop.churn_app": {
            "unique_id": "exposure.shop.churn_app", "name": "churn_app", "type": "application",
            "owner": {"name": "Data science"}, "depends_on": {"nodes": ["model.shop.customers"]},
        },
    }
    nodes = {n["unique_id"]: n for n in (staging, ephemeral, seed, customers, snapshot, test)}
    parent_map = {uid: list(n["depends_on"]["nodes"]) for uid, n in nodes.items()}
    parent_map |= {"source.shop.crm.customers": [], **{uid: e["depends_on"]["nodes"] for uid, e in exposures.items()}}
    return {
        "metadata": {"dbt_schema_version": V12, "dbt_version": "1.8.7", "project_name": "shop", "adapter_type": "postgres"},
        "nodes": nodes, "sources": {source["unique_id"]: source}, "exposures": exposures, "metrics": {},
        "parent_map": parent_map, "child_map": {},
    }


def dump(path: Path, data) -> Path:
    return write(path, json.dumps(data, indent=2))


@pytest.fixture
def manifest(tmp_path) -> Path:
    return dump(tmp_path / "target" / "manifest.json", manifest_data())


@pytest.fixture
def exposure_map(tmp_path) -> Path:
    return write(tmp_path / "exposures.yml", "weekly_kpis: metrics\n")


@pytest.fixture
def warehouse(catalog):
    """The manifests' catalogue plus the warehouse system the dbt project builds in."""
    return with_manifests(catalog, {"id": "warehouse", "name": "Analytics warehouse", "owner_team": "Data", "hosted_in": ["lon"]})


def rejected(catalog, path: Path, system: str = "warehouse", **options) -> list[LocatedError]:
    before = table_counts(catalog)
    with pytest.raises(IngestError) as raised:
        ingest_dbt(catalog, path, system, **options)
    assert table_counts(catalog) == before
    return raised.value.errors


def datasets(session) -> dict[str, Dataset]:
    return {d.name: d for d in session.exec(select(Dataset).where(Dataset.system_id == "warehouse")).all()}


# ---- a realistic manifest ------------------------------------------------------------------------


def test_a_manifest_becomes_datasets_lineage_and_suggestions_and_a_rerun_changes_nothing(warehouse, manifest, exposure_map):
    first = ingest_dbt(warehouse, manifest, "warehouse", exposure_map=exposure_map, actor="tester")
    assert first.status == RunStatus.SUCCEEDED and first.source == "dbt:shop"
    warnings = [str(w) for w in first.warnings]
    assert any("1 exposure(s) need a system or party id in --exposure-map: churn_app" in w for w in warnings)
    assert any("meta value 'shoe_size' names no data category" in w for w in warnings)
    assert any("PII markers on whole models" in w and "analytics.marts.customers" in w for w in warnings)

    with warehouse.session() as session:
        held = datasets(session)
        assert set(held) == {
            "analytics.raw.customers_raw", "analytics.staging.stg_customers", "seeds.country_codes",
            "analytics.marts.customers", "analytics.snapshots.customers_snapshot",
        }  # the ephemeral model and the test are no tables
        mart = held["analytics.marts.customers"]
        assert mart.description == "One row per customer" and mart.source == "dbt:shop"
        fields = {f.name: f for f in session.exec(select(DataField).where(DataField.dataset_id == mart.id).order_by(DataField.id)).all()}  # in the order written
        assert list(fields) == ["customer_id", "email", "full_name", "shoe_size", "marketing_opt_in", "country_code"]
        assert (fields["email"].data_type, fields["email"].description, fields["email"].data_categories) == ("varchar", "Login email", [])

        suggested = {
            (session.get(DataField, s.field_id).name, s.category): s for s in session.exec(select(CategorySuggestion)).all()
        }
        assert set(suggested) == {
            ("customer_id", "user.unique_id"), ("email", "user.contact.email"), ("full_name", "user.name"),
            ("shoe_size", "user"), ("phone", "user"), ("email", "user"),  # the source's contains_pii: true
        }
        assert suggested[("email", "user.contact.email")].recogniser == "dbt:meta"
        assert suggested[("email", "user.contact.email")].evidence == {"meta": "pii", "value": "email"}
        assert suggested[("full_name", "user.name")].evidence == {"meta": "gdpr.pii", "value": "name"}  # config.meta, nested key
        assert (suggested[("phone", "user")].recogniser, suggested[("phone", "user")].evidence) == ("dbt:tag", {"tag": "pii"})

        names = {d.id: d.name for d in held.values()}
        flows = session.exec(select(Flow).where(Flow.source == "dbt:shop")).all()
        lineage = {(names[f.source_dataset_id], names.get(f.target_dataset_id, f.target_party_id)) for f in flows}
        assert lineage == {
            ("analytics.raw.customers_raw", "analytics.staging.stg_customers"),
            ("analytics.staging.stg_customers", "analytics.marts.customers"),  # through the ephemeral model
            ("seeds.country_codes", "analytics.marts.customers"),
            ("analytics.marts.customers", "analytics.snapshots.customers_snapshot"),
            ("analytics.marts.customers", "metrics"),  # the mapped exposure: a disclosure to a processor
        }
        assert all(f.id.startswith("dbt-") for f in flows)
        metrics = session.get(Party, "metrics")
        assert (metrics.source, metrics.name, metrics.country) == ("manifest", "Metrics LLC", "US")
        assert session.get(System, "warehouse").source == "manifest"
        assert session.exec(select(Conflict)).all() == []

    second = ingest_dbt(warehouse, manifest, "warehouse", exposure_map=exposure_map)
    assert (second.added, second.updated, second.retired, second.conflicts) == (0, 0, 0, 0)
    assert second.changes == []


def test_exposures_reach_the_party_in_the_graph(warehouse, manifest, exposure_map):
    ingest_dbt(warehouse, manifest, "warehouse", exposure_map=exposure_map)
    with warehouse.session() as session:
        graph = CatalogGraph.load(session)
    assert node_key(NodeKind.PARTY, "metrics") in graph.descendants(node_key(NodeKind.SYSTEM, "warehouse"))


def test_a_model_removed_from_the_project_is_retired_with_its_suggestions(warehouse, manifest, tmp_path):
    ingest_dbt(warehouse, manifest, "warehouse")
    data = manifest_data()
    del data["nodes"]["model.shop.stg_customers"]
    data["parent_map"]["model.shop.int_customers"] = []
    report = ingest_dbt(warehouse, dump(tmp_path / "smaller.json", data), "warehouse")
    assert report.added == 0 and report.retired >= 3  # the dataset, its fields, its flows
    with warehouse.session() as session:
        assert "analytics.staging.stg_customers" not in {
            d.name for d in session.exec(select(Dataset).where(Dataset.retired_run_id.is_(None))).all()
        }


def test_keys_and_categories_are_configurable(warehouse, tmp_path):
    data = manifest_data()
    mart = data["nodes"]["model.shop.customers"]["columns"]
    mart["shoe_size"]["meta"] = {"privacy": {"class": "fit"}}
    category_map = write(tmp_path / "categories.yml", "fit: user.biometric\n")
    report = ingest_dbt(warehouse, dump(tmp_path / "m.json", data), "warehouse", pii_keys=["privacy.class"], category_map=category_map)
    assert report.status == RunStatus.SUCCEEDED
    with warehouse.session() as session:
        categories = {(session.get(DataField, s.field_id).name, s.category) for s in session.exec(select(CategorySuggestion)).all()}
    assert ("shoe_size", "user.biometric") in categories
    assert ("customer_id", "user.unique_id") in categories  # meta 'category' keys are still read
    assert ("email", "user.contact.email") not in categories and ("phone", "user") not in categories  # 'pii' is no marker key now


def test_the_registry_runs_the_source_by_name(warehouse, manifest):
    modules = {**SOURCE_MODULES, "dbt": "ingest.dbt:DbtSource"}  # the line the registry gets
    report = run_source("dbt", warehouse, {"manifest": manifest, "system": "warehouse"}, modules=modules)
    assert report.added > 0


# ---- unsupported, bad and hostile manifests ------------------------------------------------------


@pytest.mark.parametrize("version", ["v7", "v13"])
def test_unsupported_schema_versions_are_refused_naming_the_version(warehouse, tmp_path, version):
    data = manifest_data()
    data["metadata"]["dbt_schema_version"] = f"https://schemas.getdbt.com/dbt/manifest/{version}.json"
    [error] = rejected(warehouse, dump(tmp_path / "manifest.json", data))
    assert f"dbt manifest schema {version} is not supported" in error.message and "v9 to v12" in error.message


def test_a_file_that_is_no_manifest_is_refused(warehouse, tmp_path):
    [error] = rejected(warehouse, dump(tmp_path / "other.json", {"nodes": {}}))
    assert "not a dbt manifest" in error.message


def test_truncated_json_names_line_and_column(warehouse, tmp_path):
    path = write(tmp_path / "manifest.json", json.dumps(manifest_data(), indent=2)[:5000])
    [error] = rejected(warehouse, path)
    assert error.message.startswith("malformed JSON") and error.line is not None and error.column is not None


def test_wrong_types_are_located_by_their_path(warehouse, tmp_path):
    data = copy.deepcopy(manifest_data())
    data["nodes"]["model.shop.customers"]["columns"] = ["email"]
    data["sources"]["source.shop.crm.customers"]["name"] = 42
    errors = rejected(warehouse, dump(tmp_path / "manifest.json", data))
    assert sorted(e.field_path for e in errors) == ["nodes.model.shop.customers.columns", "sources.source.shop.crm.customers.name"]


def test_an_unknown_system_is_refused_with_the_nearest_id(warehouse, manifest):
    [error] = rejected(warehouse, manifest, system="warehous")
    assert "system 'warehous' is not in the catalogue" in error.message and error.suggestion == "warehouse"


def test_an_exposure_mapped_to_an_unknown_id_is_refused_at_its_line_in_the_map(warehouse, manifest, tmp_path):
    exposure_map = write(tmp_path / "e.yml", "churn_app: metrics\nweekly_kpis: metric\n")
    [error] = rejected(warehouse, manifest, exposure_map=exposure_map)
    assert "exposure 'weekly_kpis' maps to 'metric'" in error.message and error.suggestion == "metrics"
    assert (error.file, error.line, error.field_path) == (str(exposure_map), 2, "weekly_kpis")


def test_a_map_key_that_names_no_exposure_is_refused_with_the_nearest_name(warehouse, manifest, tmp_path):
    exposure_map = write(tmp_path / "e.yml", "weekly_kpis: metrics\nchurn_ap: metrics\n")
    [error] = rejected(warehouse, manifest, exposure_map=exposure_map)
    assert (error.file, error.line, error.field_path, error.suggestion) == (str(exposure_map), 2, "churn_ap", "churn_app")
    assert error.message == f"no exposure 'churn_ap' in {manifest} (exposures: churn_app, weekly_kpis)"
    by_id = write(tmp_path / "ids.yml", "exposure.shop.weekly_kpis: metrics\nweekly_kpis: metrics\n")  # one exposure named twice
    assert ingest_dbt(warehouse, manifest, "warehouse", exposure_map=by_id).added > 0


def test_a_manifest_with_no_datasets_is_refused_unless_allowed(warehouse, manifest, tmp_path):
    ingest_dbt(warehouse, manifest, "warehouse")
    empty = manifest_data() | {"nodes": {}, "sources": {}, "exposures": {}, "parent_map": {}}
    path = dump(tmp_path / "empty" / "manifest.json", empty)
    [error] = rejected(warehouse, path)
    assert error.message.startswith(f"nothing to ingest in {path}: no entries read, so this run would retire the")
    assert ingest_dbt(warehouse, path, "warehouse", allow_empty=True).retired > 0


def test_an_unknown_category_in_the_map_is_refused_with_its_line(warehouse, manifest, tmp_path):
    category_map = write(tmp_path / "categories.yml", "email: user.contact.email\nname: user.nam\n")
    [error] = rejected(warehouse, manifest, category_map=category_map)
    assert (error.line, error.suggestion) == (2, "user.name")


def test_a_manifest_over_the_default_limit_is_refused_before_parsing(warehouse, tmp_path):
    path = tmp_path / "manifest.json"
    with path.open("wb") as handle:  # sparse: 50 MB + 1 byte written in no time
        handle.truncate(DEFAULT_MAX_BYTES + 1)
    [error] = rejected(warehouse, path)
    assert "over the limit" in error.message


def test_the_size_limit_is_configurable(warehouse, manifest):
    [error] = rejected(warehouse, manifest, max_bytes=2048)
    assert "over the limit of 2,048" in error.message


def test_a_directory_given_for_the_manifest_says_so(warehouse, tmp_path):
    [error] = rejected(warehouse, tmp_path)
    assert str(error) == f"{tmp_path}: is a directory; give a file"
