"""`ropa lineage`, `ropa check` and `ropa dsar`, registered into a Typer app built here."""

import json

import pytest
import typer
from typer.testing import CliRunner

from ropa import analysis_commands

runner = CliRunner()


@pytest.fixture(scope="module")
def app():
    application = typer.Typer()
    analysis_commands.register(application)
    return application


@pytest.fixture
def database(loaded_catalog):
    return loaded_catalog.url


def invoke(app, *args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_help(app):
    for command in ("lineage", "check", "dsar"):
        result = invoke(app, command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output


def test_lineage_formats(app, database):
    table = invoke(app, "lineage", "crm", "--depth", "1", "--database", database)
    assert table.exit_code == 0 and "Backup vault" in table.output and "4 node(s) reached" in table.output
    data = json.loads(invoke(app, "lineage", "party:cloudco", "--upstream", "--format", "json", "--database", database).output)
    assert data["direction"] == "upstream" and [n["key"] for n in data["nodes"]] == ["system:crm"]
    dot = invoke(app, "lineage", "crm", "--both", "-f", "dot", "--database", database).output
    assert dot.startswith("digraph lineage {")


def test_lineage_errors(app, database, tmp_path):
    unknown = runner.invoke(app, ["lineage", "crn", "--database", database])
    assert unknown.exit_code == 1 and "did you mean 'crm'" in unknown.output
    assert runner.invoke(app, ["lineage", "crm", "--upstream", "--both", "--database", database]).exit_code == 2
    assert runner.invoke(app, ["lineage", "crm", "--format", "png", "--database", database]).exit_code == 2
    missing = runner.invoke(app, ["lineage", "crm", "--database", f"sqlite:///{tmp_path / 'none.db'}"])
    assert missing.exit_code == 1 and "ropa init" in missing.output


def test_check_exit_codes_and_formats(app, database):
    table = runner.invoke(app, ["check", "--database", database])
    assert table.exit_code == 1 and "ROPA-A28-001" in table.output  # high findings, default --fail-on high
    assert runner.invoke(app, ["check", "--fail-on", "critical", "--database", database]).exit_code == 0
    assert runner.invoke(app, ["check", "--fail-on", "never", "--database", database]).exit_code == 0
    data = json.loads(runner.invoke(app, ["check", "-f", "json", "--fail-on", "never", "--database", database]).output)
    assert {"rule_id": "ROPA-A28-001", "item_id": "helpdesk-in"}.items() <= data["findings"][0].items()
    sarif = json.loads(runner.invoke(app, ["check", "-f", "sarif", "--fail-on", "never", "--database", database]).output)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]


def test_check_with_suppressions(app, database, tmp_path):
    path = tmp_path / "accepted.yml"
    lines = ["- {rule_id: %s, item_id: '%s', reason: accepted, reviewed_by: DPO, expires: 2099-12-31}" % pair for pair in [
        ("ROPA-A28-001", "helpdesk-in"), ("ROPA-A46-001", "crm-helpdesk"), ("ROPA-A46-001", "crm-cloudco>helpdesk-in"),
        ("ROPA-A46-002", "crm-helpdesk"), ("ROPA-A46-002", "crm-cloudco>helpdesk-in"), ("ROPA-A46-002", "crm-metrics"),
        ("ROPA-A46-001", "crm-backup>helpdesk-in"), ("ROPA-A46-002", "crm-backup>helpdesk-in"),
    ]]
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["check", "--suppressions", str(path), "--database", database])
    assert result.exit_code == 0, result.output
    assert "8 suppressed" in result.output
    path.write_text("- {rule_id: NOPE, item_id: x, reason: r, reviewed_by: me, expires: 2099-01-01}\n")
    bad = runner.invoke(app, ["check", "--suppressions", str(path), "--database", database])
    assert bad.exit_code == 1 and "unknown rule 'NOPE'" in bad.output


def test_dsar(app, database):
    table = invoke(app, "dsar", "--subject", "customer", "--database", database)
    assert table.exit_code == 0 and "crm.contacts.email" in table.output and "Erasure (Art 17)" in table.output
    data = json.loads(invoke(app, "dsar", "-s", "customer", "-c", "user.name", "-f", "json", "--database", database).output)
    assert {h["location"] for h in data["holdings"]} >= {"crm.contacts.full_name", "Helpdesk India Pvt (sub_processor)"}
    unknown = runner.invoke(app, ["dsar", "--subject", "customr", "--database", database])
    assert unknown.exit_code == 1 and "did you mean 'customer'" in unknown.output
    assert runner.invoke(app, ["dsar", "--database", database]).exit_code == 2  # --subject is required
