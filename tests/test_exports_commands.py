"""`export json | csv | map`, registered onto an export group as ropa.cli will register them."""

from __future__ import annotations

import json
import shutil

import pytest
import typer
from typer.testing import CliRunner

from ropa.export_commands import register


@pytest.fixture
def export_app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture
def database(tmp_path) -> str:
    from catalog.apply import apply_spec
    from catalog.store import init_catalog
    from tests.factories import small_spec

    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    catalog = init_catalog(url)
    with catalog.session() as session:
        apply_spec(session, small_spec(), source="manifest", target="tests")
    catalog.dispose()
    return url


def invoke(app, *args):
    return CliRunner().invoke(app, list(args))


def test_json(export_app, database, tmp_path):
    result = invoke(export_app, "json", "--out", str(tmp_path / "c.json"), "--database", database)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))["organisation"]["id"] == "acme"


def test_csv(export_app, database, tmp_path):
    result = invoke(export_app, "csv", "--out", str(tmp_path / "csv"), "--database", database)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "csv" / "controller_record.csv").exists() and "Wrote 10 files" in result.output


def test_map_format_from_suffix_or_option(export_app, database, tmp_path):
    result = invoke(export_app, "map", "--out", str(tmp_path / "flows.dot"), "--database", database)
    assert result.exit_code == 0, result.output
    assert "digraph flow_map {" in (tmp_path / "flows.dot").read_text(encoding="utf-8")
    result = invoke(export_app, "map", "--out", str(tmp_path / "flows.txt"), "--database", database)
    assert result.exit_code == 2 and "has no map format suffix" in " ".join(result.output.replace("│", " ").split())  # a usage error
    if shutil.which("dot"):
        result = invoke(export_app, "map", "--out", str(tmp_path / "flows.out"), "--format", "svg", "--database", database)
        assert result.exit_code == 0 and (tmp_path / "flows.out").read_bytes().startswith(b"<?xml")


def test_uninitialised_catalogue_exits_1(export_app, tmp_path):
    result = invoke(export_app, "json", "--out", str(tmp_path / "c.json"), "--database", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.exit_code == 1 and not (tmp_path / "c.json").exists()
