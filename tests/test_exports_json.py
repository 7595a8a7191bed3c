"""The catalogue JSON: manifest shape, fixed order, and a lossless round trip through apply_spec."""

from __future__ import annotations

import json

import pytest

from catalog.apply import apply_spec
from catalog.store import init_catalog
from exports.json_export import (
    SCHEMA_VERSION,
    UnsupportedSchemaVersion,
    catalog_spec_from_json,
    export_catalog_json,
    write_catalog_json,
)


def _export(catalog) -> dict:
    with catalog.session() as session:
        return export_catalog_json(session)


def test_shape_is_the_manifest_shape(loaded_catalog):
    data = _export(loaded_catalog)
    assert list(data)[0] == "schema_version" and data["schema_version"] == SCHEMA_VERSION
    assert data["organisation"]["name"] == "Acme IT Ltd"
    assert [system["id"] for system in data["systems"]] == ["backup", "crm", "hosting"]
    crm = next(system for system in data["systems"] if system["id"] == "crm")
    assert crm["hosted_in"] == ["lon"]
    assert [f["name"] for f in crm["datasets"][0]["fields"]] == ["email", "full_name", "sort_code"]
    assert crm["datasets"][0]["fields"][0]["categories"] == ["user.contact.email"]  # the YAML alias, not data_categories
    flow = next(flow for flow in data["flows"] if flow["id"] == "crm-helpdesk")
    assert (flow["from"], flow["to"], flow["categories"], flow["activity"]) == ("crm", "helpdesk-in", ["user.name"], "client-management")
    activity = next(a for a in data["activities"] if a["id"] == "client-management")
    assert activity["purpose"] == "Manage client contracts" and activity["systems"] == ["backup", "crm"]
    spec = catalog_spec_from_json(json.loads(json.dumps(data)))
    assert {party.id for party in spec.parties} == {"cloudco", "metrics", "helpdesk-in", "client-a"}


def test_round_trip_through_a_fresh_catalogue(loaded_catalog, tmp_path):
    first = _export(loaded_catalog)
    fresh = init_catalog(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with fresh.session() as session:
            apply_spec(session, catalog_spec_from_json(first), source="manifest", target="catalog.json")
        assert _export(fresh) == first
    finally:
        fresh.dispose()


def test_file_is_deterministic_json(loaded_catalog, tmp_path):
    with loaded_catalog.session() as session:
        first = write_catalog_json(session, tmp_path / "a" / "catalog.json")
        second = write_catalog_json(session, tmp_path / "b.json")
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_text(encoding="utf-8")) == _export(loaded_catalog)


def test_unknown_schema_version_is_refused(loaded_catalog):
    data = {**_export(loaded_catalog), "schema_version": 99}
    with pytest.raises(UnsupportedSchemaVersion, match="99"):
        catalog_spec_from_json(data)


def test_retired_entries_are_not_exported(loaded_catalog):
    data = _export(loaded_catalog)
    data["systems"] = [s for s in data["systems"] if s["id"] != "backup"]
    data["flows"] = [f for f in data["flows"] if f["id"] != "crm-backup"]
    for activity in data["activities"]:
        activity["systems"] = [s for s in activity["systems"] if s != "backup"]
    with loaded_catalog.session() as session:
        apply_spec(session, catalog_spec_from_json(data), source="manifest", target="tests")
    assert _export(loaded_catalog) == data


def test_demo_organisation_round_trips_with_field_lineage_and_dataset_flows(sqlite_catalog, tmp_path):
    """The whole demo (field lineage, dataset-level flows) survives export -> import -> export."""
    from catalog.apply import apply_spec
    from catalog.store import init_catalog
    from exports.json_export import catalog_spec_from_json, export_catalog_json
    from ingest.manifest import ingest_manifests
    from ropa.demo import demo_manifest_dir

    ingest_manifests(sqlite_catalog, demo_manifest_dir())
    with sqlite_catalog.session() as session:
        first = export_catalog_json(session)
    assert first["field_lineage"] and any(flow.get("from_dataset") for flow in first["flows"])
    copy = init_catalog(f"sqlite:///{tmp_path / 'copy.db'}")
    with copy.session() as session:
        apply_spec(session, catalog_spec_from_json(first), source="manifest")
    with copy.session() as session:
        assert export_catalog_json(session) == first
    copy.dispose()


def test_the_file_is_restored_by_the_manifest_source(loaded_catalog, tmp_path):
    """`ropa ingest manifest catalog.json` is the restore: the same catalogue comes back, and a
    file from a newer release is refused at its schema_version."""
    from ingest.errors import IngestError
    from ingest.manifest import ingest_manifests

    with loaded_catalog.session() as session:
        path = write_catalog_json(session, tmp_path / "catalog.json")
    fresh = init_catalog(f"sqlite:///{tmp_path / 'restored.db'}")
    try:
        report = ingest_manifests(fresh, path)
        assert report.added > 0 and not report.errors
        assert _export(fresh) == _export(loaded_catalog)
        newer = json.loads(path.read_text(encoding="utf-8"))
        newer["schema_version"] = SCHEMA_VERSION + 1
        (tmp_path / "newer.json").write_text(json.dumps(newer, indent=2), encoding="utf-8")
        with pytest.raises(IngestError) as refused:
            ingest_manifests(fresh, tmp_path / "newer.json")
        assert [(e.file.endswith("newer.json"), e.line, e.field_path) for e in refused.value.errors] == [(True, 2, "schema_version")]
    finally:
        fresh.dispose()
