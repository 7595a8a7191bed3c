"""What every `ropa` command shares: output consoles, the --database option, exit codes, and
opening the catalogue with a message that says what to run when it is not ready."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from catalog.store import DATABASE_URL_ENV, Catalog, CatalogNotReady, CatalogUnreachable, init_catalog, open_catalog

#: Exit code for invalid input (usage errors exit 2, as Typer does).
INVALID_INPUT = 1

# Piped output (CI logs, files) gets wide tables instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", "-d", help=f"SQLAlchemy URL of the catalogue (default: ${DATABASE_URL_ENV} or sqlite:///ropa.db).", show_default=False),
]


def fail(message: str) -> typer.Exit:
    """Print an error and return the exit for invalid input (raise it). The message is shown as
    written: brackets in it (``jobs[0]``, ``ropa-catalog[mysql]``) are not markup."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    return typer.Exit(INVALID_INPUT)


def write(text: str) -> None:
    """Machine-readable output (JSON, DOT, SARIF) straight to standard output."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@contextmanager
def _in_use(make: Callable[[], Catalog], refused: tuple[type[Exception], ...]) -> Iterator[Catalog]:
    """The catalogue ``make`` returns, disposed of afterwards; ``refused`` errors exit 1 with their message."""
    try:
        catalog = make()
    except refused as problem:
        raise fail(str(problem)) from None
    try:
        yield catalog
    finally:
        catalog.dispose()


def opened(database: str | None):
    """The catalogue, or exit 1 saying what to run first or what is wrong with the URL."""
    return _in_use(lambda: open_catalog(database), (CatalogNotReady, CatalogUnreachable))


def created(database: str | None):
    """The catalogue, created or upgraded to the newest schema (``ropa init``), or exit 1 saying
    what is wrong with the URL."""
    return _in_use(lambda: init_catalog(database), (CatalogUnreachable,))


@contextmanager
def session_on(database: str | None) -> Iterator[Session]:
    """A session on the catalogue (committed on success), or exit 1 saying what to run first."""
    with opened(database) as catalog, catalog.session() as session:
        yield session
