"""Catalogue revisions: moments, the state at a revision, `ropa diff`, and the record as of a revision."""

import json
from datetime import UTC, datetime

import pytest
import typer
from openpyxl import load_workbook
from sqlmodel import func, select
from typer.testing import CliRunner

from catalog.apply import apply_spec
from catalog.history import UnknownMoment, resolve_moment, state_at, state_at_revision
from catalog.models import ChangeEvent
from catalog.record import build_record
from catalog.revisions import (
    diff_revisions,
    record_as_of,
    replay,
    state_transfers,
    transfer_changes,
)
from catalog.specs import CatalogSpec
from exports.workbook import (
    CONTROLLER_SHEET,
    PROCESSOR_SHEET,
    TRANSFERS_SHEET,
    write_workbook,
)
from ropa import revision_commands
from tests.factories import small_spec_data

runner = CliRunner()


def _apply(catalog, data: dict) -> None:
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")


def _latest(catalog) -> int:
    with catalog.session() as session:
        return session.exec(select(func.max(ChangeEvent.id))).one()


def _changed_data() -> dict:
    """The small catalogue with the backup system gone, Metrics moved to Canada without its IDTA,
    a new location and Cloudco's contract renamed."""
    data = small_spec_data()
    data["systems"] = [s for s in data["systems"] if s["id"] != "backup"]
    data["flows"] = [f for f in data["flows"] if f["to"] != "backup"]
    data["activities"][0]["systems"] = ["crm"]
    data["locations"].append({"id": "fra", "name": "Frankfurt region", "provider": "Cloudco", "city": "Frankfurt", "country": "DE"})
    parties = {p["id"]: p for p in data["parties"]}
    parties["metrics"].update(country="CA", transfer_mechanism=None)
    parties["cloudco"]["contract_ref"] = "DPA-2025-01"
    parties["helpdesk-in"]["transfer_mechanism"] = "uk_idta"
    return data


# ---- moments -----------------------------------------------------------------------------------


def test_resolve_moment_accepts_revisions_dates_and_date_times(loaded_catalog):
    first = _latest(loaded_catalog)
    with loaded_catalog.session() as session:
        by_revision = resolve_moment(session, str(first))
        assert by_revision.revision == first and by_revision.at.tzinfo is not None
        inside_run = resolve_moment(session, "1")  # an event inside the first run stands for the whole run
        assert inside_run.revision == first
        assert resolve_moment(session, "2000-01-01").revision is None
        end_of_day = resolve_moment(session, "2999-12-31")
        assert end_of_day.revision == first and end_of_day.at == datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
        assert resolve_moment(session, "2999-12-31T10:00:00Z").revision == first
        assert resolve_moment(session, "2999-12-31T10:00:00").at == datetime(2999, 12, 31, 10, tzinfo=UTC)
        assert resolve_moment(session, "2000-01-01T10:00:00+02:00").at == datetime(2000, 1, 1, 8, tzinfo=UTC)
        for text in ("yesterday", "2026-13-01", "", "-3", "1.5"):
            with pytest.raises(UnknownMoment, match="not a revision number"):
                resolve_moment(session, text)
        for text in ("0", str(first + 1)):
            with pytest.raises(UnknownMoment, match=f"revision {int(text)} does not exist .*1 to {first}"):
                resolve_moment(session, text)


def test_state_at_revision_is_the_state_then(loaded_catalog):
    first = _latest(loaded_catalog)
    _apply(loaded_catalog, _changed_data())
    with loaded_catalog.session() as session:
        then, now = state_at_revision(session, first), state_at_revision(session, _latest(loaded_catalog))
        assert ("system", "backup") in then and ("system", "backup") not in now
        assert now == state_at(session, None)
        assert state_at_revision(session, 0) == {} and state_at_revision(session, None) == {}


def test_replay_rebuilds_a_state_with_its_transfers(loaded_catalog):
    with loaded_catalog.session() as session:
        state = state_at(session, None)
    with replay(state) as catalog, catalog.session() as session:
        assert set(state_at(session, None)) == set(state)
    transfers = {(t.flow_id, t.destination) for t in state_transfers(state)}
    assert ("crm-helpdesk", "IN") in transfers and ("crm-metrics", "US") in transfers
    assert state_transfers({}) == []


# ---- diff --------------------------------------------------------------------------------------


def test_diff_lists_entries_and_transfers_added_changed_and_retired(loaded_catalog):
    first = _latest(loaded_catalog)
    _apply(loaded_catalog, _changed_data())
    with loaded_catalog.session() as session:
        result = diff_revisions(session, resolve_moment(session, str(first)), resolve_moment(session, str(_latest(loaded_catalog))))
    assert result.entries.added == [("location", "fra")]
    assert ("system", "backup") in result.entries.retired and ("flow", "crm-backup") in result.entries.retired
    cloudco = {c.path: (c.before, c.after) for c in result.entries.changed[("party", "cloudco")]}
    assert cloudco == {"contract_ref": ("DPA-2024-01", "DPA-2025-01")}
    transfers = result.transfers
    assert [(t.flow_id, t.destination) for t in transfers.added] == [("crm-metrics", "CA")]
    assert {(t.flow_id, t.destination) for t in transfers.retired} >= {("crm-metrics", "US"), ("crm-backup", "IE")}
    changed = {new.flow_id: {c.path: (c.before, c.after) for c in changes} for _old, new, changes in transfers.changed}
    assert changed["crm-helpdesk"] == {"mechanism": (None, "uk_idta")}
    assert not diff_revisions.__defaults__  # both moments are always given
    data = result.as_dict()
    assert data["since"]["revision"] == first and data["entries"]["added"] == [{"kind": "location", "id": "fra"}]


def test_transfer_changes_of_identical_lists_is_empty(loaded_catalog):
    with loaded_catalog.session() as session:
        transfers = state_transfers(state_at(session, None))
    assert transfer_changes(transfers, transfers).empty
    assert [t.flow_id for t in transfer_changes([], transfers).added] == [t.flow_id for t in sorted(transfers, key=lambda t: (t.flow_id, t.origin, t.destination, t.importer))]


@pytest.fixture(scope="module")
def app():
    application = typer.Typer()
    revision_commands.register(application, typer.Typer())
    application.command("noop")(lambda: None)  # two commands, so `diff` is a sub-command
    return application


def test_diff_command_table_and_json(app, loaded_catalog):
    first = _latest(loaded_catalog)
    _apply(loaded_catalog, _changed_data())
    url = loaded_catalog.url
    table = runner.invoke(app, ["diff", "--since", str(first), "--database", url], catch_exceptions=False)
    assert table.exit_code == 0, table.output
    assert "contract_ref" in table.output and "DPA-2024-01" in table.output and "DPA-2025-01" in table.output
    assert "1 added, " in table.output and "transfers: 1 added" in table.output
    data = json.loads(runner.invoke(app, ["diff", "--since", str(first), "--until", "2999-01-01", "--format", "json", "--database", url]).output)
    assert data["entries"]["added"] == [{"kind": "location", "id": "fra"}]
    assert {t["flow_id"] for t in data["transfers"]["added"]} == {"crm-metrics"}
    empty = json.loads(runner.invoke(app, ["diff", "--since", "2000-01-01", "--until", "2000-01-02", "-f", "json", "--database", url]).output)
    assert empty["entries"] == {"added": [], "changed": [], "retired": []}


def test_diff_command_rejects_bad_moments(app, loaded_catalog):
    url = loaded_catalog.url
    bad = runner.invoke(app, ["diff", "--since", "last week", "--database", url])
    assert bad.exit_code == 1 and "not a revision number" in bad.output
    missing = runner.invoke(app, ["diff", "--since", "999", "--database", url])
    assert missing.exit_code == 1 and "revision 999 does not exist" in missing.output
    _apply(loaded_catalog, _changed_data())
    backwards = runner.invoke(app, ["diff", "--since", str(_latest(loaded_catalog)), "--until", "1", "--database", url])
    assert backwards.exit_code == 1 and "is after --until" in backwards.output


# ---- the record as of a revision ---------------------------------------------------------------


def _cells(path, sheet) -> list[tuple]:
    return list(load_workbook(path)[sheet].iter_rows(values_only=True))


def test_export_as_of_an_earlier_revision_reproduces_the_record(loaded_catalog, tmp_path):
    now = tmp_path / "now.xlsx"
    with loaded_catalog.session() as session:
        original = build_record(session)
    write_workbook(original, now)
    first = _latest(loaded_catalog)
    _apply(loaded_catalog, _changed_data())

    earlier = revision_commands.write_record_workbook_as_of(loaded_catalog, tmp_path / "as-of.xlsx", "ico", str(first))
    again = revision_commands.write_record_workbook_as_of(loaded_catalog, tmp_path / "again.xlsx", "ico", str(first))
    assert earlier.read_bytes() == again.read_bytes()
    for sheet in (CONTROLLER_SHEET, PROCESSOR_SHEET, TRANSFERS_SHEET):
        assert _cells(earlier, sheet) == _cells(now, sheet), sheet
    cover = {row[0]: row[1] for row in _cells(earlier, "Cover") if row[0]}
    assert cover["Catalogue revision"] == original.revision.text()
    assert cover["Catalogue revision"].startswith(f"revision {first} (")

    with loaded_catalog.session() as session:
        record = record_as_of(session, resolve_moment(session, str(first)))
    assert record.revision == original.revision
    assert record.activity_dates == original.activity_dates  # the history names the run that last changed each activity
    assert [r.cells()[:6] for r in record.inventory_rows] == [r.cells()[:6] for r in original.inventory_rows]
    assert {r.source for r in record.inventory_rows} == {""}  # per-field provenance is not in the history


def test_export_as_of_a_date_before_the_catalogue_is_empty(loaded_catalog, tmp_path):
    path = revision_commands.write_record_workbook_as_of(loaded_catalog, tmp_path / "empty.xlsx", "ico", "2000-01-01")
    cover = {row[0]: row[1] for row in _cells(path, "Cover") if row[0]}
    assert cover["Generated at"] == "2000-01-01T23:59:59Z" and not cover.get("Catalogue revision")
    assert len(_cells(path, CONTROLLER_SHEET)) <= 9
