"""The `ropa` command end to end: exit codes, messages, and the demo organisation."""

import json

import pytest
from openpyxl import load_workbook
from sqlmodel import select
from typer.testing import CliRunner

from catalog.models import ENTITY_TABLES
from catalog.store import open_catalog
from ropa.cli import app
from ropa.demo import demo_manifest_dir

runner = CliRunner()


def invoke(*args: str):
    """Run `ropa ARGS`; any exception other than the command's own exit fails the test."""
    result = runner.invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture
def demo_db(catalog_url, tmp_path):
    """The demo organisation loaded by `ropa demo` into a fresh catalogue."""
    result = invoke("demo", "--database", catalog_url, "--out", str(tmp_path / "ropa.xlsx"))
    assert result.exit_code == 0, result.output
    return catalog_url


def test_help_on_every_command():
    for command in (["--help"], ["init", "--help"], ["ingest", "manifest", "--help"], ["export", "ropa", "--help"],
                    ["transfers", "--help"], ["dashboard", "--help"], ["demo", "--help"], ["synth", "--help"], ["schema", "--help"],
                    ["lineage", "--help"], ["check", "--help"], ["dsar", "--help"], ["sources", "--help"]):
        result = invoke(*command)
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_usage_error_exits_2():
    assert runner.invoke(app, ["transfers", "--no-such-option"]).exit_code == 2


def test_command_on_uninitialised_catalogue_says_what_to_run(tmp_path):
    result = runner.invoke(app, ["transfers", "--database", f"sqlite:///{tmp_path / 'none.db'}"])
    assert result.exit_code == 1
    assert "ropa init" in result.output


def test_init_then_ingest_bad_manifest_exits_1_and_writes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert invoke("init", "--database", url).exit_code == 0
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "systems.yml").write_text("systems:\n  - id: crm\n    name: CRM\n    hosted_in: [nowhere]\n")
    result = runner.invoke(app, ["ingest", "manifest", str(tmp_path / "m"), "--database", url])
    assert result.exit_code == 1
    assert "systems.yml:4" in result.output and "unknown location 'nowhere'" in result.output
    catalog = open_catalog(url)
    with catalog.session() as session:
        assert all(not session.exec(select(model)).all() for model in ENTITY_TABLES)
    catalog.dispose()


def test_demo_writes_workbook_with_one_row_per_controller_activity(demo_db, tmp_path):
    workbook = load_workbook(tmp_path / "ropa.xlsx")
    sheet = workbook["Controller record"]
    headings = [sheet.cell(row=9, column=c).value for c in range(1, 31)]
    assert headings[0] == "Business function" and headings[1] == "Purpose of processing"
    assert headings[29] == "Reasons for not adhering to policy document (if applicable)"
    rows = [r for r in sheet.iter_rows(min_row=10, values_only=True) if any(r)]
    catalog = open_catalog(demo_db)
    from catalog.models import ProcessingActivity

    with catalog.session() as session:
        controller_activities = session.exec(select(ProcessingActivity).where(ProcessingActivity.role == "controller")).all()
    catalog.dispose()
    assert len(rows) == len(controller_activities) > 3


def test_demo_reingest_changes_nothing(demo_db):
    result = invoke("ingest", "manifest", str(demo_manifest_dir()), "--database", demo_db)
    assert result.exit_code == 0
    assert "0 added" in result.output and "0 updated" in result.output and "0 retired" in result.output


def test_transfers_json_lists_restricted_with_mechanism_and_gaps(demo_db):
    result = invoke("transfers", "--format", "json", "--database", demo_db)
    data = json.loads(result.output)
    restricted = [t for t in data["transfers"] if t["restricted_under"]]
    assert any(t["mechanism"] for t in restricted)
    assert any(t["gap"] for t in restricted)
    assert all(t["gap"] for t in restricted if not t["mechanism"])


def test_transfers_table_shows_gap_count(demo_db):
    result = invoke("transfers", "--database", demo_db)
    assert result.exit_code == 0 and "restricted without a mechanism" in result.output


def test_schema_is_json_schema_for_manifests():
    result = invoke("schema")
    schema = json.loads(result.output)
    assert "systems" in schema["properties"] and "flows" in schema["properties"]


def test_synth_is_deterministic(tmp_path):
    counts = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        assert invoke("synth", "--systems", "15", "--fields-per-system", "4", "--seed", "7", "--database", url).exit_code == 0
        catalog = open_catalog(url)
        from catalog.models import DataField, System

        with catalog.session() as session:
            counts.append((sorted(s.name for s in session.exec(select(System)).all()), len(session.exec(select(DataField)).all())))
        catalog.dispose()
    assert counts[0] == counts[1] and len(counts[0][0]) == 15 and counts[0][1] == 60


def test_sources_lists_manifest_with_its_option():
    result = invoke("sources")
    assert result.exit_code == 0 and "manifest" in result.output and "path" in result.output


def _manifest_tree(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "loc.yml").write_text("locations:\n  - {id: lon, name: London, country: UK}\n")
    return folder


def test_job_file_runs_sources_in_order(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    invoke("init", "--database", url)
    job = tmp_path / "jobs.yml"
    second = tmp_path / "second"
    second.mkdir()
    job.write_text(f"jobs:\n  - source: manifest\n    path: {_manifest_tree(tmp_path)}\n  - source: manifest\n    path: {_manifest_tree(second)}\n")
    result = invoke("ingest", "--job", str(job), "--database", url)
    assert result.exit_code == 0, result.output
    assert "[1/2] manifest" in result.output and "[2/2] manifest" in result.output
    assert "1 added" in result.output


def test_job_file_with_unknown_source_or_option_runs_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    invoke("init", "--database", url)
    job = tmp_path / "jobs.yml"
    job.write_text(f"jobs:\n  - source: manifest\n    path: {_manifest_tree(tmp_path)}\n  - source: manifets\n  - source: manifest\n    pth: x\n")
    result = invoke("ingest", "--job", str(job), "--database", url)
    assert result.exit_code == 1
    assert "jobs.yml:4" in result.output and "did you mean 'manifest'" in result.output
    assert "jobs.yml:6" in result.output and "'path'" in result.output
    catalog = open_catalog(url)
    with catalog.session() as session:
        from catalog.models import Location

        assert session.exec(select(Location)).all() == []
    catalog.dispose()


# ---- empty input, job files, usage errors, catalogue URLs -----------------------------------------


def test_an_empty_manifest_is_refused_and_allow_empty_retires_everything(demo_db, tmp_path):
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    refused = runner.invoke(app, ["ingest", "manifest", str(empty), "--database", demo_db])
    assert refused.exit_code == 1
    assert f"nothing to ingest in {empty}: no entries read, so this run would retire the" in refused.output
    assert "--allow-empty" in refused.output and "did you mean" not in refused.output
    allowed = invoke("ingest", "manifest", str(empty), "--allow-empty", "--database", demo_db)
    assert allowed.exit_code == 0 and "0 read" in allowed.output and "0 retired" not in allowed.output


def test_ingest_database_option_given_before_the_source_is_used(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    invoke("init", "--database", url)
    result = invoke("ingest", "--database", url, "manifest", str(_manifest_tree(tmp_path)))
    assert result.exit_code == 0 and "1 added" in result.output
    assert not (tmp_path / "ropa.db").exists()


def test_a_job_file_and_a_source_together_are_a_usage_error(tmp_path):
    job = tmp_path / "jobs.yml"
    job.write_text(f"jobs:\n  - source: manifest\n    path: {_manifest_tree(tmp_path)}\n")
    result = runner.invoke(app, ["ingest", "--job", str(job), "manifest", str(tmp_path), "--database", f"sqlite:///{tmp_path / 'c.db'}"])
    assert result.exit_code == 2 and "--job" in result.output and "not both" in result.output


def test_a_failing_job_names_its_line_and_says_the_earlier_jobs_were_written(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    invoke("init", "--database", url)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "loc.yml").write_text("locations:\n  - {id: par, name: Paris, country: Frence}\n")
    job = tmp_path / "jobs.yml"
    job.write_text(f"jobs:\n  - source: manifest\n    path: {_manifest_tree(tmp_path)}\n  - source: manifest\n    path: {bad}\n  - source: manifest\n    path: {bad}\n")
    result = runner.invoke(app, ["ingest", "--job", str(job), "--database", url])
    assert result.exit_code == 1
    assert f"{job}:4: job 2 (manifest) failed with 1 error(s) and wrote nothing; job 1 before it was written (each job is its own run); job 3 did not run" in " ".join(result.output.split())
    catalog = open_catalog(url)
    with catalog.session() as session:
        from catalog.models import Location

        assert [location.id for location in session.exec(select(Location)).all()] == ["lon"]
    catalog.dispose()


def test_messages_with_brackets_are_not_eaten_as_markup(tmp_path):
    job = tmp_path / "jobs.yml"
    job.write_text("jobs:\n  - source: manifest[mysql]\n")
    result = runner.invoke(app, ["ingest", "--job", str(job), "--database", f"sqlite:///{tmp_path / 'c.db'}"])
    assert result.exit_code == 1 and "unknown source 'manifest[mysql]'" in result.output and "jobs[0].source" in result.output


def test_sources_lists_allow_empty_and_shows_brackets():
    from ingest.database import MYSQL_DRIVER_INSTALLED

    result = invoke("sources")
    assert "allow_empty" in result.output
    if not MYSQL_DRIVER_INSTALLED:
        assert "ropa-catalog[mysql]" in result.output


@pytest.mark.parametrize("args, option", [
    (["export", "ropa", "--template", "foo"], "--template"),
    (["export", "map", "--format", "xyz"], "--format"),
    (["export", "map", "--out", "flows.xyz"], "--out"),
    (["ingest", "database", "sqlite:///x.db", "--system", "crm", "--sample-rows", "-5"], "--sample-rows"),
    (["ingest", "subprocessors", "list.csv", "--processor", "p", "--max-bytes", "0"], "--max-bytes"),
])
def test_usage_errors_exit_2_naming_the_option(args, option, tmp_path):
    result = runner.invoke(app, [*args, "--database", f"sqlite:///{tmp_path / 'none.db'}"])
    assert result.exit_code == 2 and option in result.output, result.output


def test_the_cli_choices_are_the_exporters_own():
    from exports.map_export import MAP_FORMATS
    from exports.workbook import TEMPLATES
    from ropa.cli import Template
    from ropa.export_commands import MapFormat

    assert tuple(Template) == TEMPLATES and tuple(MapFormat) == MAP_FORMATS


def test_unknown_map_filters_are_refused_with_a_suggestion(demo_db, tmp_path):
    out = tmp_path / "flows.dot"
    category = runner.invoke(app, ["export", "map", "--out", str(out), "--category", "user.contact.emial", "--database", demo_db])
    assert category.exit_code == 1 and "unknown data category 'user.contact.emial' (did you mean 'user.contact.email'?)" in category.output
    activity = runner.invoke(app, ["export", "map", "--out", str(out), "--activity", "client-contract", "--database", demo_db])
    assert activity.exit_code == 1 and "no activity 'client-contract' in the catalogue (did you mean 'client-contracts'?)" in activity.output
    assert not out.exists()


@pytest.mark.parametrize("url, expected", [
    ("ropa.db", "error: 'ropa.db' is not a database URL; for a SQLite file write sqlite:///ropa.db"),
    ("notaurl://x", "error: 'notaurl://x' names no database driver"),
    ("postgresql+psycopg://ropa:S3cretPW@127.0.0.1:1/ropa", "error: cannot connect to the catalogue at postgresql+psycopg://ropa:***@127.0.0.1:1/ropa"),
])
def test_an_unusable_catalogue_url_is_one_line_on_every_command(url, expected, tmp_path):
    for command in (["init"], ["transfers"], ["check"], ["export", "ropa", "--out", str(tmp_path / "r.xlsx")], ["ingest", "manifest", str(tmp_path)]):
        result = runner.invoke(app, [*command, "--database", url])
        assert result.exit_code == 1 and result.output.startswith(expected), (command, result.output)
        assert "Traceback" not in result.output and "S3cretPW" not in result.output and len(result.output.strip().splitlines()) <= 2


def test_init_refuses_a_missing_directory_and_masks_passwords(tmp_path):
    missing = runner.invoke(app, ["init", "--database", f"sqlite:///{tmp_path / 'typo' / 'x.db'}"])
    assert missing.exit_code == 1 and "does not exist" in missing.output and not (tmp_path / "typo").exists()
    ready = invoke("init", "--database", f"sqlite:///{tmp_path / 'c.db'}?password=S3cretPW")
    assert ready.exit_code == 0 and "password=***" in ready.output and "S3cretPW" not in ready.output


def test_a_refused_run_prints_the_warnings_that_explain_it(demo_db):
    events = demo_manifest_dir().parents[2] / "examples" / "openlineage" / "events.ndjson"
    result = runner.invoke(app, ["ingest", "openlineage", str(events), "--database", demo_db])
    assert result.exit_code == 1 and "nothing to ingest in" in result.output
    assert "warning: namespace '" in result.output and "maps to no system" in result.output
