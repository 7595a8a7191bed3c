"""The store: migrations, revision checks, SQLite pragmas, URL masking."""

import pytest
from sqlalchemy import inspect, text

from sqlalchemy.exc import SQLAlchemyError

from catalog.store import CatalogNotReady, CatalogUnreachable, head_revision, hide_secrets, init_catalog, mask_url, open_catalog


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


@pytest.mark.parametrize("url, masked", [
    ("postgresql+psycopg://postgres@127.0.0.1:5432/src?password=S3cretPW", "postgresql+psycopg://postgres@127.0.0.1:5432/src?password=***"),
    ("postgresql://u@h/db?sslmode=require&PWD=S3cretPW&sslpassword=S3cretPW", "postgresql://u@h/db?sslmode=require&PWD=***&sslpassword=***"),
    ("mysql://u@h/db?passwd=S3cretPW;api_key=S3cretPW&Token=S3cretPW&client_secret=S3cretPW", "mysql://u@h/db?passwd=***;api_key=***&Token=***&client_secret=***"),
    ("postgresql://ropa:p@ss/w?rd@db:5432/ropa?sslmode=require", "postgresql://ropa:***@db:5432/ropa?sslmode=require"),  # unencoded @ / ?
    ("postgresql://ropa:p%40ss@db/ropa", "postgresql://ropa:***@db/ropa"),
    ("notaurl://user:S3cretPW@x", "notaurl://user:***@x"),
    ("postgresql://db/ropa?user=a@b.example&password=S3cretPW", "postgresql://db/ropa?user=a@b.example&password=***"),
    ("sqlite:////data/team@site/ropa.db", "sqlite:////data/team@site/ropa.db"),  # an @ in a path is no password
    ("postgres://crm-db:5432", "postgres://crm-db:5432"),
    ("ropa.db", "ropa.db"),
])
def test_passwords_and_password_like_query_parameters_are_masked(url, masked):
    assert mask_url(url) == masked


def test_driver_messages_lose_every_form_of_the_secrets():
    url = "postgresql://u:p%40ss-word@h/db?token=t0k3n-value"
    message = f"failed for {url}: password 'p@ss-word' rejected, token t0k3n-value"
    assert hide_secrets(message, url) == "failed for postgresql://u:***@h/db?token=***: password '***' rejected, token ***"


@pytest.mark.parametrize("url, expected", [
    ("ropa.db", "'ropa.db' is not a database URL; for a SQLite file write sqlite:///ropa.db"),
    ("notaurl://x", "'notaurl://x' names no database driver this installation has ('notaurl'); e.g. sqlite:///ropa.db"),
    ("postgres://u:S3cretPW@h/db", "'postgres://u:***@h/db' names no database driver this installation has ('postgres'); did you mean 'postgresql+psycopg://'?"),
    ("postgresql+psycopg://u:S3cretPW@127.0.0.1:1/db?sslmode=disable", "cannot connect to the catalogue at postgresql+psycopg://u:***@127.0.0.1:1/db?sslmode=disable: "),
])
def test_unusable_catalogue_urls_are_one_masked_line(url, expected):
    for action in (open_catalog, init_catalog):
        with pytest.raises(CatalogUnreachable) as raised:
            action(url)
        message = str(raised.value)
        assert message.startswith(expected) and "\n" not in message and "S3cretPW" not in message
        assert isinstance(raised.value, SQLAlchemyError)  # what callers handling database errors already catch


def test_a_file_that_is_no_catalogue_is_named(tmp_path):
    path = tmp_path / "file.csv"
    path.write_text("a,b\n1,2\n" * 100)
    for action in (open_catalog, init_catalog):
        with pytest.raises(CatalogUnreachable, match="cannot open the catalogue at sqlite:///.*file.csv: file is not a database"):
            action(f"sqlite:///{path}")


def test_init_refuses_a_missing_directory_and_creates_nothing(tmp_path):
    with pytest.raises(CatalogUnreachable, match=f"directory {tmp_path / 'typo'} does not exist"):
        init_catalog(f"sqlite:///{tmp_path / 'typo' / 'ropa.db'}")
    assert not (tmp_path / "typo").exists()


def test_init_masks_a_password_in_the_query(tmp_path):
    catalog = init_catalog(f"sqlite:///{tmp_path / 'c.db'}?password=S3cretPW")
    assert catalog.display_url == f"sqlite:///{tmp_path / 'c.db'}?password=***"
    catalog.dispose()


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
