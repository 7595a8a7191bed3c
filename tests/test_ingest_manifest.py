"""The manifest source: a tree of YAML files in, one run out; bad input names file, line and field
and leaves every table as it was."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
import yaml

from catalog.models import IngestRun, System
from catalog.vocab import RunStatus
from ingest.base import IngestReport
from ingest.errors import IngestError, LocatedError
from ingest.manifest import ingest_manifests, load_manifests, manifest_json_schema
from ingest.yaml_source import MAX_DEPTH, parse_yaml
from tests.factories import table_counts, small_spec_data


def write(root: Path, name: str, text: str) -> Path:
    """Write a manifest file; text is dedented so tests can state exact line numbers."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def dump(root: Path, name: str, data: dict) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def manifest_dir(tmp_path) -> Path:
    """tests.factories.small_spec_data() split over files as a team would keep it, plus a system
    nothing refers to (so it can be removed)."""
    root = tmp_path / "manifests"
    data = small_spec_data()
    dump(root, "organisation.yml", {"organisation": data["organisation"]})
    dump(root, "locations.yaml", {"locations": data["locations"]})
    dump(root, "parties.yml", {"parties": data["parties"]})
    for system in data["systems"]:
        dump(root, f"systems/{system['id']}.yml", {"systems": [system]})
    dump(root, "activities.yml", {"activities": data["activities"]})
    dump(root, "flows.yml", {"flows": data["flows"]})
    write(root, "systems/legacy.yml", """
        systems:
          - id: legacy
            name: Legacy intranet
            owner_team: IT
    """)
    write(root, "README.md", "not a manifest")
    write(root, ".github/workflows/ci.yml", "on: push\njobs: {}\n")  # hidden: not a manifest
    return root


LEGACY_WITH_A_TYPO = """
    systems:
      - id: legacy
        name: Legacy intranet
        ownr_team: IT
"""


def rejected(catalog, path: Path) -> list[LocatedError]:
    """Ingest expecting failure; the database must be exactly as before."""
    before = table_counts(catalog)
    with pytest.raises(IngestError) as raised:
        ingest_manifests(catalog, path, actor="tester")
    assert table_counts(catalog) == before
    return raised.value.errors


def only_error(errors: list[LocatedError]) -> LocatedError:
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


@pytest.fixture
def ingested(catalog, manifest_dir):
    """The valid tree ingested once, so failure tests show that nothing changes."""
    ingest_manifests(catalog, manifest_dir)
    return catalog


# ---- valid trees ------------------------------------------------------------------------------


def test_valid_tree_ingests_and_a_rerun_changes_nothing(catalog, manifest_dir):
    first = ingest_manifests(catalog, manifest_dir, actor="alice")
    assert first.status == RunStatus.SUCCEEDED and not first.errors
    assert first.read == 1 + 2 + 4 + 4 + 2 + 4 + 2 + 4  # org, locations, parties, systems, datasets, fields, activities, flows
    assert (first.added, first.updated, first.retired) == (first.read, 0, 0)

    second = ingest_manifests(catalog, manifest_dir, actor="alice")
    assert (second.added, second.updated, second.retired) == (0, 0, 0)
    assert second.unchanged == first.read
    assert second.run_id != first.run_id

    with catalog.session() as session:
        crm = session.get(System, "crm")
        run = session.get(IngestRun, second.run_id)
    # provenance names the run that asserted the current content, not the last run that saw it
    assert crm.source == "manifest" and crm.source_ref == "systems/crm.yml:2" and crm.run_id == first.run_id
    assert (run.source, run.target, run.actor, run.unchanged) == ("manifest", str(manifest_dir), "alice", first.read)


def test_removing_a_system_file_retires_the_system_and_keeps_its_row(catalog, manifest_dir):
    ingest_manifests(catalog, manifest_dir)
    (manifest_dir / "systems" / "legacy.yml").unlink()

    report = ingest_manifests(catalog, manifest_dir)

    assert (report.added, report.updated, report.retired) == (0, 0, 1)
    with catalog.session() as session:
        legacy = session.get(System, "legacy")
    assert legacy is not None and legacy.retired_run_id == report.run_id and legacy.retired_at is not None
    assert "retired system legacy" in report.changes


def test_an_empty_manifest_is_refused_unless_allowed_since_it_would_retire_everything(ingested, tmp_path):
    empty = write(tmp_path, "empty.yml", "")
    before = table_counts(ingested)
    with pytest.raises(IngestError) as raised:
        ingest_manifests(ingested, empty)
    assert table_counts(ingested) == before
    [error] = raised.value.errors
    assert error.message == f"nothing to ingest in {empty}: no entries read, so this run would retire the 23 entries earlier manifest runs asserted"
    assert "--allow-empty" in error.hint and "did you mean" not in str(error)

    report = ingest_manifests(ingested, empty, allow_empty=True)  # the way to retire everything
    assert (report.read, report.retired) == (0, 23)
    with ingested.session() as session:
        assert session.get(System, "crm").retired_run_id == report.run_id


def test_an_empty_manifest_on_an_empty_catalogue_is_refused_too(catalog, tmp_path):
    comments_only = write(tmp_path, "m/systems.yml", "# systems: to come\nsystems:\n")
    error = only_error(rejected(catalog, comments_only.parent))
    assert error.message == f"nothing to ingest in {comments_only.parent}: no entries read" and "--allow-empty" in error.hint


def test_a_manifest_file_over_max_bytes_is_refused_before_parsing(ingested, manifest_dir):
    before = table_counts(ingested)
    with pytest.raises(IngestError) as raised:
        ingest_manifests(ingested, manifest_dir, max_bytes=100)
    assert table_counts(ingested) == before
    assert any(e.file == "flows.yml" and "over the limit of 100 bytes" in e.message for e in raised.value.errors)


def test_a_single_file_is_a_manifest_too(catalog, tmp_path):
    path = dump(tmp_path, "catalog.yaml", small_spec_data())
    report = ingest_manifests(catalog, path)
    assert report.added == report.read > 0
    with catalog.session() as session:
        assert session.get(System, "crm").source_ref == f"{path}:{path.read_text().splitlines().index('- id: crm') + 1}"


def test_load_manifests_maps_entries_to_file_and_line(manifest_dir):
    spec, refs = load_manifests(manifest_dir)
    assert [s.id for s in spec.systems] == ["backup", "crm", "hosting", "legacy"]  # file order
    assert refs[("systems", 3)] == "systems/legacy.yml:2"
    assert refs[("systems", 3, "owner_team")] == "systems/legacy.yml:4"
    assert refs[("organisation",)] == "organisation.yml:1"
    assert refs[("systems", 1, "datasets", 0, "fields", 0)].startswith("systems/crm.yml:")


def test_source_refs_are_a_mapping_of_every_path_read(manifest_dir):
    _spec, refs = load_manifests(manifest_dir)
    paths = list(refs)
    assert len(paths) == len(refs) > 50 and len(set(paths)) == len(paths)
    assert all(refs[path].rsplit(":", 1)[1].isdigit() for path in paths)
    assert ("systems", 3) in refs and ("organisation",) in refs
    assert refs.get(("systems", 99)) is None and refs.get(("systems", 3, "no_such_key")) is None and ("nothing",) not in refs


def test_report_summary_and_dict(catalog, manifest_dir):
    report = ingest_manifests(catalog, manifest_dir)
    assert f"{report.added} added, 0 updated" in report.summary() and "succeeded" in report.summary()
    as_dict = json.loads(json.dumps(report.as_dict()))
    assert as_dict["status"] == "succeeded" and as_dict["run_id"] == report.run_id and as_dict["added"] == report.added


def test_a_failed_run_reports_its_errors_and_no_counts(catalog, tmp_path):
    write(tmp_path / "bad", "a.yml", "systems: [\n")
    with pytest.raises(IngestError) as raised:
        ingest_manifests(catalog, tmp_path / "bad")
    report = IngestReport.failed("manifest", "bad", raised.value)
    assert report.status == RunStatus.FAILED and report.run_id is None
    assert "nothing written: 1 error(s)" in report.summary()
    assert "error: a.yml:2:1: malformed YAML" in report.summary()
    assert report.as_dict()["errors"][0]["file"] == "a.yml"


# ---- bad input: file, line, field, and nothing written ----------------------------------------


def test_malformed_yaml_gives_file_line_and_the_parsers_problem(ingested, manifest_dir):
    write(manifest_dir, "systems/broken.yml", """
        systems:
          - id: broken
            name: [unclosed
          - id: other
    """)
    error = only_error(rejected(ingested, manifest_dir))
    assert (error.file, error.line) == ("systems/broken.yml", 4)
    assert error.message.startswith("malformed YAML: ")
    assert "expected ',' or ']'" in error.message  # libyaml says "did not find expected ..."; PyYAML's parser "expected ..."
    assert "started at line 3" in error.message


def test_unknown_taxonomy_key_is_located_at_the_item_with_a_suggestion(ingested, manifest_dir):
    write(manifest_dir, "systems/crm.yml", """
        systems:
          - id: crm
            name: CRM
            hosted_in: [lon]
            datasets:
              - name: contacts
                fields:
                  - name: email
                    categories: [user.contact.email]
                  - name: email_backup
                    categories:
                      - user.name
                      - user.contact.emial
    """)
    error = only_error(rejected(ingested, manifest_dir))
    assert str(error) == (
        "systems/crm.yml:13: systems[0].datasets[0].fields[1].categories[1]: "
        "unknown data category 'user.contact.emial' (did you mean 'user.contact.email'?)"
    )
    assert error.suggestion == "user.contact.email"


def test_unknown_country_suggests_the_code(ingested, manifest_dir):
    write(manifest_dir, "locations.yaml", """
        locations:
          - {id: lon, name: London DC, country: GB}
          - id: dub
            name: Dublin region
            country: Untied Kingdom
    """)
    error = only_error(rejected(ingested, manifest_dir))
    assert (error.file, error.line, error.field_path) == ("locations.yaml", 5, "locations[1].country")
    assert error.suggestion == "GB"
    assert "Untied Kingdom" in error.message and "did you mean" not in error.message  # the hint is added once


def test_duplicate_id_across_two_files(ingested, manifest_dir):
    write(manifest_dir, "systems/zz-copy.yml", """
        systems:
          - id: crm
            name: Another CRM
    """)
    error = only_error(rejected(ingested, manifest_dir))
    assert (error.file, error.line, error.field_path) == ("systems/zz-copy.yml", 2, "systems[0].id")
    assert error.message == "duplicate system id 'crm'"


def test_dangling_reference_suggests_the_nearest_id(ingested, manifest_dir):
    write(manifest_dir, "flows-extra.yml", """
        flows:
          - id: crm-to-nowhere
            from: crm
            to: backpu
    """)
    error = only_error(rejected(ingested, manifest_dir))
    assert str(error) == "flows-extra.yml:4: flows[0].to: unknown system or party 'backpu' (did you mean 'backup'?)"


def test_unknown_key_suggests_the_valid_key(ingested, manifest_dir):
    write(manifest_dir, "systems/legacy.yml", LEGACY_WITH_A_TYPO)
    error = only_error(rejected(ingested, manifest_dir))
    assert (error.file, error.line, error.field_path) == ("systems/legacy.yml", 4, "systems[0].ownr_team")
    assert error.message == "unknown key 'ownr_team'" and error.suggestion == "owner_team"


def test_unknown_section_and_enum_value_suggest_the_nearest(ingested, manifest_dir):
    write(manifest_dir, "systems/legacy.yml", """
        sytems: []
        systems:
          - id: legacy
            name: Legacy intranet
            role: contrler
    """)
    errors = rejected(ingested, manifest_dir)
    assert [(e.line, e.field_path, e.suggestion) for e in errors] == [
        (1, "sytems", "systems"),
        (5, "systems[0].role", "controller"),
    ]


def test_a_directory_without_manifests_and_a_missing_path_are_errors(catalog, tmp_path):
    empty = tmp_path / "empty"
    write(empty, "notes.txt", "nothing here")
    assert only_error(rejected(catalog, empty)).message == f"no *.yml or *.yaml files in {empty}"
    missing = tmp_path / "missing"
    assert only_error(rejected(catalog, missing)).message == f"no such file or directory: {missing}"


def test_python_tags_are_refused_and_never_run(ingested, manifest_dir, tmp_path):
    marker = tmp_path / "pwned"
    write(manifest_dir, "systems/evil.yml", f"""
        systems:
          - id: evil
            name: !!python/object/apply:os.system ["touch {marker}"]
    """)
    error = only_error(rejected(ingested, manifest_dir))
    assert (error.file, error.line, error.field_path) == ("systems/evil.yml", 3, "systems[0].name")
    assert "'!!python/object/apply:os.system' is not allowed" in error.message
    assert not marker.exists()


def test_text_that_only_looks_like_a_number_or_date_is_a_located_error(ingested, manifest_dir):
    write(manifest_dir, "systems/odd.yml", """
        systems:
          - id: odd
            name: Odd
            description: 0x_
            owner_team: 2024-13-45
    """)
    errors = rejected(ingested, manifest_dir)
    assert [(e.file, e.line, e.field_path) for e in errors] == [("systems/odd.yml", 4, "systems[0].description"), ("systems/odd.yml", 5, "systems[0].owner_team")]
    assert "'0x_' reads as !!int but is not a valid one" in errors[0].message and "quote it if it is text" in errors[0].message
    assert "'2024-13-45' reads as !!timestamp" in errors[1].message


@pytest.mark.parametrize("value, message", [
    ("!!bool maybe", "'maybe' is not a valid !!bool"),
    ("!!int ''", "'' is not a valid !!int"),
    ("!!timestamp x", "'x' is not a valid !!timestamp"),
    ("!!int '0x_'", "'0x_' is not a valid !!int (invalid literal"),
    ("!!omap [{a: !!bool x}]", "a value in this !!omap does not fit its tag"),
])
def test_a_value_that_does_not_fit_its_tag_is_a_located_error(ingested, manifest_dir, value, message):
    write(manifest_dir, "systems/odd.yml", f"""
        systems:
          - id: odd
            name: Odd
            description: {value}
    """)
    error = only_error(rejected(ingested, manifest_dir))
    assert (error.file, error.line, error.field_path) == ("systems/odd.yml", 4, "systems[0].description")
    assert message in error.message


def test_nesting_deeper_than_python_can_follow_is_a_located_error(ingested, manifest_dir):
    write(manifest_dir, "systems/deep.yml", "systems:\n  - id: deep\n    name: Deep\n    description: " + "[" * 500 + "]" * 500 + "\n")
    error = only_error(rejected(ingested, manifest_dir))
    assert (error.file, error.line) == ("systems/deep.yml", 4) and error.message == f"nested more than {MAX_DEPTH} levels deep"


def test_a_file_name_that_is_not_utf8_is_shown_and_stored_escaped(catalog, tmp_path):
    root = tmp_path / "manifests"
    root.mkdir()
    odd_name = os.fsdecode(b"m\xff.yml")  # a byte that is not UTF-8, as Linux allows in names
    dump(root, odd_name, small_spec_data())
    report = ingest_manifests(catalog, root)
    assert report.added > 0
    with catalog.session() as session:
        assert session.get(System, "crm").source_ref.startswith("m\\xff.yml:")
    (root / odd_name).write_text("systems: [\n", encoding="utf-8")
    error = only_error(rejected(catalog, root))
    assert error.file == "m\\xff.yml" and str(error).startswith("m\\xff.yml:")


def test_two_organisation_blocks_are_an_error(ingested, manifest_dir):
    write(manifest_dir, "zz-organisation.yml", """
        organisation:
          id: other
          name: Other Ltd
    """)
    error = only_error(rejected(ingested, manifest_dir))
    assert (error.file, error.line, error.field_path) == ("zz-organisation.yml", 1, "organisation")
    assert "already declared in organisation.yml:1" in error.message


def test_every_error_of_every_file_is_reported_in_file_order(ingested, manifest_dir):
    write(manifest_dir, "systems/legacy.yml", LEGACY_WITH_A_TYPO)
    write(manifest_dir, "locations.yaml", """
        locations:
          - {id: lon, name: London DC, country: GB}
          - {id: dub, name: Dublin region, country: Irland}
    """)
    write(manifest_dir, "systems/broken.yml", "systems: [\n")
    errors = rejected(ingested, manifest_dir)
    assert [(e.file, e.line) for e in errors] == [("locations.yaml", 3), ("systems/broken.yml", 2), ("systems/legacy.yml", 4)]


def test_duplicate_keys_in_one_mapping_are_an_error(ingested, manifest_dir):
    write(manifest_dir, "systems/legacy.yml", """
        systems:
          - id: legacy
            name: Legacy intranet
            name: Intranet
    """)
    error = only_error(rejected(ingested, manifest_dir))
    assert (error.file, error.line, error.field_path) == ("systems/legacy.yml", 4, "systems[0].name")
    assert error.message == "duplicate key 'name' (first at line 3)"


# ---- the YAML loader and the schema -----------------------------------------------------------


def test_yaml_lines_follow_keys_items_and_merge_keys():
    document = parse_yaml(textwrap.dedent("""\
        defaults: &owner
          owner_team: Ops
        systems:
          - <<: *owner
            id: crm
            name: CRM
          - id: erp
            name: ERP
    """), "x.yml")
    assert document.data["systems"][0] == {"owner_team": "Ops", "id": "crm", "name": "CRM"}
    assert document.lines[("systems", 1)] == 7
    assert document.lines[("systems", 1, "name")] == 8
    assert document.lines[("systems", 0, "owner_team")] == 2  # where the merged value is written
    assert document.line_of(("systems", 1, "datasets", 0)) == 7  # missing part: nearest enclosing line


def test_manifest_json_schema_uses_the_manifest_key_names():
    schema = manifest_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "ROPA catalogue manifest"
    assert set(schema["properties"]) == {"organisation", "locations", "systems", "parties", "activities", "flows", "field_lineage"}
    assert "categories" in schema["$defs"]["FieldSpec"]["properties"]
    assert {"from", "to"} <= set(schema["$defs"]["FlowSpec"]["properties"])
