"""The history core (catalog/history.py: state at a moment, diff of two states) and the history page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from catalog.apply import apply_spec
from catalog.history import AttributeChange, Diff, attribute_changes, diff_between, diff_states, state_at
from catalog.models import ChangeEvent
from catalog.snapshot import entry_documents
from catalog.specs import CatalogSpec
from catalog.store import DATABASE_URL_ENV, init_catalog
from dashboards import auth
from dashboards.views.history import end_of_day, filter_events
from tests.factories import small_spec, small_spec_data

APP = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
TIMEOUT = 60


def changed_spec() -> CatalogSpec:
    """small_spec with the CRM renamed, one field's categories changed, one flow gone and a system added."""
    data = small_spec_data()
    data["systems"][0]["name"] = "CRM 2"
    data["systems"][0]["datasets"][0]["fields"][0]["categories"] = ["user.contact"]
    data["systems"].append({"id": "payroll", "name": "Payroll"})
    data["flows"] = [flow for flow in data["flows"] if flow["id"] != "crm-metrics"]
    return CatalogSpec.model_validate(data)


def _event_time(session, entry_id: str) -> datetime:
    return session.exec(select(ChangeEvent.at).where(ChangeEvent.entry_id == entry_id).order_by(ChangeEvent.id.desc())).first()


def test_state_at_and_diff_show_exactly_the_change(catalog):
    with catalog.session() as session:
        apply_spec(session, small_spec(), source="manifest")
    with catalog.session() as session:
        first = _event_time(session, "crm")
        original = entry_documents(session)
    with catalog.session() as session:
        apply_spec(session, changed_spec(), source="manifest")
    with catalog.session() as session:
        assert state_at(session, first - timedelta(seconds=1)) == {}  # before anything was recorded
        assert state_at(session, first) == original
        assert state_at(session, None) == entry_documents(session)
        diff = diff_between(session, first, None)
    assert diff.added == [("system", "payroll")]
    assert diff.retired == [("flow", "crm-metrics")]
    assert diff.changed == {("system", "crm"): [
        AttributeChange("name", "CRM", "CRM 2"),
        AttributeChange("datasets[contacts].fields[email].categories", ["user.contact.email"], ["user.contact"]),
    ]}


def test_diff_between_any_two_moments_is_the_diff_of_the_two_states(catalog):
    """diff_between skips the documents of unchanged entries; it must say what comparing the states says."""
    for spec in (small_spec(), changed_spec(), small_spec()):  # change, retire, then add back
        with catalog.session() as session:
            apply_spec(session, spec, source="manifest")
    with catalog.session() as session:
        times = sorted(set(session.exec(select(ChangeEvent.at)).all()))
        moments = [None, times[0] - timedelta(seconds=1), *times]
        for start in moments:
            for end in moments:
                expected = diff_states(state_at(session, start) if start is not None else {}, state_at(session, end))
                assert diff_between(session, start, end) == expected, (start, end)
        assert not diff_between(session, times[0], times[1]).empty and not diff_between(session, times[1], times[2]).empty


def test_state_at_accepts_naive_utc_times(catalog):
    with catalog.session() as session:
        apply_spec(session, small_spec(), source="manifest")
    later = datetime.now(UTC) + timedelta(minutes=1)
    with catalog.session() as session:
        assert state_at(session, later.replace(tzinfo=None)) == state_at(session, later) == entry_documents(session)


def test_diff_of_identical_states_is_empty():
    state = {("system", "a"): {"id": "a", "name": "A"}}
    assert diff_states(state, dict(state)).empty
    assert diff_states({}, state) == Diff(added=[("system", "a")])


def test_attribute_changes_descend_into_named_lists():
    before = {"datasets": [{"name": "d", "fields": [{"name": "f", "categories": ["a"]}]}], "hosted_in": ["lon"]}
    after = {"datasets": [{"name": "d", "fields": [{"name": "f", "categories": ["b"]}, {"name": "g"}]}], "hosted_in": ["lon", "dub"]}
    assert attribute_changes(before, after) == [
        AttributeChange("datasets[d].fields[f].categories", ["a"], ["b"]),
        AttributeChange("datasets[d].fields[g]", None, {"name": "g"}),
        AttributeChange("hosted_in", ["lon"], ["lon", "dub"]),
    ]
    assert attribute_changes(None, {"id": "x"}) == [AttributeChange("id", None, "x")]


def test_end_of_day_includes_the_whole_date():
    moment = end_of_day(datetime(2026, 3, 1).date())
    assert moment == datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)


def test_filter_events_by_kind_actor_source_and_dates():
    day = datetime(2026, 3, 1, 12, tzinfo=UTC)
    events = [
        ChangeEvent(id=1, at=day, actor="a", source="manifest", entry_kind="system", entry_id="x", action="added"),
        ChangeEvent(id=2, at=day + timedelta(days=2), actor="b", source="dashboard", entry_kind="flow", entry_id="y", action="added"),
    ]
    assert [e.id for e in filter_events(events, None, None, kinds=["flow"])] == [2]
    assert [e.id for e in filter_events(events, None, None, actors=["a"])] == [1]
    assert [e.id for e in filter_events(events, None, None, sources=["dashboard"])] == [2]
    assert [e.id for e in filter_events(events, day.date(), day.date())] == [1]


# --- the page --------------------------------------------------------------------------------------

@pytest.fixture
def history_catalogue(tmp_path, monkeypatch):
    for name in (auth.ROLES_FILE_ENV, auth.USER_HEADER_ENV, auth.LOCAL_ROLE_ENV):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    opened = init_catalog(url)
    with opened.session() as session:
        apply_spec(session, small_spec(), source="manifest", actor="ci")
    with opened.session() as session:
        apply_spec(session, changed_spec(), source="manifest", actor="alice")
    yield opened
    opened.dispose()


@pytest.mark.parametrize("role", ["auditor", "engineer", "dpo"])
def test_history_page_filters_and_compares_dates(history_catalogue, monkeypatch, role):
    monkeypatch.setenv(auth.LOCAL_ROLE_ENV, role)
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    app.switch_page("views/history.py").run()
    assert not app.exception and not app.error, [e.value for e in app.exception]
    events = app.dataframe[0].value
    assert set(events["Actor"]) == {"ci", "alice"}
    assert events.iloc[0]["Actor"] == "alice"  # newest first
    app.multiselect(key="history_actors").select("alice").run()
    assert set(app.dataframe[0].value["Entry"]) == {"crm", "payroll", "crm-metrics"}
    app.multiselect(key="history_kinds").select("flow").run()
    filtered = app.dataframe[0].value
    assert list(filtered["Entry"]) == ["crm-metrics"] and list(filtered["Action"]) == ["retired"]
    assert app.get("download_button")  # every role may download

    # the diff over the whole history: everything is added; comparing from the first load's day
    # would include both runs, so compare the empty catalogue (the day before) with today
    app.date_input(key="history_from").set_value((datetime.now(UTC) - timedelta(days=1)).date()).run()
    assert not app.exception
    texts = [t.value for t in app.text]
    assert "Added" in texts and "Retired" in texts
    added = app.dataframe[-3].value
    assert ("system", "payroll") in set(zip(added["Kind"], added["Entry"], strict=True))


def test_history_page_without_history(tmp_path, monkeypatch):
    monkeypatch.delenv(auth.LOCAL_ROLE_ENV, raising=False)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    init_catalog(url).dispose()
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    app.switch_page("views/history.py").run()
    assert not app.exception
    assert any("No changes recorded" in info.value for info in app.info)
