"""Shared fixtures: a fresh catalogue on SQLite always, and on PostgreSQL when
ROPA_TEST_POSTGRES_URL is set (each test gets its own schema, dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from catalog.store import Catalog, init_catalog
from tests.factories import small_spec

POSTGRES_URL_ENV = "ROPA_TEST_POSTGRES_URL"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _postgres_schema_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=BACKENDS)
def catalog_url(request, tmp_path):
    """A database URL for an empty catalogue; on PostgreSQL a private schema for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        return
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_URL_ENV} not set")
    schema = f"ropa_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(base, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def catalog(catalog_url) -> Catalog:
    """An initialised, empty catalogue at head revision."""
    opened = init_catalog(catalog_url)
    yield opened
    opened.dispose()


@pytest.fixture
def sqlite_catalog(tmp_path) -> Catalog:
    """An initialised SQLite catalogue, for tests that need no second backend."""
    opened = init_catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.dispose()


@pytest.fixture
def loaded_catalog(catalog) -> Catalog:
    """A catalogue holding tests.factories.small_spec(), applied as a manifest run."""
    from catalog.apply import apply_spec

    with catalog.session() as session:
        apply_spec(session, small_spec(), source="manifest", target="tests")
    return catalog


@pytest.fixture
def no_identity_env(monkeypatch):
    """No identity settings from the environment: each dashboard test says who the user is."""
    from dashboards import auth

    for name in (auth.ROLES_FILE_ENV, auth.USER_HEADER_ENV, auth.ROLE_HEADER_ENV, auth.LOCAL_ROLE_ENV,
                 auth.LOCAL_NAME_ENV, auth.LOCAL_EMAIL_ENV, auth.LOCAL_TEAMS_ENV):
        monkeypatch.delenv(name, raising=False)
