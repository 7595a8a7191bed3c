"""ROPA-SRC-001: entries an automatic source has not reported for N of its later runs."""

from sqlmodel import select

from catalog.apply import apply_spec
from catalog.models import System
from catalog.rules import RULES, run_rules
from catalog.rules.staleness import (
    STALE_AFTER_RUNS,
    STALE_AFTER_RUNS_ENV,
    stale_after_runs,
    stale_entries,
)
from catalog.specs import CatalogSpec
from tests.factories import small_spec_data

RULE = "ROPA-SRC-001"


def _crm_only() -> CatalogSpec:
    crm = next(s for s in small_spec_data()["systems"] if s["id"] == "crm")
    return CatalogSpec.model_validate({"systems": [crm]})


def _runs(catalog, source: str, partial_runs: int) -> None:
    """One full run of ``source``, then ``partial_runs`` runs that report only the CRM."""
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(small_spec_data()), source=source, target="tests")
    for _ in range(partial_runs):
        with catalog.session() as session:
            apply_spec(session, _crm_only(), source=source, target="tests", complete=False)


def _hits(catalog):
    with catalog.session() as session:
        return {(f.item_kind, f.item_id) for f in run_rules(session, rule_ids=[RULE])}


def test_registered_with_default_of_three_runs(monkeypatch):
    assert RULES[RULE].article.startswith("Art 5(1)(d)")
    monkeypatch.delenv(STALE_AFTER_RUNS_ENV, raising=False)
    assert stale_after_runs() == STALE_AFTER_RUNS == 3


def test_fires_after_n_unseen_runs_of_the_same_source(catalog):
    _runs(catalog, "database", 3)
    hits = _hits(catalog)
    assert ("system", "backup") in hits and ("system", "hosting") in hits and ("party", "cloudco") in hits
    assert ("system", "crm") not in hits
    with catalog.session() as session:
        backup = next(e for e in stale_entries(session) if e.ident == "backup")
        first_run = session.exec(select(System).where(System.id == "crm")).one().run_id
    assert backup.runs_since == 3 and backup.source == "database" and backup.last_seen_run_id == first_run


def test_silent_below_n_and_for_other_sources_runs(catalog):
    _runs(catalog, "database", 2)
    with catalog.session() as session:  # runs of another source do not count
        apply_spec(session, CatalogSpec.model_validate({"locations": [{"id": "par", "name": "Paris", "country": "FR"}]}), source="dbt", target="tests", complete=False)
    assert _hits(catalog) == set()


def test_n_is_configurable(catalog, monkeypatch):
    _runs(catalog, "database", 1)
    assert _hits(catalog) == set()
    monkeypatch.setenv(STALE_AFTER_RUNS_ENV, "1")
    assert ("system", "backup") in _hits(catalog)
    with catalog.session() as session:
        assert {e.ident for e in stale_entries(session, runs=1)} >= {"backup"}
        assert stale_entries(session, runs=2) == []


def test_entries_people_entered_are_never_stale(catalog):
    _runs(catalog, "manifest", 0)
    for _ in range(4):
        with catalog.session() as session:
            apply_spec(session, _crm_only(), source="dashboard", target="tests", complete=False)
    assert _hits(catalog) == set()
