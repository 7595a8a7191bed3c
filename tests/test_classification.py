"""Column classification: whole-token names, strict value recognisers, scores with evidence and no values."""

from __future__ import annotations

import ipaddress
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from catalog.taxonomy import TaxonomyKind, load_taxonomy
from ingest.classification import NAME_RULES, TypeFamily, classify_column, name_tokens
from ingest.classification import recognisers as r

TEXT = TypeFamily.TEXT


def category(name: str, values: list, family: str = TEXT, table: str = "customers") -> str | None:
    found = classify_column(name, family, values, table_name=table)
    return found[0].category if found else None


@pytest.mark.parametrize(("name", "tokens"), [
    ("email_verified", ("email", "verified")),
    ("contactEmail", ("contact", "email")),
    ("emailAddress", ("email", "address")),
    ("NINumber", ("ni", "number")),
    ("addressLine1", ("address", "line", "1")),
    ("correo_electrónico", ("correo", "electronico")),
    ("IPAddress", ("ip", "address")),
])
def test_names_split_into_whole_tokens(name, tokens):
    assert name_tokens(name) == tokens


def test_every_rule_maps_to_a_known_taxonomy_key():
    taxonomy = load_taxonomy()
    for rule in NAME_RULES:
        assert taxonomy.check(TaxonomyKind.DATA_CATEGORY, rule.category) == rule.category


EMAILS = ["ann.lee@example.com", "bob@mail.example.co.uk", "c.d+x@test.org"] * 3


@pytest.mark.parametrize("name", ["email", "contact_email", "emailAddress", "correo_electronico", "EMAIL"])
def test_email_names_with_email_values(name):
    found = classify_column(name, TEXT, EMAILS)
    assert found[0].category == "user.contact.email"
    assert found[0].score >= 0.95
    assert found[0].recogniser == "column-name+values:email"


@pytest.mark.parametrize(("name", "family", "values"), [
    ("email_verified", TypeFamily.BOOLEAN, [True, False] * 5),
    ("email_verified", TEXT, ["true", "false"] * 5),
    ("phone_type", TEXT, ["mobile", "home", "work"] * 3),
    ("card_brand", TEXT, ["Visa", "Mastercard"] * 5),
    ("email_domain", TEXT, ["example.com"] * 6),
    ("product_name", TEXT, ["Blue Widget", "Oak Table"] * 5),
    ("name", TEXT, ["Blue Widget", "Oak Table"] * 5),  # in a products table below
])
def test_negatives_are_not_identifiers(name, family, values):
    assert category(name, values, family, table="products") is None


def test_values_alone_find_identifiers_behind_uninformative_names():
    assert category("ref_code", ["AB123456C", "JG103759A", "CE 12 34 56 D"] * 2) == "user.government_id.national_identification_number"
    assert category("col_17", ["4111111111111111", "5555 5555 5555 4444", "378282246310005"]) == "user.financial.credit_card"
    assert category("login", EMAILS) == "user.contact.email"
    assert category("misc", ["GB82WEST12345698765432", "GB33BUKB20201555555555", "DE89370400440532013000"]) == "user.financial.bank_account"


def test_recognisers_apply_check_digits_and_prefix_rules():
    assert r.is_payment_card("4111 1111 1111 1111") and not r.is_payment_card("4111 1111 1111 1112")
    assert not r.is_payment_card("9111111111111111")  # no card scheme issues numbers starting with 9
    assert r.is_nhs_number("943 476 5919") and not r.is_nhs_number("943 476 5918")
    assert r.is_national_insurance_number("AB123456C")
    assert not r.is_national_insurance_number("GB123456C")  # prefix never allocated
    assert not r.is_national_insurance_number("DA123456C")  # D is never a first letter
    assert r.is_iban("GB82 WEST 1234 5698 7654 32") and not r.is_iban("GB82WEST12345698765433")
    assert r.is_uk_postcode("SW1A 1AA") and r.is_uk_postcode("m1 1ae") and not r.is_uk_postcode("12345")
    assert r.is_sort_code("12-34-56") and not r.is_sort_code("123456")
    assert r.is_phone("07911 123456") and r.is_phone("+44 20 7946 0958") and not r.is_phone("12345")
    assert r.is_ip_address("192.168.0.10") and r.is_ip_address("2001:db8::1") and not r.is_ip_address("300.1.1.1")
    assert not r.is_phone("010.001.002.003")
    assert r.is_birth_date("1980-02-29") and r.is_birth_date(date(1950, 5, 1))
    assert not r.is_birth_date("1850-01-01") and not r.is_birth_date("2999-01-01")
    assert r.is_uk_driving_licence("MORGA753116SM9IJ")


@pytest.mark.parametrize(("name", "values", "expected"), [
    ("telefono", ["07911 123456", "+44 7700 900123"] * 3, "user.contact.phone_number"),
    ("nom", ["Dupont", "Martin", "Bernard"] * 2, "user.name"),
    ("adresse", ["12 rue de la Paix", "3 High Street"] * 3, "user.contact.address.street"),
    ("prenom", ["Chloé", "Zoë", "Jean-Luc"] * 2, "user.name.first"),
    ("fecha_nacimiento", ["1980-01-02", "1975-12-31"] * 3, "user.demographic.date_of_birth"),
    ("password_hash", ["$2b$12$" + "a" * 53] * 5, "user.authorization.credentials"),
    ("NINumber", ["AB123456C"] * 5, "user.government_id.national_identification_number"),
])
def test_names_in_other_spellings_and_languages(name, values, expected):
    assert category(name, values, table="clients") == expected


def test_database_value_types_are_read_as_text():
    assert r.normalise_value(Decimal("4111111111111111")) == "4111111111111111"
    assert r.normalise_value(Decimal("19.99")) is None
    assert r.normalise_value(ipaddress.ip_interface("10.0.0.1/32")) == "10.0.0.1"
    assert r.normalise_value(UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert r.normalise_value("  padded  ") == "padded" and r.normalise_value("   ") is None
    assert r.normalise_value(True) is None and r.normalise_value(b"bytes") is None
    assert len(r.normalise_value("x" * 10_000)) == r.MAX_VALUE_LENGTH
    assert category("ip_address", [ipaddress.ip_address("192.168.1.1")] * 5, TypeFamily.OTHER) == "user.device.ip_address"
    assert category("card_number", [Decimal("4111111111111111")] * 5, TypeFamily.NUMBER) == "user.financial.credit_card"


def test_free_text_is_suggested_with_a_low_score():
    found = classify_column("notes", TypeFamily.TEXT, ["Called about the refund of the last order, wants a call back."] * 5)
    assert found[0].category == "user.content.private"
    assert found[0].score <= 0.35


def test_a_name_alone_scores_its_strength_and_contradicting_values_lower_it():
    alone = classify_column("email", TEXT, [])[0]
    assert alone.recogniser == "column-name:email" and 0.5 <= alone.score < 0.95
    contradicted = classify_column("email", TEXT, ["n/a", "unknown", "none", "-", "tbc"])[0]
    assert contradicted.score < alone.score and contradicted.evidence["values_contradict_name"] is True


def test_dates_of_birth_need_the_name_and_a_plausible_range():
    assert category("created_at", [date(2024, 1, 1)] * 5, TypeFamily.DATE) is None
    assert category("dob", [date(1970, 1, 1)] * 5, TypeFamily.DATE) == "user.demographic.date_of_birth"


def test_evidence_holds_counts_and_tokens_never_values():
    values = ["ann.lee@example.com", None, "", "bob@example.org", "not-an-email"]
    found = classify_column("contact_email", TEXT, values)[0]
    assert found.evidence == {
        "recogniser": "email", "name_tokens": ["email"], "sample_size": 5, "non_null": 3, "matched_share": 0.6667,
    }
    text = repr(found)
    assert "ann.lee" not in text and "example" not in text
