"""What every `ropa` command shares: output consoles, the --database option, exit codes, and
opening the catalogue with a message that says what to run when it is not ready."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlmodel import Session

from catalog.store import DATABASE_URL_ENV, Catalog, CatalogNotReady, open_catalog

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
    """Print an error and return the exit for invalid input (raise it)."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(INVALID_INPUT)


def write(text: str) -> None:
    """Machine-readable output (JSON, DOT, SARIF) straight to standard output."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@contextmanager
def opened(database: str | None) -> Iterator[Catalog]:
    """The catalogue, or exit 1 saying what to run first."""
    try:
        catalog = open_catalog(database)
    except CatalogNotReady as problem:
        raise fail(str(problem)) from None
    try:
        yield catalog
    finally:
        catalog.dispose()


@contextmanager
def session_on(database: str | None) -> Iterator[Session]:
    """A session on the catalogue (committed on success), or exit 1 saying what to run first."""
    with opened(database) as catalog, catalog.session() as session:
        yield session
