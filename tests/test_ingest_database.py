"""Database discovery: tables, views, keys and suggested categories of a real database, written as one run;
sampled values never reach the catalogue; credentials never reach any output."""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

from catalog.apply import apply_spec
from catalog.models import CategorySuggestion, DataField, Dataset, FieldLineage, IngestRun
from catalog.specs import CatalogSpec
from catalog.suggestions import confirm_suggestion, reject_suggestion
from ingest.database import MYSQL_EXTRA_HINT, DatabaseSource, ingest_database, source_name
from ingest.errors import IngestError
from ingest.registry import run_source
from tests.conftest import POSTGRES_URL_ENV
from tests.factories import table_counts

SAMPLE_VALUES = ["ann.lee@example.com", "AB123456C", "GB82WEST12345698765432", "4111111111111111", "07911 123456", "Dupont"]

CUSTOMERS = [
    # id, email, email_verified, phone, phone_type, postcode, ni_number, dob, first_name, surname, card_number, card_brand, iban, sort_code, notes, password_hash
    (1, "ann.lee@example.com", 1, "07911 123456", "mobile", "SW1A 1AA", "AB123456C", "1980-02-29", "Ann", "Lee", "4111111111111111", "Visa",
     "GB82WEST12345698765432", "12-34-56", "Asked for a call back about the refund of her last order.", "$2b$12$" + "a" * 53),
    (2, "bob.smith@mail.example.co.uk", 0, "+44 20 7946 0958", "home", "M1 1AE", "JG103759A", "1975-12-31", "Bob", "Smith", "5555 5555 5555 4444", "Mastercard",
     "GB33BUKB20201555555555", "20-00-00", "Prefers email contact, moved house in March and updated his address.", "$2b$12$" + "b" * 53),
    (3, "c.o'brien@test.org", 1, "0161 496 0000", "work", "EH1 1YZ", "CE123456D", "1990-07-04", "Cara", "O'Brien", "378282246310005", "Amex",
     "DE89370400440532013000", "40-47-84", "Complained about a late delivery and asked for compensation.", "$2b$12$" + "c" * 53),
]
CLIENTS = [
    (1, "marie.dupont@example.fr", "07700 900123", "Dupont", "12 rue de la Paix"),
    (2, "jose.garcia@example.es", "+44 7700 900456", "García", "3 High Street"),
    (3, "luc.martin@example.fr", "07700 900789", "Martin", "9 Mill Lane"),
]


def build_shop_database(path: Path) -> str:
    """A shop database as a team would have it: customers, orders with a foreign key, a view, other languages."""
    connection = sqlite3.connect(path)
    connection.executescript("""
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY, email VARCHAR(255), email_verified BOOLEAN, phone VARCHAR(40), phone_type VARCHAR(10),
            postcode VARCHAR(10), ni_number VARCHAR(13), dob DATE, first_name VARCHAR(80), surname VARCHAR(80),
            card_number VARCHAR(25), card_brand VARCHAR(20), iban VARCHAR(40), sort_code VARCHAR(8), notes TEXT,
            password_hash VARCHAR(100)
        );
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), total NUMERIC(10, 2), placed_at DATETIME
        );
        CREATE TABLE clients (id INTEGER PRIMARY KEY, correo_electronico TEXT, telefono TEXT, nom TEXT, adresse TEXT);
        CREATE VIEW customer_contacts AS SELECT id, email, phone FROM customers;
    """)
    connection.executemany(f"INSERT INTO customers VALUES ({', '.join('?' * 16)})", CUSTOMERS)
    connection.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", [(1, 1, 19.99, "2025-01-02 10:00"), (2, 3, 5.00, "2025-01-03 11:00")])
    connection.executemany("INSERT INTO clients VALUES (?, ?, ?, ?, ?)", CLIENTS)
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


@pytest.fixture
def shop_url(tmp_path) -> str:
    return build_shop_database(tmp_path / "shop.db")


@pytest.fixture
def registered(catalog):
    """The catalogue with the shop system registered by a manifest run."""
    spec = CatalogSpec.model_validate({"systems": [{"id": "shop", "name": "Web shop", "owner_team": "Ecommerce"}]})
    with catalog.session() as session:
        apply_spec(session, spec, source="manifest", target="tests")
    return catalog


def suggestions_by_path(catalog) -> dict[str, CategorySuggestion]:
    with catalog.session() as session:
        rows = session.exec(
            select(CategorySuggestion, Dataset.name, DataField.name)
            .join(DataField, CategorySuggestion.field_id == DataField.id).join(Dataset, DataField.dataset_id == Dataset.id)
            .where(CategorySuggestion.retired_run_id.is_(None))
        ).all()
        for suggestion, _, _ in rows:
            session.expunge(suggestion)
        return {f"{dataset}.{field}": suggestion for suggestion, dataset, field in rows}


EXPECTED = {
    "customers.email": "user.contact.email",
    "customers.phone": "user.contact.phone_number",
    "customers.postcode": "user.contact.address.postal_code",
    "customers.ni_number": "user.government_id.national_identification_number",
    "customers.dob": "user.demographic.date_of_birth",
    "customers.first_name": "user.name.first",
    "customers.surname": "user.name.last",
    "customers.card_number": "user.financial.credit_card",
    "customers.iban": "user.financial.bank_account",
    "customers.sort_code": "user.financial.bank_account",
    "customers.notes": "user.content.private",
    "customers.password_hash": "user.authorization.credentials",
    "clients.correo_electronico": "user.contact.email",
    "clients.telefono": "user.contact.phone_number",
    "clients.nom": "user.name",
    "clients.adresse": "user.contact.address.street",
    "customer_contacts.email": "user.contact.email",
    "customer_contacts.phone": "user.contact.phone_number",
}


def test_discovers_tables_views_keys_and_suggests_categories(registered, shop_url):
    report = ingest_database(registered, shop_url, "shop", actor="tester")
    assert report.status.value == "succeeded" and not report.errors
    with registered.session() as session:
        datasets = {d.name: d for d in session.exec(select(Dataset).where(Dataset.system_id == "shop")).all()}
        assert set(datasets) == {"customers", "orders", "clients", "customer_contacts"}
        assert "view" in datasets["customer_contacts"].description
        assert all(d.source == source_name("shop") == "database:shop" for d in datasets.values())
        fields = {f.name: f for f in session.exec(select(DataField).where(DataField.dataset_id == datasets["customers"].id)).all()}
        assert fields["email"].data_type.startswith("varchar") and fields["email"].data_categories == []
        assert fields["email_verified"].data_type == "boolean"
        lineage = session.exec(select(FieldLineage)).all()
        assert len(lineage) == 1 and lineage[0].transformation == "foreign_key"
        assert session.get(DataField, lineage[0].source_field_id).name == "id"
        assert session.get(DataField, lineage[0].target_field_id).name == "customer_id"
        run = session.get(IngestRun, report.run_id)
        assert run.source == "database:shop" and run.target == shop_url

    found = suggestions_by_path(registered)
    assert {path: s.category for path, s in found.items() if path in EXPECTED} == EXPECTED
    for negative in ("customers.email_verified", "customers.phone_type", "customers.card_brand", "orders.customer_id", "orders.total"):
        assert negative not in found
    email = found["customers.email"]
    assert email.status == "suggested" and email.score >= 0.95 and email.recogniser == "column-name+values:email"
    assert email.evidence == {"recogniser": "email", "name_tokens": ["email"], "sample_size": 3, "non_null": 3, "matched_share": 1.0}
    assert found["customers.notes"].score <= 0.35
    assert any("suggestion" in change for change in report.changes)


def test_no_sampled_value_is_stored_anywhere(registered, shop_url):
    ingest_database(registered, shop_url, "shop")
    with registered.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)).all():
                text = " ".join(str(value) for value in row)
                for value in SAMPLE_VALUES:
                    assert value not in text, f"sampled value stored in {table.name}"


def test_rerun_changes_nothing_and_keeps_decisions(registered, shop_url):
    ingest_database(registered, shop_url, "shop")
    again = ingest_database(registered, shop_url, "shop")
    assert (again.added, again.updated, again.retired) == (0, 0, 0) and again.changes == []

    found = suggestions_by_path(registered)
    with registered.session() as session:
        confirm_suggestion(session, found["customers.email"].id, "dpo")
        reject_suggestion(session, found["customers.notes"].id, "dpo")
    third = ingest_database(registered, shop_url, "shop")
    assert (third.added, third.updated, third.retired, third.conflicts) == (0, 0, 0, 0)
    after = suggestions_by_path(registered)
    assert after["customers.email"].status == "confirmed" and after["customers.notes"].status == "rejected"
    with registered.session() as session:
        email = session.get(DataField, found["customers.email"].field_id)
        assert email.data_categories == ["user.contact.email"] and email.source == "dashboard"


def test_a_dropped_table_is_retired_and_a_new_one_added(registered, tmp_path):
    path = tmp_path / "shop.db"
    url = build_shop_database(path)
    ingest_database(registered, url, "shop")
    connection = sqlite3.connect(path)
    connection.executescript("DROP VIEW customer_contacts; CREATE TABLE staff (id INTEGER PRIMARY KEY, work_email TEXT);")
    connection.close()
    report = ingest_database(registered, url, "shop")
    assert report.retired == 1 and report.added == 3  # staff, staff.id, staff.work_email
    with registered.session() as session:
        view = session.exec(select(Dataset).where(Dataset.name == "customer_contacts")).one()
        assert view.retired_run_id == report.run_id
    found = suggestions_by_path(registered)
    assert "customer_contacts.email" not in found  # the dropped view's suggestions leave the review queue
    assert found["staff.work_email"].category == "user.contact.email"


def test_a_broken_view_is_skipped_with_a_warning(registered, tmp_path):
    path = tmp_path / "shop.db"
    url = build_shop_database(path)
    connection = sqlite3.connect(path)
    connection.executescript("CREATE TABLE old (id INTEGER, email TEXT); CREATE VIEW old_emails AS SELECT email FROM old; DROP TABLE old;")
    connection.close()
    report = ingest_database(registered, url, "shop")
    assert [(w.field_path, w.message.split(" (")[0]) for w in report.warnings] == [("old_emails", "skipped: its columns cannot be read")]
    assert "customers.email" in suggestions_by_path(registered)


def test_runs_through_the_registry_with_options(registered, shop_url):
    report = run_source("database", registered, {"url": shop_url, "system": "shop", "sample_rows": 0})
    found = suggestions_by_path(registered)
    assert found["customers.email"].recogniser == "column-name:email"
    assert found["customers.email"].evidence["sample_size"] == 0
    assert report.status.value == "succeeded"
    assert DatabaseSource.Config.model_fields["sample_rows"].default == 200


def rejected(catalog, url: str, system: str = "shop") -> str:
    before = table_counts(catalog)
    with pytest.raises(IngestError) as raised:
        ingest_database(catalog, url, system)
    assert table_counts(catalog) == before
    assert raised.value.__traceback__ is not None
    return str(raised.value)


def test_an_unknown_system_suggests_the_nearest(registered, shop_url):
    assert "system 'shopp' is not in the catalogue" in rejected(registered, shop_url, "shopp")
    assert "did you mean 'shop'" in rejected(registered, shop_url, "shopp")


def test_wrong_urls_fail_clearly_with_credentials_masked(registered, tmp_path):
    message = rejected(registered, "postgresql+psycopg://reader:s3cr3t-pw@127.0.0.1:1/app")
    assert "s3cr3t-pw" not in message and "reader:***@127.0.0.1:1/app" in message and "cannot connect to" in message
    assert "no such SQLite database file" in rejected(registered, f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    assert "file is not a database" in rejected(registered, f"sqlite:///{garbage}")
    assert "not a database URL" in rejected(registered, "no url here")
    with registered.session() as session:
        assert session.exec(select(IngestRun)).all() == [session.exec(select(IngestRun)).first()]  # only the manifest run


def test_passwords_in_query_parameters_are_masked_in_messages_and_never_stored(registered, shop_url):
    message = rejected(registered, "postgresql+psycopg://reader@127.0.0.1:1/app?sslmode=disable&password=s3cr3t-pw")
    assert "s3cr3t-pw" not in message and "password=***" in message and "cannot connect to" in message
    report = ingest_database(registered, f"{shop_url}?PassWord=s3cr3t-pw", "shop")
    assert report.target == f"{shop_url}?PassWord=***" and "s3cr3t-pw" not in report.summary()
    with registered.session() as session:
        assert all("s3cr3t-pw" not in run.target for run in session.exec(select(IngestRun)).all())


def test_url_hints_are_advice_not_did_you_mean(registered):
    assert rejected(registered, "crm.sqlite") == "not a database URL: crm.sqlite; for a SQLite file write sqlite:///crm.sqlite"
    message = rejected(registered, "no url here")
    assert "not a database URL" in message and "write it as e.g. postgresql+psycopg://" in message and "did you mean" not in message


def test_a_database_with_no_tables_is_refused_unless_allowed(registered, shop_url, tmp_path):
    ingest_database(registered, shop_url, "shop")
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    empty.write_bytes(b"")  # an empty file is an empty SQLite database
    message = rejected(registered, f"sqlite:///{empty}")
    assert message.startswith(f"nothing to ingest in sqlite:///{empty}: no entries read, so this run would retire the")
    assert "--allow-empty" in message and "did you mean" not in message
    report = ingest_database(registered, f"sqlite:///{empty}", "shop", allow_empty=True)
    assert report.retired > 0
    with registered.session() as session:
        assert all(d.retired_run_id == report.run_id for d in session.exec(select(Dataset).where(Dataset.system_id == "shop")).all())


@pytest.mark.skipif(DatabaseSource.description.find("pymysql is not installed") < 0, reason="pymysql is installed")
def test_mysql_without_its_driver_names_the_extra(registered):
    message = rejected(registered, "mysql://root:hunter2@db.example/app")
    assert MYSQL_EXTRA_HINT in message and "hunter2" not in message
    assert MYSQL_EXTRA_HINT in DatabaseSource.description


def test_too_many_tables_is_refused_before_sampling(registered, shop_url):
    before = table_counts(registered)
    with pytest.raises(IngestError, match="more than 2 tables"):
        ingest_database(registered, shop_url, "shop", max_tables=2)
    assert table_counts(registered) == before
    message = rejected_with(registered, shop_url, max_tables=1)
    assert "more than 1 table or view in the schemas read; name the schemas to read with --schemas, or raise --max-tables" in message


def rejected_with(catalog, url: str, **options) -> str:
    with pytest.raises(IngestError) as raised:
        ingest_database(catalog, url, "shop", **options)
    return str(raised.value)


def test_labelled_database_at_small_size(registered, tmp_path):
    from benchmarks.labelled_db import build_labelled_database

    url = f"sqlite:///{tmp_path / 'labelled.db'}"
    labels = build_labelled_database(url, tables=6, rows=20, seed=3)
    ingest_database(registered, url, "shop")
    found = {path: s.category for path, s in suggestions_by_path(registered).items()}
    wrong = {f"{t}.{c}": (label, found.get(f"{t}.{c}")) for (t, c), label in labels.items() if found.get(f"{t}.{c}") != label}
    assert wrong == {}


@pytest.mark.skipif(not os.environ.get(POSTGRES_URL_ENV), reason=f"{POSTGRES_URL_ENV} not set")
def test_postgres_discovery_in_a_private_schema(registered):
    base = os.environ[POSTGRES_URL_ENV]
    schema = f"ropa_disc_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        connection.execute(sa.text(f'CREATE TABLE "{schema}".customers (id serial PRIMARY KEY, email text, email_verified boolean, dob date)'))
        connection.execute(sa.text(f'COMMENT ON TABLE "{schema}".customers IS \'People who bought from us\''))
        connection.execute(sa.text(f'COMMENT ON COLUMN "{schema}".customers.email IS \'Login and receipts\''))
        connection.execute(sa.text(f'CREATE TABLE "{schema}".orders (id serial PRIMARY KEY, customer_id int REFERENCES "{schema}".customers(id))'))
        connection.execute(sa.text(f'CREATE VIEW "{schema}".contacts AS SELECT id, email FROM "{schema}".customers'))
        connection.execute(sa.text(f"INSERT INTO \"{schema}\".customers (email, email_verified, dob) VALUES ('ann@example.com', true, '1980-01-01'), ('bob@example.org', false, '1970-05-05')"))
    try:
        report = run_source("database", registered, {"url": base, "system": "shop", "schemas": [schema]})
        assert report.status.value == "succeeded"
        with registered.session() as session:
            datasets = {d.name: d for d in session.exec(select(Dataset).where(Dataset.system_id == "shop")).all()}
            assert set(datasets) == {f"{schema}.customers", f"{schema}.orders", f"{schema}.contacts"}
            assert datasets[f"{schema}.customers"].description == "People who bought from us"
            assert "view" in datasets[f"{schema}.contacts"].description
            email = session.exec(select(DataField).where(DataField.dataset_id == datasets[f"{schema}.customers"].id, DataField.name == "email")).one()
            assert email.description == "Login and receipts"
            assert len(session.exec(select(FieldLineage)).all()) == 1
        found = suggestions_by_path(registered)
        assert found[f"{schema}.customers.email"].category == "user.contact.email"
        assert found[f"{schema}.customers.dob"].category == "user.demographic.date_of_birth"
        assert f"{schema}.customers.email_verified" not in found
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
