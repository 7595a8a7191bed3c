"""Provenance columns shared by every catalogued entity."""

from datetime import datetime

from sqlmodel import Field, SQLModel, select


class Provenance(SQLModel):
    """Who asserted a fact, in which run, and whether it is retired.

    Retired rows stay in the catalogue (the record of what was true is evidence), but are left out
    of the graph, the workbook and the dashboard.
    """

    source: str = Field(default="manifest", max_length=40, description="The ingest source that asserted this entry (manifest, dashboard, database, ...).")
    source_ref: str | None = Field(default=None, max_length=500, description="Where in the source: a file and line, a URL with credentials masked.")
    run_id: int | None = Field(default=None, foreign_key="ingest_run.id", description="The run that asserted the entry's current content (added it or last changed it).")
    retired_run_id: int | None = Field(default=None, foreign_key="ingest_run.id", description="The run that stopped seeing this entry; None while current.")
    retired_at: datetime | None = Field(default=None, description="When the entry was retired (UTC).")

    @classmethod
    def current(cls):
        """A query for the entries still asserted (not retired): what every reader wants."""
        return select(cls).where(cls.retired_run_id.is_(None))

    @property
    def is_current(self) -> bool:
        """Whether the entry is still asserted by its source."""
        return self.retired_run_id is None


class SeenBySource(Provenance):
    """Provenance of a top-level entry, plus the last run of its source that reported it, so the
    findings can name entries a source has stopped reporting without retiring them."""

    last_seen_run_id: int | None = Field(default=None, foreign_key="ingest_run.id", description="The last run of the entry's source that reported it.")
