"""The merged taxonomy and the special-category mapping."""

import pytest

from catalog.taxonomy import TaxonomyKind, UnknownTaxonomyKey, load_taxonomy

K = TaxonomyKind


def test_fideslang_defaults_and_project_extension_are_merged():
    taxonomy = load_taxonomy()
    assert taxonomy.get(K.DATA_CATEGORY, "user.contact.email").origin == "fideslang"
    assert taxonomy.get(K.DATA_CATEGORY, "user.contact.work.email").origin == "project"
    assert taxonomy.get(K.DATA_SUBJECT, "client_end_user").origin == "project"
    assert len(taxonomy.entries(K.DATA_USE)) >= 56


@pytest.mark.parametrize(("typo", "expected"), [
    ("user.contact.emial", "user.contact.email"),
    ("user.financial.bank_acount", "user.financial.bank_account"),
])
def test_unknown_key_suggests_nearest(typo, expected):
    with pytest.raises(UnknownTaxonomyKey) as problem:
        load_taxonomy().check(K.DATA_CATEGORY, typo)
    assert problem.value.suggestion == expected
    assert expected in str(problem.value)


@pytest.mark.parametrize(("key", "category"), [
    ("user.health_and_medical.record_id", "health"),
    ("user.health_and_medical.genetic", "genetic data"),
    ("user.biometric.fingerprint", "biometric data for unique identification"),
    ("user.demographic.trade_union_membership", "trade union membership"),
    ("user.contact.email", None),
])
def test_article9_mapping_covers_descendants(key, category):
    assert load_taxonomy().article9_category(key) == category


def test_article10_and_children():
    taxonomy = load_taxonomy()
    assert taxonomy.article10_category("user.criminal_history") == "criminal convictions and offences"
    assert taxonomy.article10_category("user.name") is None
    assert taxonomy.is_childrens_data("user.childrens")


def test_descendants():
    keys = load_taxonomy().descendants(K.DATA_CATEGORY, "user.contact.work")
    assert set(keys) == {"user.contact.work", "user.contact.work.email", "user.contact.work.phone_number", "user.contact.work.address"}
