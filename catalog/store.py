"""Opening a catalogue: engine, sessions, schema revision checks.

SQLite (one file, WAL mode, foreign keys on) is the embedded default; any SQLAlchemy URL works,
PostgreSQL is the supported server backend. The schema is owned by Alembic migrations: a
catalogue whose revision is behind the code refuses to open and says what to run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, unquote_plus

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlmodel import Session, create_engine

from catalog.suggest import nearest

DEFAULT_DATABASE_URL = "sqlite:///ropa.db"
DATABASE_URL_ENV = "ROPA_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MASK = "***"
#: Query parameters whose value is a secret, matched anywhere in the name, case-insensitively:
#: password, passwd, pwd, sslpassword, secret, client_secret, token, access_token, api_key, apikey...
SECRET_PARAMETER = r"[^=&;?#/]*(?:pass|pwd|secret|token|api[-_]?key|credential|private[-_]?key)[^=&;?#/]*"
_SECRET_QUERY = re.compile(rf"([?&;])({SECRET_PARAMETER})=([^&;#]*)", re.IGNORECASE)
#: Shorter secrets are left in driver messages rather than garbling every word that holds them.
MIN_SCRUBBED_LENGTH = 3
#: URL schemes a catalogue is usually at, for "did you mean" on an unknown driver.
KNOWN_DRIVERS = ("sqlite", "postgresql", "postgresql+psycopg", "mysql+pymysql")


class CatalogNotReady(RuntimeError):
    """The database has no catalogue, or an older schema revision than this code."""


class CatalogUnreachable(SQLAlchemyError):
    """The catalogue URL cannot be used: not a URL, no such driver, a missing directory, or no
    connection. The message is one line, URL masked, with what to check. A SQLAlchemyError, so
    callers that already handle database errors (the dashboard) keep doing so."""


def resolve_database_url(url: str | None = None) -> str:
    """The URL given, else $ROPA_DATABASE_URL, else ./ropa.db."""
    return url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


_HOST_AFTER_AT = re.compile(r"@[A-Za-z0-9._~%\[\]:-]*(?=[/?#]|$)")


def _split_credentials(url: str) -> tuple[str, str, str, str] | None:
    """``(scheme://, user, password, @rest)`` of a URL with a password, else None.

    Read from the text, not parsed, so that what no parser takes still splits: the password runs
    from the first ':' to the last '@' that a host follows (a host, then '/', '?' or the end), so
    it may hold an unencoded '@', '/' or '?', while an '@' inside a query value is not taken."""
    head, sep, rest = url.partition("://")
    hosts = list(_HOST_AFTER_AT.finditer(rest)) if sep else []
    if not hosts:
        return None
    at = hosts[-1].start()
    user, colon, password = rest[:at].partition(":")
    if not colon:
        return None
    return head + sep, user, password, rest[at:]


def mask_url(url: str) -> str:
    """The URL with its password and any password-like query parameter (password, pwd,
    sslpassword, secret, token, api_key...) replaced by ***, for every message, log line and
    stored run. Works on any text, URL or not (a bare path comes back as it is)."""
    parts = _split_credentials(url)
    if parts is not None:
        head, user, _password, rest = parts
        url = f"{head}{user}:{MASK}{rest}"
    return _SECRET_QUERY.sub(lambda match: f"{match[1]}{match[2]}={MASK}", url)


def url_secrets(url: str) -> list[str]:
    """The secrets a URL holds (its password, password-like query values), as written and decoded,
    for scrubbing messages that quote them (driver errors)."""
    found = []
    parts = _split_credentials(url)
    if parts is not None:
        found.append(parts[2])
    found += [match[3] for match in _SECRET_QUERY.finditer(url)]
    variants = {form for secret in found for form in (secret, unquote(secret), unquote_plus(secret))}
    return sorted((secret for secret in variants if len(secret) >= MIN_SCRUBBED_LENGTH and secret != MASK), key=len, reverse=True)


def hide_secrets(text: str, *urls: str) -> str:
    """``text`` (a driver's message) with each URL masked and each of its secrets replaced by ***."""
    for url in urls:
        if url:
            text = text.replace(url, mask_url(url))
    for url in urls:
        for secret in url_secrets(url) if url else ():
            text = text.replace(secret, MASK)
    return text


SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db3")


def sqlite_url_for(text: str) -> str | None:
    """``sqlite:///text`` when ``text``, given where a URL belongs, is plainly a SQLite file path
    (a .db/.sqlite name or an existing file), for the hint that says how to write it."""
    if "://" in text or not text.strip():
        return None
    path = Path(text)
    return f"sqlite:///{text}" if path.suffix.lower() in SQLITE_SUFFIXES or path.is_file() else None


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error  # a DBAPIError wraps the driver's own error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0].strip()


def connection_problem(url: str, error: BaseException) -> CatalogUnreachable:
    """A failure to use the catalogue at ``url`` as one masked line saying what to check."""
    shown = mask_url(url)
    reason = hide_secrets(_first_line(error), url)
    if isinstance(error, NoSuchModuleError) or (isinstance(error, ArgumentError) and "://" not in url):
        scheme = url.partition("://")[0] if "://" in url else ""
        if not scheme:
            as_sqlite = sqlite_url_for(url)
            advice = f"for a SQLite file write {mask_url(as_sqlite)}" if as_sqlite else "e.g. sqlite:///ropa.db or postgresql+psycopg://user@host/db"
            return CatalogUnreachable(f"'{shown}' is not a database URL; {advice}")
        near = "postgresql+psycopg" if scheme.startswith("postgres") else nearest(scheme, KNOWN_DRIVERS)
        advice = f"did you mean '{near}://'?" if near else "e.g. sqlite:///ropa.db or postgresql+psycopg://user@host/db"
        return CatalogUnreachable(f"'{shown}' names no database driver this installation has ('{scheme}'); {advice}")
    if isinstance(error, ArgumentError):
        return CatalogUnreachable(f"not a usable database URL '{shown}': {reason}; e.g. sqlite:///ropa.db or postgresql+psycopg://user@host/db")
    if isinstance(error, ImportError):
        advice = "; for MySQL write mysql+pymysql:// and pip install 'ropa-catalog[mysql]'" if url.startswith("mysql") else ""
        return CatalogUnreachable(f"cannot use the catalogue at {shown}: its database driver is not installed ({reason}){advice}")
    if _is_sqlite(url):
        return CatalogUnreachable(f"cannot open the catalogue at {shown}: {reason}; is it a catalogue made by `ropa init` (a SQLite file)?")
    if isinstance(error, DBAPIError):
        return CatalogUnreachable(
            f"cannot connect to the catalogue at {shown}: {reason}; check that the server is running and the URL's host, port, database, user and options"
        )
    return CatalogUnreachable(f"cannot use the catalogue at {shown}: {reason}")


def _is_sqlite(url: str) -> bool:
    try:
        return make_url(url).get_backend_name() == "sqlite"
    except ArgumentError:
        return False


@contextmanager
def _reaching(url: str) -> Iterator[None]:
    """Errors of opening or creating the catalogue at ``url`` as one CatalogUnreachable line."""
    try:
        yield
    except CatalogUnreachable:
        raise
    except (SQLAlchemyError, ImportError, OSError) as error:
        raise connection_problem(url, error) from error


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
    as an empty file. A URL that cannot be used raises CatalogUnreachable.
    """
    resolved = resolve_database_url(url)
    with _reaching(resolved):
        if check and _missing_sqlite_file(resolved):
            raise CatalogNotReady(f"no catalogue at {mask_url(resolved)}: run `ropa init` to create it")
        catalog = Catalog(resolved, make_engine(resolved))
    if check:
        try:
            with _reaching(resolved):
                catalog.check_revision()
        except BaseException:
            catalog.dispose()
            raise
    return catalog


def _missing_directory(url: str) -> Path | None:
    """The directory a SQLite URL's file would be in, when it does not exist."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:") or parsed.database.startswith("file:"):
        return None
    parent = Path(parsed.database).parent
    return None if parent.is_dir() else parent


def init_catalog(url: str | None = None) -> Catalog:
    """Create the catalogue if missing and upgrade it to the newest schema.

    A SQLite file is created only in a directory that exists: a mistyped path is reported rather
    than made (the default, ./ropa.db, is always in one).
    """
    resolved = resolve_database_url(url)
    with _reaching(resolved):
        missing = _missing_directory(resolved)
        if missing is not None:
            raise CatalogUnreachable(f"cannot create the catalogue at {mask_url(resolved)}: directory {missing} does not exist; create it first, or give another path")
    catalog = open_catalog(resolved, check=False)
    try:
        with _reaching(resolved):
            catalog.upgrade()
    except BaseException:
        catalog.dispose()
        raise
    return catalog
