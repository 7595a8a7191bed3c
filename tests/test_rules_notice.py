"""The privacy-notice rules (ROPA-A13-*): they fire both ways on the small catalogue and stay
silent when the declared notice covers it, or when no notice is declared."""

import pytest

from catalog.apply import apply_spec
from catalog.rules import RULES, run_rules
from catalog.specs import CatalogSpec
from tests.factories import small_spec_data

NOTICE_RULES = sorted(rule_id for rule_id in RULES if rule_id.startswith("ROPA-A13-"))


def covering_notice() -> dict:
    """A notice that discloses everything the small catalogue's controller processing does."""
    return {
        "url": "https://acme.example/privacy",
        "purposes": ["essential.service"],
        "categories": ["user.contact", "user.name", "user.financial"],
        "data_subjects": ["customer"],
        "recipient_roles": ["processor", "sub_processor"],
        "transfers_worldwide": True,
        "retention_stated": True,
        "rights": ["15", "16", "17", "18", "20"],
    }


def _findings(catalog, notice: dict | None, declared: tuple[str, ...] = ()):
    data = small_spec_data()
    data["activities"][0]["data_categories"] += list(declared)
    if notice is not None:
        data["organisation"]["privacy_notice"] = notice
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
    with catalog.session() as session:
        return run_rules(session, rule_ids=NOTICE_RULES)


def _hits(findings, rule_id):
    return sorted(f.item_id for f in findings if f.rule_id == rule_id)


def test_rules_are_registered_with_articles_13_and_14():
    assert [f"ROPA-A13-00{n}" for n in range(1, 8)] == NOTICE_RULES
    for rule_id in NOTICE_RULES[:5]:
        assert "Art 13" in RULES[rule_id].article or "Art 14" in RULES[rule_id].article


def test_silent_without_a_declared_notice(catalog):
    assert _findings(catalog, None) == []


def test_silent_when_the_notice_covers_the_catalogue(catalog):
    assert _findings(catalog, covering_notice()) == []


def test_processing_the_notice_does_not_disclose(catalog):
    notice = covering_notice() | {
        "purposes": ["essential.service.operations"],   # narrower than the activity's essential.service
        "categories": ["user.contact"],                  # no name, no bank details
        "recipient_roles": ["processor"],                # no sub-processors
        "transfers_worldwide": False, "countries": ["US"],
        "retention_stated": False,
        "rights": ["Art 15", "16"],
    }
    findings = _findings(catalog, notice)
    assert _hits(findings, "ROPA-A13-001") == ["client-management"]  # the processor activity is the client's to disclose
    purpose = next(f for f in findings if f.rule_id == "ROPA-A13-001")
    assert "essential.service)" in purpose.message and purpose.article.startswith("Art 13(1)(c)")
    category = next(f for f in findings if f.rule_id == "ROPA-A13-002")
    assert category.item_id == "client-management"
    # what the record states for the activity: declared, or carried by its flows (the name)
    assert "user.name" in category.message and "user.contact.email" not in category.message
    # the CRM's bank details are declared by no activity: the record does not claim them (ROPA-A30-001 does)
    assert "user.financial.bank_account" not in category.message
    assert _hits(findings, "ROPA-A13-003") == ["helpdesk-in"]
    countries = {(f.item_id, f.message.split("(")[1][:2]) for f in findings if f.rule_id == "ROPA-A13-004"}
    assert ("crm-helpdesk", "IN") in countries and ("crm-backup", "IE") in countries
    assert not any(country == "US" for _, country in countries)
    assert _hits(findings, "ROPA-A13-005") == ["acme"]
    assert _hits(findings, "ROPA-A13-007") == ["rights:17", "rights:18", "rights:20"]
    assert _hits(findings, "ROPA-A13-006") == ["purposes:essential.service.operations"]


def test_a_category_the_activity_declares_is_compared(catalog):
    notice = covering_notice() | {"categories": ["user.contact", "user.name"]}
    assert _hits(_findings(catalog, notice), "ROPA-A13-002") == []
    declared = _findings(catalog, notice, declared=("user.financial.bank_account",))
    assert "user.financial.bank_account" in next(f.message for f in declared if f.rule_id == "ROPA-A13-002")


def test_worldwide_transfers_cover_every_country(catalog):
    findings = _findings(catalog, covering_notice() | {"countries": [], "transfers_worldwide": True})
    assert _hits(findings, "ROPA-A13-004") == []


def test_disclosed_but_not_found(catalog):
    notice = covering_notice()
    notice["purposes"] += ["marketing.advertising"]
    notice["categories"] += ["user.health_and_medical"]
    notice["data_subjects"] += ["employee"]
    notice["recipient_roles"] += ["public_authority"]
    notice |= {"transfers_worldwide": False, "countries": ["US", "IE", "IN", "JP"]}
    findings = _findings(catalog, notice)
    assert _hits(findings, "ROPA-A13-006") == [
        "categories:user.health_and_medical", "countries:JP", "data_subjects:employee",
        "purposes:marketing.advertising", "recipient_roles:public_authority",
    ]
    assert {f.item_kind for f in findings if f.rule_id == "ROPA-A13-006"} == {"privacy_notice"}
    assert [f.rule_id for f in findings if f.rule_id != "ROPA-A13-006"] == []  # the rest is covered


@pytest.mark.parametrize("declared", [["user"], ["user.contact", "user.name", "user.financial.bank_account"]])
def test_a_key_covers_its_descendants(catalog, declared):
    findings = _findings(catalog, covering_notice() | {"categories": declared})
    assert _hits(findings, "ROPA-A13-002") == [] and _hits(findings, "ROPA-A13-006") == []
