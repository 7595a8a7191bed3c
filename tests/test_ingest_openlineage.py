"""The OpenLineage source: RunEvents (object, array, NDJSON) in; datasets, flows, field lineage and
suggested categories under systems the manifests declared; bad input names its place and writes nothing."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from sqlmodel import select

from catalog.apply import apply_spec
from catalog.graph import CatalogGraph, NodeKind, node_key
from catalog.models import CategorySuggestion, Conflict, DataField, Dataset, FieldLineage, Flow, IngestRun, System
from catalog.specs import CatalogSpec
from catalog.vocab import RunStatus
from ingest.errors import IngestError, LocatedError
from ingest.openlineage import DEFAULT_MAX_BYTES, ingest_openlineage
from ingest.registry import SOURCE_MODULES, run_source
from tests.factories import small_spec_data, table_counts

CRM, LAKE, KAFKA = "postgres://crm-db:5432", "s3://lake", "kafka://broker:9092"
MAPPING = f"""
    name: lineage-prod
    namespaces:
      "{CRM}": crm
    prefixes:
      "s3://": data-lake
"""


def facet(**content) -> dict:
    return {"_producer": "https://example.test/producer", "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/X.json", **content}


def event(kind: str, run: str, job: str, inputs: list, outputs: list, time: str = "2026-11-01T10:00:00Z") -> dict:
    return {
        "eventType": kind, "eventTime": time, "producer": "https://example.test/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run}, "job": {"namespace": "etl", "name": job}, "inputs": inputs, "outputs": outputs,
    }


def export_contacts() -> dict:
    """CRM customers copied to the lake, the email hashed (masking) and the city kept."""
    customers = {
        "namespace": CRM, "name": "public.customers",
        "facets": {
            "schema": facet(fields=[
                {"name": "email", "type": "varchar(255)", "description": "Login email"},
                {"name": "full_name", "type": "text"},
                {"name": "address", "type": "struct", "fields": [{"name": "city", "type": "text"}, {"name": "postcode", "type": "text"}]},
            ]),
            "tags": facet(tags=[
                {"key": "pii", "value": "email", "source": "MANUAL", "field": "email"},
                {"key": "classification", "value": "user.name", "field": "full_name"},
                {"key": "owner", "value": "sales", "field": "full_name"},
                {"key": "pii", "value": "true"},
            ]),
        },
    }
    contacts_masked = {
        "namespace": LAKE, "name": "contacts_masked",
        "facets": {
            "schema": facet(fields=[{"name": "email_hash", "type": "string"}, {"name": "city", "type": "string"}]),
            "columnLineage": facet(fields={
                "email_hash": {"inputFields": [{"namespace": CRM, "name": "public.customers", "field": "email",
                                                "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "sha256", "masking": True}]}]},
                "city": {"inputFields": [{"namespace": CRM, "name": "public.customers", "field": "address.city",
                                          "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]}]},
            }),
        },
    }
    return event("COMPLETE", "run-1", "export_contacts", [customers], [contacts_masked])


def count_cities() -> dict:
    """An older producer: column lineage with the deprecated transformationType."""
    city_counts = {
        "namespace": LAKE, "name": "city_counts",
        "facets": {"columnLineage": facet(fields={
            "city": {"inputFields": [{"namespace": LAKE, "name": "contacts_masked", "field": "city"}],
                     "transformationType": "AGGREGATION", "transformationDescription": "count by city"},
        })},
    }
    return event("COMPLETE", "run-2", "count_cities", [{"namespace": LAKE, "name": "contacts_masked"}], [city_counts], "2026-11-01T11:00:00Z")


def failed_run() -> list[dict]:
    """A run that started with facets and then failed: it contributes nothing."""
    output = {"namespace": LAKE, "name": "never_written", "facets": {"schema": facet(fields=[{"name": "x"}])}}
    return [
        event("START", "run-3", "broken", [{"namespace": CRM, "name": "public.customers"}], [output]),
        event("FAIL", "run-3", "broken", [], [], "2026-11-01T10:05:00Z"),
    ]


def to_kafka() -> dict:
    return event("COMPLETE", "run-4", "publish", [{"namespace": CRM, "name": "public.customers"}], [{"namespace": KAFKA, "name": "customers-topic"}])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def events_dir(tmp_path) -> Path:
    """The events as a producer's files would be: one object, an array, and NDJSON."""
    root = tmp_path / "events"
    write(root / "a" / "export.json", json.dumps(export_contacts(), indent=2))
    write(root / "b" / "batch.json", json.dumps([count_cities(), *failed_run()]))
    write(root / "c" / "stream.ndjson", json.dumps(to_kafka()) + "\n\n")
    write(root / "notes.txt", "not events")
    return root


@pytest.fixture
def mapping(tmp_path) -> Path:
    return write(tmp_path / "namespaces.yml", MAPPING)


def with_manifests(catalog, *systems: dict):
    """tests.factories.small_spec_data() plus ``systems``, applied as manifests (the sources never
    assert a system's attributes, so the systems they write under must be declared first)."""
    data = small_spec_data()
    data["systems"] += systems
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
    return catalog


@pytest.fixture
def systems(catalog):
    return with_manifests(catalog, {"id": "data-lake", "name": "Data lake", "owner_team": "Data", "hosted_in": ["dub"]})


def rejected(catalog, path: Path, **options) -> list[LocatedError]:
    before = table_counts(catalog)
    with pytest.raises(IngestError) as raised:
        ingest_openlineage(catalog, path, **options)
    assert table_counts(catalog) == before
    return raised.value.errors


def fields_of(session, system: str, dataset: str) -> dict[str, DataField]:
    statement = select(DataField).join(Dataset, DataField.dataset_id == Dataset.id).where(Dataset.system_id == system, Dataset.name == dataset)
    return {item.name: item for item in session.exec(statement.order_by(DataField.id)).all()}  # in the order written


# ---- a realistic input ------------------------------------------------------------------------


def test_events_become_datasets_flows_and_field_lineage_and_a_rerun_changes_nothing(systems, events_dir, mapping):
    first = ingest_openlineage(systems, events_dir, mapping=mapping, actor="tester")
    assert first.status == RunStatus.SUCCEEDED and first.added > 0
    assert first.source == "openlineage:lineage-prod"
    warnings = [str(w) for w in first.warnings]
    assert any(f"namespace '{KAFKA}' maps to no system: 1 dataset(s) skipped" in w for w in warnings)
    assert any("events skipped: 1 FAIL, 1 of failed runs" in w for w in warnings)
    assert any("crm.public.customers (pii=true)" in w for w in warnings)  # a dataset-level tag names no field

    with systems.session() as session:
        customers = fields_of(session, "crm", "public.customers")
        masked = fields_of(session, "data-lake", "contacts_masked")
        counts = fields_of(session, "data-lake", "city_counts")
        assert list(customers) == ["email", "full_name", "address", "address.city", "address.postcode"]
        assert (customers["email"].data_type, customers["email"].description) == ("varchar(255)", "Login email")
        assert masked["email_hash"].pseudonymised and not masked["city"].pseudonymised
        assert list(counts) == ["city"]  # no schema facet: the field named by the lineage
        assert "never_written" not in {d.name for d in session.exec(select(Dataset)).all()}

        lineage = {
            (session.get(DataField, row.source_field_id).name, session.get(DataField, row.target_field_id).name): row
            for row in session.exec(select(FieldLineage)).all()
        }
        assert set(lineage) == {("email", "email_hash"), ("address.city", "city"), ("city", "city")}
        assert (lineage[("email", "email_hash")].transformation, lineage[("email", "email_hash")].masking) == ("DIRECT/TRANSFORMATION", True)
        assert lineage[("address.city", "city")].transformation == "DIRECT/IDENTITY"
        assert lineage[("city", "city")].transformation == "AGGREGATION"  # deprecated transformationType

        flows = {(f.source_system_id, f.target_system_id): f for f in session.exec(select(Flow).where(Flow.source == first.source)).all()}
        assert set(flows) == {("crm", "data-lake"), ("data-lake", "data-lake")}  # within one system: lineage too
        export = flows[("crm", "data-lake")]
        assert export.id.startswith("ol-") and export.mechanism == "batch_export"
        assert session.get(Dataset, export.source_dataset_id).name == "public.customers"
        assert session.get(Dataset, export.target_dataset_id).name == "contacts_masked"

        suggestions = {(s.field_id, s.category): s for s in session.exec(select(CategorySuggestion)).all()}
        email = suggestions[(customers["email"].id, "user.contact.email")]
        assert (email.recogniser, email.source, email.status) == ("openlineage:tag", first.source, "suggested")
        assert email.evidence == {"tag": {"key": "pii", "value": "email", "source": "MANUAL"}}
        assert (customers["full_name"].id, "user.name") in suggestions
        assert len(suggestions) == 2  # 'owner: sales' is no PII tag
        assert customers["email"].data_categories == []  # suggested, not asserted

        crm = session.get(System, "crm")
        assert (crm.source, crm.name, crm.owner_team) == ("manifest", "CRM", "Sales")
        assert session.exec(select(Conflict)).all() == []

    second = ingest_openlineage(systems, events_dir, mapping=mapping)
    assert (second.added, second.updated, second.retired, second.conflicts) == (0, 0, 0, 0)
    assert second.changes == []


def test_field_lineage_is_visible_in_the_graph(systems, events_dir, mapping):
    ingest_openlineage(systems, events_dir, mapping=mapping)
    with systems.session() as session:
        city = fields_of(session, "crm", "public.customers")["address.city"]
        graph = CatalogGraph.load(session)
    reached = {graph.node(key)["path"] for key in graph.descendants(node_key(NodeKind.FIELD, city.id))}
    assert reached == {"data-lake.contacts_masked.city", "data-lake.city_counts.city"}
    one_hop = graph.descendants(node_key(NodeKind.FIELD, city.id), depth=1)
    assert {graph.node(key)["path"] for key in one_hop} == {"data-lake.contacts_masked.city"}


def test_events_no_longer_seen_are_retired(systems, events_dir, mapping):
    ingest_openlineage(systems, events_dir, mapping=mapping)
    (events_dir / "b" / "batch.json").unlink()
    report = ingest_openlineage(systems, events_dir, mapping=mapping)
    assert report.added == 0 and report.retired > 0
    assert "retired flow" in " ".join(report.changes)
    with systems.session() as session:
        graph = CatalogGraph.load(session)
    assert not any(graph.node(k)["path"].startswith("data-lake.city_counts") for k in graph.nodes_of(NodeKind.FIELD))


def test_the_registry_runs_the_source_by_name(systems, events_dir, mapping):
    modules = {**SOURCE_MODULES, "openlineage": "ingest.openlineage:OpenLineageSource"}  # the line the registry gets
    report = run_source("openlineage", systems, {"path": events_dir, "mapping": mapping}, modules=modules)
    assert report.added > 0


def test_without_a_mapping_nothing_is_read_and_the_refusal_says_which_namespaces(systems, events_dir):
    before = table_counts(systems)
    with pytest.raises(IngestError) as raised:
        ingest_openlineage(systems, events_dir)
    assert table_counts(systems) == before
    assert raised.value.errors[0].message == f"nothing to ingest in {events_dir}: no entries read"
    assert any(f"namespace '{CRM}' maps to no system" in str(w) for w in raised.value.warnings)
    report = ingest_openlineage(systems, events_dir, allow_empty=True)
    assert report.source == "openlineage:default" and report.added == 0
    assert any(f"namespace '{CRM}' maps to no system" in str(w) for w in report.warnings)


def test_an_empty_event_file_is_refused_unless_allowed_since_it_would_retire_everything(systems, events_dir, mapping, tmp_path):
    assert ingest_openlineage(systems, events_dir, mapping=mapping).added > 0
    empty = write(tmp_path / "empty.ndjson", "")
    [error] = rejected(systems, empty, mapping=mapping)
    assert "no entries read, so this run would retire the" in error.message and "--allow-empty" in error.hint
    assert ingest_openlineage(systems, empty, mapping=mapping, allow_empty=True).retired > 0


@pytest.mark.parametrize("kind, suggestion", [("COMPLETED", "COMPLETE"), ("started", "START"), ("FAILED", "FAIL")])
def test_an_event_type_outside_the_spec_is_an_error_with_the_nearest(systems, tmp_path, mapping, kind, suggestion):
    path = write(tmp_path / "e.ndjson", json.dumps(export_contacts()) + "\n" + json.dumps(export_contacts() | {"eventType": kind}))
    [error] = rejected(systems, path, mapping=mapping)
    assert (error.file, error.line, error.field_path, error.suggestion) == ("e.ndjson", 2, "eventType", suggestion)
    assert f"invalid value '{kind.upper()}'" in error.message


def test_an_event_type_in_lower_case_is_read(systems, tmp_path, mapping):
    path = write(tmp_path / "e.json", json.dumps(export_contacts() | {"eventType": "complete"}))
    assert ingest_openlineage(systems, path, mapping=mapping).added > 0


# ---- bad and hostile input ------------------------------------------------------------------------


def test_a_mapped_system_missing_from_the_catalogue_is_an_error_with_the_nearest_id(systems, events_dir, tmp_path):
    mapping = write(tmp_path / "map.yml", f"""
        namespaces:
          "{CRM}": crmm
    """)
    [error] = rejected(systems, events_dir, mapping=mapping)
    assert "system 'crmm', which is not in the catalogue" in error.message
    assert (error.file, error.line, error.suggestion) == (str(mapping), 2, "crm")


def test_truncated_json_names_file_line_and_column(systems, tmp_path, mapping):
    path = write(tmp_path / "events.json", json.dumps(export_contacts(), indent=2)[:-40])
    errors = rejected(systems, path, mapping=mapping)
    assert len(errors) == 1 and errors[0].message.startswith("malformed JSON") and errors[0].file == "events.json"
    assert errors[0].line is not None and errors[0].column is not None


def test_wrong_types_and_missing_keys_name_the_event_position(systems, tmp_path, mapping):
    bad_type = export_contacts() | {"run": {"runId": 5}}
    no_time = {key: value for key, value in count_cities().items() if key != "eventTime"}
    array = write(tmp_path / "array" / "events.json", json.dumps([export_contacts(), bad_type, ["not an event"]]))
    errors = rejected(systems, array.parent, mapping=mapping)
    assert [(e.file, e.line, e.field_path) for e in errors] == [("events.json", None, "[1].run.runId"), ("events.json", None, "[2]")]
    ndjson = write(tmp_path / "nd" / "events.ndjson", "\n".join([json.dumps(export_contacts()), json.dumps(no_time), '{"eventType": "COMPLETE",']))
    errors = rejected(systems, ndjson, mapping=mapping)
    assert [(e.line, e.field_path) for e in errors] == [(2, "eventTime"), (3, "")]
    assert "missing required key 'eventTime'" in errors[0].message and errors[1].message.startswith("malformed JSON")


def test_skip_invalid_keeps_the_good_events_and_warns_with_positions(systems, tmp_path, mapping):
    path = write(tmp_path / "events.ndjson", "\n".join([json.dumps(export_contacts()), "{truncated", json.dumps({"eventType": "COMPLETE"})]))
    report = ingest_openlineage(systems, path, mapping=mapping, skip_invalid=True)
    assert report.added > 0
    skipped = [w for w in report.warnings if w.message.startswith("skipped:")]
    assert [(w.file, w.line) for w in skipped[:1]] == [("events.ndjson", 2)]
    assert {w.line for w in skipped} == {2, 3}


def test_facets_of_the_wrong_shape_are_located(systems, tmp_path, mapping):
    bad = export_contacts()
    bad["outputs"][0]["facets"]["columnLineage"]["fields"]["city"]["inputFields"] = "address.city"
    errors = rejected(systems, write(tmp_path / "e.json", json.dumps(bad)), mapping=mapping)
    assert [e.field_path for e in errors] == ["outputs[0].facets.columnLineage.fields.city.inputFields"]


def test_a_mapping_with_an_unknown_key_is_refused_with_its_line(systems, events_dir, tmp_path):
    mapping = write(tmp_path / "map.yml", """
        namespace:
          "s3://lake": data-lake
    """)
    [error] = rejected(systems, events_dir, mapping=mapping)
    assert (error.line, error.suggestion) == (1, "namespaces")


def test_a_file_over_the_default_limit_is_refused_before_parsing(systems, tmp_path, mapping):
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: 50 MB + 1 byte written in no time
        handle.truncate(DEFAULT_MAX_BYTES + 1)
    [error] = rejected(systems, path, mapping=mapping)
    assert "over the limit of 52,428,800" in error.message and error.file == "huge.json"


def test_the_size_limit_is_configurable(systems, tmp_path, mapping):
    path = write(tmp_path / "events.json", json.dumps([export_contacts()] * 5))
    [error] = rejected(systems, path, mapping=mapping, max_bytes=1000)
    assert "over the limit of 1,000" in error.message


def test_deeply_nested_json_is_an_error_not_a_crash(systems, tmp_path, mapping):
    path = write(tmp_path / "deep.json", "[" * 100_000 + "]" * 100_000)
    [error] = rejected(systems, path, mapping=mapping)
    assert error.message.startswith("malformed JSON")


def test_credentials_in_a_namespace_are_masked_in_warnings(systems, tmp_path, mapping):
    secret = "postgres://etl:hunter2@other-db:5432"
    path = write(tmp_path / "e.json", json.dumps(event("COMPLETE", "r", "j", [{"namespace": secret, "name": "t"}], [])))
    report = ingest_openlineage(systems, path, mapping=mapping, allow_empty=True)
    assert "hunter2" not in " ".join(str(w) for w in report.warnings)
    with systems.session() as session:
        assert all("hunter2" not in " ".join(run.warnings) for run in session.exec(select(IngestRun)).all())


def test_a_json_file_may_hold_one_event_per_line(systems, tmp_path, mapping):
    path = write(tmp_path / "events.json", "\n".join(json.dumps(e) for e in [export_contacts(), count_cities()]))
    assert ingest_openlineage(systems, path, mapping=mapping).added > 0


def test_trailing_garbage_after_a_pretty_printed_event_is_one_error(systems, tmp_path, mapping):
    path = write(tmp_path / "events.json", json.dumps(export_contacts(), indent=2) + "\n}\n")
    [error] = rejected(systems, path, mapping=mapping)
    assert error.message == "malformed JSON: Extra data" and error.line == len(json.dumps(export_contacts(), indent=2).splitlines()) + 1


def test_credentials_in_a_mapped_namespace_are_masked_in_errors(systems, tmp_path):
    secret = "postgres://etl:hunter2@crm-db:5432"
    mapping = write(tmp_path / "map.yml", f'namespaces:\n  "{secret}": crmm\n')
    path = write(tmp_path / "e.json", json.dumps(event("COMPLETE", "r", "j", [{"namespace": secret, "name": "t"}], [])))
    [error] = rejected(systems, path, mapping=mapping)
    assert "hunter2" not in str(error) and "etl:***@crm-db" in error.field_path


def test_a_pii_tag_naming_no_category_is_one_warning_with_its_first_place(systems, tmp_path, mapping):
    tagged = export_contacts()
    tagged["inputs"][0]["facets"]["tags"]["tags"] = [{"key": "PII", "value": "shoe size", "field": "full_name"}]
    path = write(tmp_path / "events.ndjson", "\n".join(json.dumps(tagged | {"run": {"runId": f"r{n}"}}) for n in range(3)))
    report = ingest_openlineage(systems, path, mapping=mapping)
    [warning] = [w for w in report.warnings if "names no data category" in w.message]
    assert (warning.file, warning.line) == ("events.ndjson", 1) and "(and 2 more event(s))" in warning.message
    with systems.session() as session:
        assert [s.category for s in session.exec(select(CategorySuggestion)).all()] == ["user"]


def test_an_event_time_must_be_an_iso_string(systems, tmp_path, mapping):
    path = write(tmp_path / "e.json", json.dumps([export_contacts() | {"eventTime": 1_700_000_000}, export_contacts() | {"eventTime": "yesterday"}]))
    errors = rejected(systems, path, mapping=mapping)
    assert [(e.field_path, e.message) for e in errors] == [
        ("[0].eventTime", "eventTime must be an ISO 8601 date-time string"),
        ("[1].eventTime", "eventTime 'yesterday' is not an ISO 8601 date-time"),
    ]


def test_an_event_time_with_a_lone_surrogate_is_a_located_error(systems, tmp_path, mapping):
    path = write(tmp_path / "e.json", json.dumps(export_contacts() | {"eventTime": "\ud800"}))  # escaped in the file: valid JSON and UTF-8
    [error] = rejected(systems, path, mapping=mapping)
    assert (error.file, error.field_path) == ("e.json", "eventTime")
    assert error.message == "eventTime '\\ud800' is not an ISO 8601 date-time"


def test_names_differing_only_in_surrounding_spaces_are_one_dataset(systems, tmp_path, mapping):
    spaced = event("COMPLETE", "r", "j", [{"namespace": CRM, "name": "public.t", "facets": {"schema": facet(fields=[{"name": "a"}, {"name": " a "}])}}],
                   [{"namespace": LAKE, "name": " public.t "}, {"namespace": LAKE, "name": "public.t"}])
    report = ingest_openlineage(systems, write(tmp_path / "e.json", json.dumps(spaced)), mapping=mapping)
    with systems.session() as session:
        assert list(fields_of(session, "crm", "public.t")) == ["a"]
        assert [d.name for d in session.exec(select(Dataset).where(Dataset.system_id == "data-lake")).all()] == ["public.t"]
    assert report.status == RunStatus.SUCCEEDED
