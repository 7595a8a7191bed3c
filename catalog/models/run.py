"""The log of ingest runs: each one transaction, with its counts."""

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel


class IngestRun(SQLModel, table=True):
    """One run of one source. Only successful runs are stored: a failed run writes nothing."""

    __tablename__ = "ingest_run"

    id: int | None = Field(default=None, primary_key=True, description="Run number, increasing.")
    source: str = Field(max_length=40, description="Source name, e.g. manifest.")
    target: str = Field(default="", max_length=1000, description="What was read: a path, or a URL with credentials masked.")
    actor: str = Field(default="", max_length=200, description="Who started the run (user name or service).")
    started_at: datetime = Field(description="Start time (UTC).")
    finished_at: datetime | None = Field(default=None, description="End time (UTC).")
    status: str = Field(default="succeeded", max_length=20, description="RunStatus value.")
    added: int = Field(default=0, description="Entries created.")
    updated: int = Field(default=0, description="Entries whose content changed.")
    unchanged: int = Field(default=0, description="Entries asserted again with the same content.")
    retired: int = Field(default=0, description="Entries no longer reported by the source, marked retired.")
    conflicts: int = Field(default=0, description="Values reported that differ from what a person entered or another source owns; kept as conflicts.")
    warnings: list[str] = Field(default_factory=list, sa_type=JSON, description="Warnings with their locations.")
