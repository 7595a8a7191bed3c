"""The store: migrations, revision checks, SQLite pragmas, URL masking."""

import pytest
from sqlalchemy import inspect, text

from catalog.store import CatalogNotReady, head_revision, init_catalog, mask_url, open_catalog


def test_init_creates_every_table_at_head(catalog):
    tables = set(inspect(catalog.engine).get_table_names())
    assert {"system", "dataset", "data_field", "party", "location", "processing_activity", "flow", "ingest_run"} <= tables
    assert catalog.current_revision() == head_revision()


def test_opening_an_empty_database_says_to_run_init(tmp_path):
    with pytest.raises(CatalogNotReady, match="ropa init"):
        open_catalog(f"sqlite:///{tmp_path / 'empty.db'}")


def test_opening_an_old_revision_says_to_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    catalog = init_catalog(url)
    with catalog.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(CatalogNotReady, match="revision 0000.*ropa init"):
        open_catalog(url)


def test_init_is_idempotent(catalog):
    catalog.upgrade()
    assert catalog.current_revision() == head_revision()


def test_sqlite_has_foreign_keys_and_wal(sqlite_catalog):
    with sqlite_catalog.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_url_passwords_are_masked():
    assert mask_url("postgresql+psycopg://ropa:s3cret@db:5432/ropa") == "postgresql+psycopg://ropa:***@db:5432/ropa"
    assert "s3cret" not in mask_url("mysql://u:s3cret@h/db")


def test_checked_open_of_a_missing_sqlite_file_creates_nothing(tmp_path):
    with pytest.raises(CatalogNotReady, match="ropa init"):
        open_catalog(f"sqlite:///{tmp_path / 'typo.db'}")
    assert not (tmp_path / "typo.db").exists()


def test_migrations_downgrade_and_upgrade_again(catalog):
    from alembic import command

    from catalog.store import alembic_config

    config = alembic_config(catalog.engine)
    command.downgrade(config, "0001")
    assert catalog.current_revision() == "0001"
    assert "change_event" not in inspect(catalog.engine).get_table_names()
    command.upgrade(config, "head")
    assert catalog.current_revision() == head_revision()
