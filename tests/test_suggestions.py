"""Suggested categories: re-evaluation, confirmation, rejection."""

import pytest
from sqlmodel import select

from catalog.apply import apply_spec, utc_now
from catalog.models import CategorySuggestion, ChangeEvent, DataField, IngestRun
from catalog.specs import CatalogSpec
from catalog.suggestions import (
    SuggestionInput,
    SuggestionNotOpen,
    confirm_suggestion,
    open_suggestions,
    record_suggestions,
    reject_suggestion,
)

EMAIL = SuggestionInput("user.contact.email", 0.97, "values:email", {"sample_share": 0.97, "sample_size": 100})
PHONE = SuggestionInput("user.contact.phone_number", 0.6, "column-name:phone", {"name_tokens": ["phone"]})


def _discovered_field(catalog) -> int:
    spec = CatalogSpec.model_validate({"systems": [{"id": "db", "name": "db", "datasets": [{"name": "t", "fields": [{"name": "contact"}]}]}]})
    with catalog.session() as session:
        apply_spec(session, spec, source="database")
        return session.exec(select(DataField.id)).one()


def _record(catalog, field_id, items):
    with catalog.session() as session:
        run = IngestRun(source="database", started_at=utc_now())
        session.add(run)
        session.flush()
        return record_suggestions(session, run_id=run.id, source="database", field_id=field_id, suggestions=items)


def test_rerun_reevaluates_open_suggestions(catalog):
    field_id = _discovered_field(catalog)
    assert _record(catalog, field_id, [EMAIL, PHONE]).added == 2
    again = _record(catalog, field_id, [EMAIL])
    assert (again.unchanged, again.retired) == (1, 1)
    with catalog.session() as session:
        assert [s.category for s in open_suggestions(session)] == ["user.contact.email"]


def test_confirm_adds_category_and_protects_field(catalog):
    field_id = _discovered_field(catalog)
    _record(catalog, field_id, [EMAIL])
    with catalog.session() as session:
        suggestion_id = open_suggestions(session)[0].id
        confirm_suggestion(session, suggestion_id, actor="dpo")
    with catalog.session() as session:
        item = session.get(DataField, field_id)
        assert item.data_categories == ["user.contact.email"] and item.source == "dashboard"
        event = session.exec(select(ChangeEvent).where(ChangeEvent.action == "confirmed")).one()
        assert event.after["datasets"][0]["fields"][0]["categories"] == ["user.contact.email"]
        with pytest.raises(SuggestionNotOpen):
            confirm_suggestion(session, suggestion_id, actor="dpo")


def test_rejected_suggestion_is_not_suggested_again(catalog):
    field_id = _discovered_field(catalog)
    _record(catalog, field_id, [PHONE])
    with catalog.session() as session:
        reject_suggestion(session, open_suggestions(session)[0].id, actor="dpo")
    counts = _record(catalog, field_id, [PHONE])
    assert counts.skipped_decided == 1 and counts.added == 0
    with catalog.session() as session:
        assert open_suggestions(session) == []
        assert session.exec(select(CategorySuggestion)).one().status == "rejected"
