"""The examples in examples/README.md: each command, exactly as written there, runs against a fresh
demo catalogue, adds what the README says it adds, and changes nothing when run again."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from catalog.models import CategorySuggestion, Conflict, DataField, Dataset, FieldLineage, Flow, Party, ProcessingActivity, System
from catalog.store import open_catalog
from ingest.registry import SOURCE_MODULES
from ropa.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
README = EXAMPLES / "README.md"
CRM_DB_URL = "sqlite:///examples/database/crm.sqlite"
runner = CliRunner()


def readme_commands() -> dict[str, list[str]]:
    """`ropa ...` lines of the README's sh blocks, by ingest source (or command), as argv."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    commands: dict[str, list[str]] = {}
    for line in "\n".join(blocks).splitlines():
        words = shlex.split(line)
        if words[:2] == [".venv/bin/ropa", "ingest"]:
            commands[words[2]] = words[1:]
        elif words[:1] == [".venv/bin/ropa"]:
            commands[words[1]] = words[1:]
        elif words[:1] == [".venv/bin/python"]:
            commands["python " + words[1]] = words[1:]
    return commands


COMMANDS = readme_commands()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def demo(tmp_path, monkeypatch) -> str:
    """A catalogue holding the demo organisation; the working directory is the repository root,
    as the README says."""
    url = f"sqlite:///{tmp_path / 'catalogue.db'}"
    invoke("demo", "--database", url, "--out", str(tmp_path / "r.xlsx"))
    monkeypatch.chdir(ROOT)
    return url


def run_twice(source: str, url: str, replace: dict[str, str] | None = None):
    """The README command for ``source`` on the catalogue at ``url``; the re-run must change nothing."""
    argv = [(replace or {}).get(word, word) for word in COMMANDS[source]] + ["--database", url]
    first = invoke(*argv)
    again = invoke(*argv)
    assert "0 added, 0 updated" in again.output and "0 retired" in again.output, again.output
    return first


def suggestions(url: str, system: str, source_prefix: str) -> dict[str, str]:
    """Open suggestions on a system from one source: 'dataset.field' -> category (the most confident)."""
    catalog = open_catalog(url)
    try:
        with catalog.session() as session:
            rows = session.exec(
                select(CategorySuggestion, Dataset.name, DataField.name)
                .join(DataField, CategorySuggestion.field_id == DataField.id).join(Dataset, DataField.dataset_id == Dataset.id)
                .where(Dataset.system_id == system, CategorySuggestion.retired_run_id.is_(None), CategorySuggestion.source.startswith(source_prefix))
                .order_by(CategorySuggestion.score)
            ).all()
            return {f"{dataset}.{field}": suggestion.category for suggestion, dataset, field in rows}
    finally:
        catalog.dispose()


def rows(url: str, model, *where):
    catalog = open_catalog(url)
    try:
        with catalog.session() as session:
            found = session.exec(select(model).where(*where)).all()
            for row in found:
                session.expunge(row)
            return found
    finally:
        catalog.dispose()


def test_every_source_but_the_manifest_has_an_example():
    assert set(SOURCE_MODULES) - {"manifest"} <= set(COMMANDS)


def load_make_crm_db():
    spec = importlib.util.spec_from_file_location("make_crm_db", EXAMPLES / "database" / "make_crm_db.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_crm_script_takes_an_output_path(tmp_path):
    assert COMMANDS["python examples/database/make_crm_db.py"] == ["examples/database/make_crm_db.py"]
    out = tmp_path / "nested" / "crm.sqlite"
    done = subprocess.run([sys.executable, str(EXAMPLES / "database" / "make_crm_db.py"), str(out)], capture_output=True, text=True, check=True)
    assert out.is_file() and str(out) in done.stdout


def test_database_example(demo, tmp_path):
    crm_db = load_make_crm_db().build(tmp_path / "crm.sqlite")
    first = run_twice("database", demo, {CRM_DB_URL: f"sqlite:///{crm_db}"})
    assert "3 conflict(s) kept for review" in first.output  # types the manifest left out
    found = suggestions(demo, "crm", "database")
    assert found == {
        "contacts.work_email": "user.contact.email",
        "contacts.work_phone": "user.contact.phone_number",
        "contacts.first_name": "user.name.first",
        "contacts.last_name": "user.name.last",
        "contacts.postcode": "user.contact.address.postal_code",
        "contacts.ni_number": "user.government_id.national_identification_number",
        "contacts.notes": "user.content.private",
        "contacts.password_hash": "user.authorization.credentials",
        "invoices.payer_sort_code": "user.financial.bank_account",
        "invoices.payer_account_number": "user.financial.bank_account",
        "invoices.card_number": "user.financial.credit_card",
    }
    names = {d.name for d in rows(demo, Dataset, Dataset.system_id == "crm", Dataset.retired_run_id.is_(None))}
    assert {"organisations", "invoices", "contacts"} <= names
    assert len(rows(demo, FieldLineage, FieldLineage.source == "database:crm", FieldLineage.transformation == "foreign_key")) == 2
    conflicts = {c.label for c in rows(demo, Conflict, Conflict.reported_source == "database:crm")}
    assert conflicts == {"field crm.contacts.job_title", "field crm.contacts.work_email", "field crm.contacts.work_phone"}


def test_openlineage_example(demo):
    first = run_twice("openlineage", demo)
    assert "events skipped: 1 START" in first.output
    assert suggestions(demo, "crm", "openlineage") == {
        "crm.public.contacts.full_name": "user.name",
        "crm.public.contacts.work_email": "user.contact.email",
        "crm.public.contacts.work_phone": "user.contact.work.phone_number",
        "crm.public.contacts.home_address.postcode": "user.contact.address",
    }
    flows = rows(demo, Flow, Flow.source == "openlineage:kanj-airflow")
    assert {(f.source_system_id, f.target_system_id) for f in flows} == {("crm", "helpdesk"), ("crm", "finance")}
    [masked] = rows(demo, DataField, DataField.name == "postcode_district", DataField.source == "openlineage:kanj-airflow")
    assert masked.pseudonymised


def test_dbt_example(demo):
    run_twice("dbt", demo)
    found = suggestions(demo, "crm", "dbt")
    assert found["crm.public.contacts.first_name"] == "user.name.first"
    assert found["crm.reporting.account_health.primary_contact_email"] == "user.contact.email"
    assert found["crm.staging.stg_crm__contacts.full_name"] == "user"  # the bare pii tag
    flows = rows(demo, Flow, Flow.source == "dbt:kanj_reporting")
    assert {f.target_party_id or f.target_system_id for f in flows if f.description.startswith("dbt exposure")} == {"westway", "finance"}


def test_fides_example(demo):
    first = run_twice("fides", demo)
    assert "system 'hr_people' has no location" in first.output
    systems = {s.id for s in rows(demo, System, System.source == "fides:kanj_technologies")}
    assert systems == {"recruitment_ats", "hr_people"}
    activities = {a.name: a for a in rows(demo, ProcessingActivity, ProcessingActivity.source == "fides:kanj_technologies")}
    assert activities["Record sickness absence"].article9_condition == "employment_social_security"
    assert [(f.source_system_id, f.target_system_id) for f in rows(demo, Flow, Flow.source == "fides:kanj_technologies")] == [("recruitment_ats", "hr_people")]


def test_ropa_sheet_example(demo):
    first = run_twice("ropa-sheet", demo)
    assert "'Email address' matches no data category" in first.output
    activities = {a.name: a for a in rows(demo, ProcessingActivity, ProcessingActivity.source == "ropa-sheet:legacy-ropa")}
    assert set(activities) == {"Staff recruitment", "Payroll", "Sickness absence", "Client newsletter"}
    assert activities["Staff recruitment"].lawful_basis == "legitimate_interests"  # written as a sentence
    assert activities["Client newsletter"].data_subjects == ["customer", "prospect"]  # a multi-value cell
    assert activities["Payroll"].data_categories == [
        "user.name", "user.contact.home.address", "user.financial.bank_account", "user.government_id.national_identification_number",
    ]
    assert activities["Sickness absence"].article9_condition == "employment_social_security"


def test_subprocessors_example(demo):
    first = run_twice("subprocessors", demo)
    assert "'Worldwide' names no country" in first.output
    parties = {p.id: p for p in rows(demo, Party, Party.parent_id == "deskflow", Party.retired_run_id.is_(None))}
    assert len(parties) == 7 and all(p.role == "sub_processor" for p in parties.values())
    assert parties["deskflow-pune-support-services-pvt-ltd"].country == "IN"
    assert parties["deskflow-pune-support-services-pvt-ltd"].transfer_mechanism == "uk_addendum"
    assert "DPF-UK-Extension" in parties["deskflow-twilio-inc"].certifications
    assert len(parties["deskflow-elastic-n-v"].processing_countries) == 26  # "EU": the member states
    gaps = json.loads(invoke(*COMMANDS["transfers"], "--format", "json", "--database", demo).stdout)["transfers"]
    assert {t["importer_name"] for t in gaps if t["importer"].startswith("party:deskflow-")} == {"Mailgun Technologies Inc."}
