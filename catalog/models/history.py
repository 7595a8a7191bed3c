"""Append-only history of the catalogue, and disagreements between sources."""

from datetime import datetime

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel


class ChangeEvent(SQLModel, table=True):
    """One change to one top-level entry, with its document before and after.

    Rows are only ever inserted. Documents have the manifest shape (catalog.snapshot), so the
    catalogue as it was at any moment can be rebuilt from the history.
    """

    __tablename__ = "change_event"
    __table_args__ = (Index("ix_change_event_entry", "entry_kind", "entry_id"),)

    id: int | None = Field(default=None, primary_key=True, description="Increasing event number: the catalogue revision.")
    at: datetime = Field(index=True, description="When the change was committed (UTC).")
    run_id: int | None = Field(default=None, foreign_key="ingest_run.id", description="The ingest run that made the change, if any.")
    actor: str = Field(default="", max_length=200, description="Who made the change.")
    source: str = Field(max_length=40, description="The source that made the change (manifest, dashboard, database, ...).")
    entry_kind: str = Field(max_length=20, description="organisation, location, system, party, activity or flow.")
    entry_id: str = Field(max_length=200, description="Id of the entry.")
    action: str = Field(max_length=20, description="added, updated, retired, confirmed or rejected.")
    before: dict | None = Field(default=None, sa_type=JSON, description="The entry's document before the change; None when added.")
    after: dict | None = Field(default=None, sa_type=JSON, description="The entry's document after the change; None when retired.")


class Conflict(SQLModel, table=True):
    """An automatic source reported a value that differs from what a person entered or another
    source owns. The owner's value is kept; the disagreement waits for a person to look at it."""

    __tablename__ = "conflict"
    __table_args__ = (Index("ix_conflict_entry", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=40, description="Table of the entry, e.g. system, data_field.")
    entity_id: str = Field(max_length=200, description="Id of the row in that table.")
    label: str = Field(default="", max_length=500, description="Readable name of the entry, e.g. 'field crm.contacts.email'.")
    field: str = Field(max_length=100, description="Attribute in disagreement.")
    kept_source: str = Field(max_length=40, description="Source whose value is kept.")
    kept_value: dict | list | str | int | float | bool | None = Field(default=None, sa_type=JSON, description="Value kept.")
    reported_source: str = Field(max_length=40, description="Source that reported another value.")
    reported_value: dict | list | str | int | float | bool | None = Field(default=None, sa_type=JSON, description="Value reported.")
    run_id: int | None = Field(default=None, foreign_key="ingest_run.id", description="Last run that reported it.")
    status: str = Field(default="open", max_length=20, description="open or resolved.")
