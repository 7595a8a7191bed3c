"""Catalogue revisions on the command line: `ropa diff` and the record as of an earlier moment.

A moment is a revision number (the id of a change event: every export names the revision it
shows), a date (YYYY-MM-DD, the end of that day in UTC) or an ISO date-time. Registered with
``register(app, export_app)``; `ropa export ropa --as-of` calls :func:`write_record_workbook_as_of`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from catalog.store import Catalog
from ropa.console import DatabaseOption, console, fail, opened, write

ENTRY_TITLES = {
    "activity": "Activities", "system": "Systems", "flow": "Flows", "party": "Parties",
    "location": "Locations", "organisation": "Organisation",
}


class DiffFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _value(value: Any) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def diff_command(
    since: Annotated[str, typer.Option("--since", help="From this moment: a revision number, a date (YYYY-MM-DD, end of day UTC) or an ISO date-time.")],
    until: Annotated[str | None, typer.Option("--until", help="To this moment (default: now, the latest revision).", show_default=False)] = None,
    output_format: Annotated[DiffFormat, typer.Option("--format", "-f", help="table or json.")] = DiffFormat.TABLE,
    database: DatabaseOption = None,
) -> None:
    """List activities, systems, flows, parties, locations and transfers added, changed (before -> after) or retired between two moments."""
    from datetime import UTC, datetime

    from catalog.history import Moment, UnknownMoment, resolve_moment
    from catalog.revisions import ReplayError, diff_revisions

    with opened(database) as catalog, catalog.session() as session:
        try:
            start = resolve_moment(session, since)
            end = resolve_moment(session, until) if until is not None else None
        except UnknownMoment as problem:
            raise fail(str(problem)) from None
        if end is None:
            from sqlmodel import select

            from catalog.models import ChangeEvent

            latest = session.exec(select(ChangeEvent).order_by(ChangeEvent.id.desc()).limit(1)).first()
            end = Moment(datetime.now(UTC), latest.id if latest else None)
        if (start.revision or 0) > (end.revision or 0):
            raise fail(f"--since ({start.text()}) is after --until ({end.text()})")
        try:
            result = diff_revisions(session, start, end)
        except ReplayError as problem:
            raise fail(str(problem)) from None
    if output_format == DiffFormat.JSON:
        return write(json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=str))
    entries = result.entries
    table = Table("change", "kind", "id", "attribute", "before", "after", title=f"Changes from {start.text()} to {end.text()}")
    for key in entries.added:
        table.add_row("added", key[0], key[1], "", "", "")
    for key, changes in entries.changed.items():
        for change in changes:
            table.add_row("changed", key[0], key[1], change.path, _value(change.before), _value(change.after))
    for key in entries.retired:
        table.add_row("retired", key[0], key[1], "", "", "")
    console.print(table)
    transfers = Table("change", "flow", "importer", "from", "to", "UK GDPR", "EU GDPR", "mechanism", title="International transfers")
    rows = [("added", t, "") for t in result.transfers.added] + [("retired", t, "") for t in result.transfers.retired]
    for change, transfer, _ in rows:
        transfers.add_row(change, transfer.flow_id, transfer.importer_name, transfer.origin, transfer.destination,
                          str(transfer.uk.status), str(transfer.eu.status), transfer.mechanism or "-")
    for old, new, _changes in result.transfers.changed:
        def arrow(before: Any, after: Any) -> str:
            return _value(after) if before == after else f"{_value(before)} -> {_value(after)}"

        transfers.add_row("changed", new.flow_id, new.importer_name, new.origin, new.destination, arrow(str(old.uk.status), str(new.uk.status)),
                          arrow(str(old.eu.status), str(new.eu.status)), arrow(old.mechanism, new.mechanism))
    console.print(transfers)
    counts = {kind: 0 for kind in ENTRY_TITLES}
    for key in [*entries.added, *entries.changed, *entries.retired]:
        counts[key[0]] = counts.get(key[0], 0) + 1
    summary = ", ".join(f"{ENTRY_TITLES[kind].lower()} {count}" for kind, count in counts.items() if count)
    console.print(
        f"{len(entries.added)} added, {len(entries.changed)} changed, {len(entries.retired)} retired"
        + (f" ({summary})" if summary else "")
        + f"; transfers: {len(result.transfers.added)} added, {len(result.transfers.changed)} changed, {len(result.transfers.retired)} retired."
    )


def write_record_workbook_as_of(catalog: Catalog, out: Path, template: str, as_of: str) -> Path:
    """Write the record as it stood at ``as_of`` (revision, date or date-time).

    Raises catalog.history.UnknownMoment for text that names no moment, and
    catalog.revisions.ReplayError when the state does not load.
    """
    from catalog.history import resolve_moment
    from catalog.revisions import record_as_of
    from exports.workbook import write_workbook

    with catalog.session() as session:
        record = record_as_of(session, resolve_moment(session, as_of))
    out.parent.mkdir(parents=True, exist_ok=True)
    write_workbook(record, out, template)
    return out


def register(app: typer.Typer, export_app: typer.Typer | None = None) -> None:
    """Add `diff` to the `ropa` command. ``export_app`` is accepted for the export side; `export
    ropa --as-of` lives on the existing `export ropa` command (see write_record_workbook_as_of)."""
    app.command("diff")(diff_command)
