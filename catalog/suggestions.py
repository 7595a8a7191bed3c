"""Suggested data categories: recorded by discovery, confirmed or rejected by a person.

A suggestion stays "suggested" until someone decides. Confirming adds the category to the field
and makes the field a person-confirmed fact (source "dashboard"), which no automatic source then
overwrites; a rejected suggestion is never suggested again; a re-run re-evaluates the ones still
only suggested and retires those no longer produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from catalog.apply import insert_many, utc_now
from catalog.models import CategorySuggestion, ChangeEvent, DataField, Dataset
from catalog.snapshot import entry_documents


@dataclass(frozen=True)
class SuggestionInput:
    """What a recogniser found for one field. Evidence never holds sampled values."""

    category: str
    score: float
    recogniser: str
    evidence: dict = field(default_factory=dict)


@dataclass
class SuggestionCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    skipped_decided: int = 0


_NEW_SUGGESTION_COLUMNS = ("field_id", "category", "score", "recogniser", "evidence", "source", "run_id", "status")


def record_field_suggestions(session: Session, *, run_id: int, source: str, by_field: dict[int, list[SuggestionInput]]) -> dict[int, SuggestionCounts]:
    """Store this run's suggestions for many fields at once (one read, one flush), leaving decided
    ones alone; a field mapped to [] has its open suggestions from this source retired."""
    existing: dict[int, dict[str, CategorySuggestion]] = {}
    field_ids = sorted(by_field)
    for start in range(0, len(field_ids), 5000):
        chunk = field_ids[start:start + 5000]
        for row in session.exec(select(CategorySuggestion).where(CategorySuggestion.field_id.in_(chunk))).all():
            existing.setdefault(row.field_id, {})[row.category] = row
    results = {}
    new_rows: list[list] = []  # inserted with the driver's executemany: ORM objects cost more than the insert
    for field_id in field_ids:
        counts = SuggestionCounts()
        rows = existing.get(field_id, {})
        produced = set()
        for item in by_field[field_id]:
            produced.add(item.category)
            row = rows.get(item.category)
            if row is None:
                new_rows.append([field_id, item.category, round(item.score, 4), item.recogniser, item.evidence, source, run_id, "suggested"])
                counts.added += 1
            elif row.status != "suggested":
                counts.skipped_decided += 1
            else:
                new = (round(item.score, 4), item.recogniser, item.evidence)
                if (row.score, row.recogniser, row.evidence) != new or row.retired_run_id is not None:
                    row.score, row.recogniser, row.evidence = new
                    row.retired_run_id, row.retired_at = None, None
                    row.run_id = run_id
                    counts.updated += 1
                else:
                    counts.unchanged += 1
        for category, row in rows.items():
            if category not in produced and row.status == "suggested" and row.retired_run_id is None and row.source == source:
                row.retired_run_id, row.retired_at = run_id, utc_now()
                counts.retired += 1
        results[field_id] = counts
    session.flush()
    if new_rows:
        insert_many(session, CategorySuggestion.__table__, _NEW_SUGGESTION_COLUMNS, new_rows)
    return results


def record_suggestions(session: Session, *, run_id: int, source: str, field_id: int, suggestions: list[SuggestionInput]) -> SuggestionCounts:
    """Store this run's suggestions for one field (see :func:`record_field_suggestions`)."""
    return record_field_suggestions(session, run_id=run_id, source=source, by_field={field_id: suggestions})[field_id]


class SuggestionNotOpen(ValueError):
    """The suggestion was already decided, retired, or does not exist."""


def _open_suggestion(session: Session, suggestion_id: int) -> CategorySuggestion:
    suggestion = session.get(CategorySuggestion, suggestion_id)
    if suggestion is None or suggestion.status != "suggested" or suggestion.retired_run_id is not None:
        raise SuggestionNotOpen(f"suggestion {suggestion_id} is not open for a decision")
    return suggestion


def _system_of(session: Session, field_id: int) -> str:
    return session.get(Dataset, session.get(DataField, field_id).dataset_id).system_id


def confirm_suggestion(session: Session, suggestion_id: int, actor: str) -> CategorySuggestion:
    """Add the suggested category to its field, as a person-confirmed fact, and record it in the history."""
    suggestion = _open_suggestion(session, suggestion_id)
    system_id = _system_of(session, suggestion.field_id)
    before = entry_documents(session, [("system", system_id)]).get(("system", system_id))
    item = session.get(DataField, suggestion.field_id)
    if suggestion.category not in item.data_categories:
        item.data_categories = [*item.data_categories, suggestion.category]
    item.source = "dashboard"
    suggestion.status, suggestion.decided_by, suggestion.decided_at = "confirmed", actor, utc_now()
    session.flush()
    after = entry_documents(session, [("system", system_id)]).get(("system", system_id))
    session.add(ChangeEvent(at=utc_now(), actor=actor, source="dashboard", entry_kind="system", entry_id=system_id, action="confirmed", before=before, after=after))
    session.flush()
    return suggestion


def reject_suggestion(session: Session, suggestion_id: int, actor: str) -> CategorySuggestion:
    """Mark the suggestion rejected so it is never suggested again; the decision is in the history."""
    suggestion = _open_suggestion(session, suggestion_id)
    suggestion.status, suggestion.decided_by, suggestion.decided_at = "rejected", actor, utc_now()
    decision = {"field_id": suggestion.field_id, "category": suggestion.category, "recogniser": suggestion.recogniser}
    session.add(ChangeEvent(at=utc_now(), actor=actor, source="dashboard", entry_kind="suggestion", entry_id=str(suggestion.id), action="rejected", before=decision, after=None))
    session.flush()
    return suggestion


def open_suggestions(session: Session) -> list[CategorySuggestion]:
    """Suggestions waiting for a decision, most confident first."""
    statement = select(CategorySuggestion).where(CategorySuggestion.status == "suggested", CategorySuggestion.retired_run_id.is_(None))
    return sorted(session.exec(statement).all(), key=lambda s: (-s.score, s.field_id, s.category))
