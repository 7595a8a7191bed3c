"""The DSAR map: where a subject's data is held, copied and disclosed, retention, and whom to tell."""

import json

import pytest

from catalog.apply import apply_spec
from catalog.dsar import dsar_map
from catalog.specs import CatalogSpec
from catalog.taxonomy import UnknownTaxonomyKey
from tests.factories import small_spec_data


def _spec():
    data = small_spec_data()
    data["systems"].append({"id": "archive", "name": "Cold archive", "hosted_in": ["lon"]})
    data["systems"].append({"id": "payroll", "name": "Payroll", "datasets": [{"name": "staff", "data_subjects": ["employee"], "retention": "7 years", "fields": [
        {"name": "salary", "categories": ["user.financial"]},
    ]}]})
    data["parties"] += [
        {"id": "callcentre-ph", "name": "Callcentre PH", "role": "sub_processor", "country": "PH", "parent": "helpdesk-in"},
        {"id": "police", "name": "Police", "role": "public_authority", "country": "GB"},
        {"id": "adviser", "name": "Adviser LLP", "role": "independent_controller", "country": "GB"},
    ]
    data["activities"][0]["recipients"].append("adviser")  # disclosed to, with no flow catalogued
    data["activities"].append({
        "id": "tax-reporting", "name": "Tax reporting", "purposes": ["essential.legal_obligation"], "data_subjects": ["customer"],
        "lawful_basis": "legal_obligation", "retention": "7 years", "systems": ["crm"],
    })
    data["flows"] += [
        {"id": "backup-archive", "from": "backup", "to": "archive", "categories": ["user.contact.email"], "mechanism": "backup"},
        {"id": "crm-police", "from": "crm", "to": "police", "categories": ["user.name"], "mechanism": "disclosure"},
        {"id": "payroll-backup", "from": "payroll", "to": "backup", "categories": ["user.financial"], "mechanism": "backup"},
    ]
    return CatalogSpec.model_validate(data)


@pytest.fixture
def session(catalog):
    with catalog.session() as session:
        apply_spec(session, _spec(), source="manifest", target="tests")
    with catalog.session() as session:
        yield session


def _where(result):
    return {(h.location, h.how) for h in result.holdings}


def test_customer_data_held_copied_and_received(session):
    result = dsar_map(session, subject="customer")
    assert set(result.activities) == {"client-management", "tax-reporting"}
    where = _where(result)
    assert {("crm.contacts.email", "held"), ("crm.contacts.sort_code", "held"), ("backup.snapshots.blob", "held")} <= where
    assert ("Cold archive", "copy") in where  # a backup of the backup, reached by a flow
    assert ("Cloudco Inc (processor)", "received") in where and ("Metrics LLC (processor)", "received") in where
    assert not any("payroll" in location for location, _ in where)  # employee data only
    archive = next(h for h in result.holdings if h.location == "Cold archive")
    assert archive.via == ("system:backup", "system:archive") and archive.categories == ("user.contact.email",)
    email = next(h for h in result.holdings if h.location == "crm.contacts.email")
    assert email.retention == "6 years after contract end; 7 years" and email.countries == ("GB",)


def test_sub_processor_chain_and_article19_recipients(session):
    result = dsar_map(session, subject="customer")
    chain = next(h for h in result.holdings if h.key == "party:callcentre-ph")
    assert chain.how == "sub-processor" and chain.via == ("system:crm", "party:helpdesk-in", "party:callcentre-ph")
    recipients = {r.key: r for r in result.recipients}
    assert recipients["party:adviser"].notify  # no flow says what it gets: it may get anything
    assert not recipients["party:police"].notify  # an authority receiving for an inquiry is not a recipient (Art 4(9))
    erasure = next(r for r in result.rights if r.name == "Erasure")
    assert erasure.activities == ("client-management",)  # no erasure under legal obligation (Art 17(3)(b))
    assert "Callcentre PH" in erasure.notify and "Police" not in erasure.notify
    restriction = next(r for r in result.rights if r.name == "Restriction")
    assert restriction.activities == ("client-management", "tax-reporting")


def test_category_filter_covers_descendants(session):
    result = dsar_map(session, subject="customer", category="user.financial")
    assert _where(result) == {("crm.contacts.sort_code", "held")}
    # no flow carries bank details; only the recipient with no catalogued flow may have them
    assert [r.key for r in result.recipients] == ["party:adviser"]
    contact = dsar_map(session, subject="customer", category="user.contact")
    assert ("crm.contacts.email", "held") in _where(contact) and ("crm.contacts.full_name", "held") not in _where(contact)
    assert not any(h.key == "party:helpdesk-in" and h.how == "received" for h in contact.holdings)  # that flow carries names only


def test_other_subject_and_outputs(session):
    result = dsar_map(session, subject="employee")
    # the vault's catalogued fields do not show salaries, yet the backup flow puts them there
    assert _where(result) == {("payroll.staff.salary", "held"), ("Backup vault", "copy")}
    assert result.holdings[0].retention == "7 years"
    rows = dsar_map(session, subject="customer").as_rows()
    assert {"where", "kind", "how", "categories", "countries", "retention", "via"} == set(rows[0])
    data = json.loads(dsar_map(session, subject="customer", category="user.name").as_json())
    assert data["subject"] == "customer" and data["category"] == "user.name" and data["rights"][0]["right"] == "Rectification"


def test_unknown_keys_suggest(session):
    with pytest.raises(UnknownTaxonomyKey) as problem:
        dsar_map(session, subject="customr")
    assert problem.value.suggestion == "customer"
    with pytest.raises(UnknownTaxonomyKey):
        dsar_map(session, subject="customer", category="user.contact.emial")


def test_rights_with_a_category_name_only_the_activities_processing_it(catalog):
    data = small_spec_data()
    data["activities"].append({
        "id": "newsletter", "name": "Newsletter", "purposes": ["marketing.communications.email"], "data_subjects": ["customer"],
        "lawful_basis": "consent", "systems": ["backup"],  # the backup holds email and name, no bank details
    })
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    with catalog.session() as session:
        everything = dsar_map(session, "customer")
        bank = dsar_map(session, "customer", "user.financial.bank_account")
    assert set(everything.activities) == {"client-management", "newsletter"}
    assert bank.activities == ("client-management",)
    erasure = next(r for r in bank.rights if r.name == "Erasure")
    assert erasure.activities == ("client-management",)
