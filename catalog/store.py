"""Opening a catalogue: engine, sessions, schema revision checks.

SQLite (one file, WAL mode, foreign keys on) is the embedded default; any SQLAlchemy URL works,
PostgreSQL is the supported server backend. The schema is owned by Alembic migrations: a
catalogue whose revision is behind the code refuses to open and says what to run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

DEFAULT_DATABASE_URL = "sqlite:///ropa.db"
DATABASE_URL_ENV = "ROPA_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class CatalogNotReady(RuntimeError):
    """The database has no catalogue, or an older schema revision than this code."""


def resolve_database_url(url: str | None = None) -> str:
    """The URL given, else $ROPA_DATABASE_URL, else ./ropa.db."""
    return url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***, for every message and log line."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy URL: mask anything between ':' and '@' after the scheme
        head, sep, tail = url.partition("://")
        if sep and "@" in tail:
            creds, _, host = tail.rpartition("@")
            user = creds.split(":", 1)[0]
            return f"{head}://{user}:***@{host}"
        return url


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets foreign keys and WAL on every connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    """Alembic configuration pointing at the packaged migrations, bound to this engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()  # type: ignore[arg-type]


@dataclass
class Catalog:
    """A handle on one catalogue database."""

    url: str
    engine: Engine

    @property
    def display_url(self) -> str:
        return mask_url(self.url)

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def upgrade(self) -> None:
        """Create or migrate the schema to the newest revision (what ``ropa init`` runs)."""
        command.upgrade(alembic_config(self.engine), "head")

    def check_revision(self) -> None:
        """Raise CatalogNotReady, naming the command to run, unless the schema is at head."""
        current, head = self.current_revision(), head_revision()
        if current is None:
            raise CatalogNotReady(f"no catalogue at {self.display_url}: run `ropa init` to create it")
        if current != head:
            raise CatalogNotReady(
                f"catalogue at {self.display_url} is at schema revision {current}, this version needs {head}: "
                "run `ropa init` to upgrade it (back up the database first)"
            )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") and not Path(parsed.database).exists()


def open_catalog(url: str | None = None, *, check: bool = True) -> Catalog:
    """Open the catalogue at ``url`` (or the default); with ``check``, refuse an out-of-date schema.

    A checked open never creates anything: a mistyped SQLite path is reported, not left behind
    as an empty file.
    """
    resolved = resolve_database_url(url)
    if check and _missing_sqlite_file(resolved):
        raise CatalogNotReady(f"no catalogue at {mask_url(resolved)}: run `ropa init` to create it")
    catalog = Catalog(resolved, make_engine(resolved))
    if check:
        try:
            catalog.check_revision()
        except BaseException:
            catalog.dispose()
            raise
    return catalog


def init_catalog(url: str | None = None) -> Catalog:
    """Create the catalogue if missing and upgrade it to the newest schema."""
    catalog = open_catalog(url, check=False)
    catalog.upgrade()
    return catalog
