"""Entries their source has stopped reporting: ROPA-SRC-001.

An automatic source that stops reporting an entry does not always retire it (a partial run, a
source scoped to one schema), so each top-level entry remembers the last run of its source that
reported it (``last_seen_run_id``). When N or more later successful runs of that source have not
seen it, the record may describe something that no longer exists (accuracy, Article 5(1)(d)).

N is :data:`STALE_AFTER_RUNS` (default 3), overridden by the environment variable
``ROPA_STALE_AFTER_RUNS``, or passed to :func:`stale_entries`. Entries a person entered (manifest,
dashboard) are left out: a manifest run retires what it no longer lists, and a dashboard run
registers one system, not the whole catalogue.
"""

from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from sqlmodel import Session, select

from catalog.apply import MANUAL_SOURCES
from catalog.models import SEEN_ENTRY_MODELS, IngestRun
from catalog.rules.context import CatalogFacts
from catalog.rules.model import UK_GDPR_ARTICLE, Issue, Severity, rule
from catalog.vocab import RunStatus

STALE_AFTER_RUNS = 3
STALE_AFTER_RUNS_ENV = "ROPA_STALE_AFTER_RUNS"



@dataclass(frozen=True)
class StaleEntry:
    """A current entry that ``runs_since`` later successful runs of its source did not report."""

    kind: str
    ident: str
    name: str
    source: str
    last_seen_run_id: int | None
    runs_since: int
    source_ref: str | None


def stale_after_runs() -> int:
    """N: the configured number of unseen runs that makes an entry stale (at least 1)."""
    value = os.environ.get(STALE_AFTER_RUNS_ENV, "").strip()
    try:
        return max(1, int(value)) if value else STALE_AFTER_RUNS
    except ValueError:
        return STALE_AFTER_RUNS


def stale_entries(session: Session, runs: int | None = None) -> list[StaleEntry]:
    """Current entries of automatic sources not reported by at least ``runs`` (default: the
    configured N) later successful runs of the same source, by kind and id."""
    threshold = runs if runs is not None else stale_after_runs()
    run_ids: dict[str, list[int]] = {}
    statement = select(IngestRun.id, IngestRun.source).where(IngestRun.status == RunStatus.SUCCEEDED.value).order_by(IngestRun.id)
    for run_id, source in session.exec(statement).all():
        run_ids.setdefault(source, []).append(run_id)
    found: list[StaleEntry] = []
    for kind, model in SEEN_ENTRY_MODELS:
        for row in session.exec(model.current()).all():
            if row.source in MANUAL_SOURCES:
                continue
            seen = row.last_seen_run_id if row.last_seen_run_id is not None else row.run_id
            later = run_ids.get(row.source, [])
            since = len(later) - bisect_right(later, seen) if seen is not None else len(later)
            if since >= threshold:
                found.append(StaleEntry(kind, str(row.id), getattr(row, "name", "") or "", row.source, seen, since, row.source_ref))
    return sorted(found, key=lambda entry: (entry.kind, entry.ident))


@rule("ROPA-SRC-001", title="Entry not seen by its source for several runs", article="Art 5(1)(d); Art 30(1)",
      severity=Severity.LOW, help_uri=UK_GDPR_ARTICLE.format(5))
def entry_not_seen_by_its_source(facts: CatalogFacts) -> Iterator[Issue]:
    """Accuracy: an entry its source has stopped reporting may no longer exist, and the record would describe processing that has ended."""
    session = facts.session
    if session is None:
        return
    for entry in stale_entries(session):
        last = f"run {entry.last_seen_run_id}" if entry.last_seen_run_id is not None else "no run"
        label = f" ({entry.name})" if entry.name and entry.name != entry.ident else ""
        yield Issue(entry.kind, entry.ident,
                    f"{entry.kind.capitalize()} '{entry.ident}'{label} was last reported by source '{entry.source}' in {last}; "
                    f"{entry.runs_since} later run(s) of that source did not report it.",
                    "Check whether it still exists: retire it (run the source completely, or remove it), or fix the source's scope so it reports it again.",
                    entry.source_ref)
