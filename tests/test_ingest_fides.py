"""The fides source: fideslang resources in, systems, datasets, activities and flows out; bad
input names file, line and key and leaves every table as it was."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlmodel import select

from catalog.models import ActivitySystem, DataField, Dataset, Flow, ProcessingActivity, System
from ingest.errors import IngestError, LocatedError
from ingest.fides import ingest_fides, load_fides
from ingest.registry import run_source
from tests.factories import table_counts

FIDES_DATA_MAP = """
organization:
  - fides_key: acme_org
    name: Acme IT Ltd
system:
  - fides_key: CRM.Main
    name: CRM
    description: Customer relationship management
    system_type: Service
    responsibility: [Controller]
    dpo: dpo@acme.example
    data_security_practices: Encryption at rest and SSO
    egress:
      - fides_key: billing
        type: system
        data_categories: [user.contact.email]
      - fides_key: user
        type: user
    privacy_declarations:
      - name: Manage customer accounts
        data_categories: [user.contact.email, user.name]
        data_use: essential.service
        data_subjects: [customer]
        dataset_references: [crm_db]
        legal_basis_for_processing: Contract
        retention_period: 6 years after the account closes
        third_parties: Mailco Ltd
  - fides_key: billing
    name: Billing
    system_type: Service
    responsibility: [Controller]
    ingress:
      - fides_key: CRM.Main
        type: system
        data_categories: [user.name]
    privacy_declarations:
      - data_categories: [user.financial.bank_account]
        data_use: essential.service.payment_processing
        data_subjects: [customer]
        dataset_references: [billing_db]
        legal_basis_for_processing: Legal obligations
      - name: Health-related refunds
        data_categories: [user.health_and_medical]
        data_use: essential.service.payment_processing
        data_subjects: [customer]
        legal_basis_for_processing: Legitimate interests
        special_category_legal_basis: Reasons of substantial public interest (with a basis in law)
dataset:
  - fides_key: crm_db
    collections:
      - name: customers
        description: One row per customer
        fields:
          - name: email
            data_categories: [user.contact.email]
          - name: id
          - name: address
            fields:
              - name: city
                data_categories: [user.contact.address.city]
  - fides_key: billing_db
    collections:
      - name: invoices
        fields:
          - name: iban
            data_categories: [user.financial.bank_account]
  - fides_key: orphan_db
    collections:
      - name: things
        fields:
          - name: note
            data_categories: [user.name]
data_use:
  - fides_key: essential.service
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def data_map(tmp_path) -> Path:
    return write(tmp_path, "fides/data_map.yml", FIDES_DATA_MAP)


def rejected(catalog, path: Path, **options) -> list[LocatedError]:
    """Ingest expecting failure; every table must be exactly as before."""
    before = table_counts(catalog)
    with pytest.raises(IngestError) as raised:
        ingest_fides(catalog, path, **options)
    assert table_counts(catalog) == before
    return raised.value.errors


def messages(errors) -> str:
    return "\n".join(str(error) for error in errors)


# ---- a realistic data map -----------------------------------------------------------------------


def test_data_map_becomes_systems_datasets_activities_and_flows(catalog, data_map):
    report = ingest_fides(catalog, data_map, actor="tester")
    assert report.source == "fides:acme_org" and not report.errors
    with catalog.session() as session:
        systems = {row.id: row for row in session.exec(select(System)).all()}
        datasets = {(row.system_id, row.name): row for row in session.exec(select(Dataset)).all()}
        fields = {row.name: row for row in session.exec(select(DataField)).all()}
        activities = {row.id: row for row in session.exec(select(ProcessingActivity)).all()}
        links = {(row.activity_id, row.system_id) for row in session.exec(select(ActivitySystem)).all()}
        flows = session.exec(select(Flow)).all()
    assert set(systems) == {"crm-main", "billing"}
    crm = systems["crm-main"]
    assert (crm.name, crm.description, crm.role, crm.security_measures) == ("CRM", "Customer relationship management", "controller", ["Encryption at rest and SSO"])
    assert crm.source == "fides:acme_org" and crm.source_ref == "data_map.yml:5"
    assert set(datasets) == {("crm-main", "crm_db.customers"), ("billing", "billing_db.invoices")}
    assert datasets[("crm-main", "crm_db.customers")].description == "One row per customer"
    assert set(fields) == {"email", "address.city", "iban"}  # 'id' carries no category; nested fields are dotted
    assert fields["address.city"].data_categories == ["user.contact.address.city"]

    assert set(activities) == {"crm-main-essential-service", "billing-essential-service-payment_processing", "billing-essential-service-payment_processing-2"}
    manage = activities["crm-main-essential-service"]
    assert (manage.name, manage.lawful_basis, manage.retention, manage.purposes) == (
        "Manage customer accounts", "contract", "6 years after the account closes", ["essential.service"],
    )
    assert manage.data_subjects == ["customer"] and manage.data_categories == ["user.contact.email", "user.name"]
    payments = activities["billing-essential-service-payment_processing"]
    assert payments.name == "Billing: " + "Essential for Payment Processing" and payments.lawful_basis == "legal_obligation"
    refunds = activities["billing-essential-service-payment_processing-2"]
    assert (refunds.lawful_basis, refunds.article9_condition) == ("legitimate_interests", "substantial_public_interest")
    assert ("crm-main-essential-service", "crm-main") in links

    assert len(flows) == 1  # egress on one side and ingress on the other are one flow
    flow = flows[0]
    assert (flow.id, flow.source_system_id, flow.target_system_id) == ("crm-main-to-billing", "crm-main", "billing")
    assert flow.data_categories == ["user.contact.email", "user.name"]

    text = messages(report.warnings)
    assert "system 'CRM.Main' is recorded with id 'crm-main'" in text
    assert "system 'crm-main' has no location" in text and "system 'billing' has no location" in text
    assert "dataset 'orphan_db' is referenced by no system" in text
    assert "third parties 'Mailco Ltd' are not linked" in text
    assert "'data_use' entries are not imported" in text


def test_second_run_changes_nothing_and_a_removed_system_is_retired(catalog, data_map):
    first = ingest_fides(catalog, data_map)
    second = ingest_fides(catalog, data_map)
    assert (second.added, second.updated, second.retired) == (0, 0, 0)
    assert second.unchanged == first.read

    text = data_map.read_text()
    data_map.write_text(text.replace("    ingress:\n      - fides_key: CRM.Main\n        type: system\n        data_categories: [user.name]\n", ""))
    third = ingest_fides(catalog, data_map)
    assert third.updated == 1 and third.retired == 0  # the flow keeps only the egress categories
    without_billing = text.split("  - fides_key: billing\n    name: Billing")[0].replace(
        "    egress:\n      - fides_key: billing\n        type: system\n        data_categories: [user.contact.email]\n", "    egress:\n",
    ) + "dataset:\n  - fides_key: crm_db\n    collections:\n      - name: customers\n        fields:\n          - name: email\n            data_categories: [user.contact.email]\n"
    data_map.write_text(without_billing.replace("dataset_references: [crm_db]", "dataset_references: [crm_db]", 1))
    fourth = ingest_fides(catalog, data_map)
    assert fourth.retired >= 3  # billing, its activities, its dataset and the flow
    with catalog.session() as session:
        assert session.get(System, "billing").retired_run_id == fourth.run_id
        assert session.get(System, "crm-main").retired_run_id is None


def test_directory_of_resource_files_and_registry_options(catalog, tmp_path):
    root = tmp_path / "fides"
    halves = FIDES_DATA_MAP.split("dataset:\n")
    write(root, "systems.yml", halves[0])
    write(root, "datasets/datasets.yaml", "dataset:\n" + halves[1])
    write(root, ".hidden/ignored.yml", "system: [oops")
    report = run_source("fides", catalog, {"path": root}, modules={"fides": "ingest.fides:FidesSource"})
    assert report.added > 0 and report.source == "fides:acme_org"
    with catalog.session() as session:
        assert session.get(System, "crm-main").source_ref == "systems.yml:5"


def test_organisation_scope_default_and_choice(tmp_path):
    path = write(tmp_path, "one.yml", """
        system:
          - fides_key: app
            name: App
            privacy_declarations: []
    """)
    organisation, spec, _, _ = load_fides(path)
    assert organisation == "default_organization" and [s.id for s in spec.systems] == ["app"]
    two = write(tmp_path, "two.yml", """
        organization:
          - fides_key: acme
          - fides_key: other
        system:
          - fides_key: app
            organization_fides_key: other
            privacy_declarations: []
    """)
    with pytest.raises(IngestError, match="several organizations"):
        load_fides(two)
    organisation, spec, _, warnings = load_fides(two, organization="acme")
    assert organisation == "acme" and spec.systems == [] and "left out" in messages(warnings)
    with pytest.raises(IngestError, match="did you mean 'acme'"):
        load_fides(two, organization="acm")


# ---- bad and hostile input ----------------------------------------------------------------------


def test_unknown_taxonomy_keys_are_errors_with_suggestions(catalog, tmp_path):
    ingest_fides(catalog, write(tmp_path, "good.yml", FIDES_DATA_MAP))
    bad = FIDES_DATA_MAP.replace("data_categories: [user.contact.email, user.name]", "data_categories: [user.contact.emial, user.name]")
    bad = bad.replace("data_use: essential.service\n", "data_use: essential.servce\n", 1)
    bad = bad.replace("data_categories: [user.contact.address.city]", "data_categories: [user.custom_thing]")
    bad += "data_category:\n  - fides_key: user.custom_thing\n"
    errors = rejected(catalog, write(tmp_path, "bad.yml", bad))
    text = messages(errors)
    assert "bad.yml:20: system[0].privacy_declarations[0].data_categories[0]: unknown data category 'user.contact.emial' (did you mean 'user.contact.email'?)" in text
    assert "unknown data use 'essential.servce' (did you mean 'essential.service'?)" in text
    assert "unknown data category 'user.custom_thing' (defined in the input's own taxonomy" in text


def test_a_misspelt_resource_type_is_an_error_and_one_fideslang_knows_a_warning(catalog, tmp_path):
    bad = FIDES_DATA_MAP.replace("\nsystem:\n", "\nsystems:\n", 1)
    errors = rejected(catalog, write(tmp_path, "bad.yml", bad))
    assert "bad.yml:4: systems: unknown resource type 'systems' (did you mean 'system'?)" in messages(errors)
    report = ingest_fides(catalog, write(tmp_path, "policy.yml", FIDES_DATA_MAP + "policy:\n  - fides_key: default\n    rules: []\n"))
    assert "'policy' resources are not imported" in messages(report.warnings)


def test_unknown_keys_in_resources_are_errors_but_fideslang_keys_we_do_not_read_are_not(catalog, tmp_path):
    bad = FIDES_DATA_MAP.replace("    privacy_declarations:\n      - name: Manage customer accounts", "    privacy_declaration:\n      - name: Manage customer accounts")
    bad = bad.replace("        legal_basis_for_processing: Legal obligations", "        legal_basis_for_procesing: Legal obligations")
    bad = bad.replace("        type: system\n        data_categories: [user.name]", "        type: system\n        data_category: [user.name]")
    errors = rejected(catalog, write(tmp_path, "bad.yml", bad))
    assert [str(e) for e in errors] == [
        "bad.yml:18: system[0].privacy_declaration: unknown key 'privacy_declaration' (did you mean 'privacy_declarations'?)",
        "bad.yml:34: system[1].ingress[0].data_category: unknown key 'data_category' (did you mean 'data_categories'?)",
        "bad.yml:40: system[1].privacy_declarations[0].legal_basis_for_procesing: unknown key 'legal_basis_for_procesing' (did you mean 'legal_basis_for_processing'?)",
    ]
    fideslang_only = FIDES_DATA_MAP.replace("    system_type: Service\n", "    system_type: Service\n    uses_cookies: false\n    fidesctl_meta: {resource_id: x}\n", 1)
    assert ingest_fides(catalog, write(tmp_path, "fine.yml", fideslang_only)).added > 0


def test_an_input_with_no_resources_is_refused_unless_allowed(catalog, data_map, tmp_path):
    ingest_fides(catalog, data_map)
    empty = write(tmp_path, "empty.yml", "organization:\n  - fides_key: acme_org\n")
    [error] = rejected(catalog, empty)
    assert error.message.startswith(f"nothing to ingest in {empty}: no entries read, so this run would retire the")
    assert ingest_fides(catalog, empty, allow_empty=True).retired > 0


def test_dangling_references_name_the_nearest_key(catalog, tmp_path):
    bad = FIDES_DATA_MAP.replace("      - fides_key: billing\n        type: system", "      - fides_key: biling\n        type: system")
    bad = bad.replace("dataset_references: [billing_db]", "dataset_references: [billing_dbs]")
    text = messages(rejected(catalog, write(tmp_path, "bad.yml", bad)))
    assert "bad.yml:13: system[0].egress[0].fides_key: unknown system 'biling' (did you mean 'billing'?)" in text
    assert "unknown dataset 'billing_dbs' (did you mean 'billing_db'?)" in text


def test_wrong_types_are_located(catalog, tmp_path):
    path = write(tmp_path, "types.yml", """
        system:
          - fides_key: app
            privacy_declarations: not a list
          - fides_key: other
            egress:
              - fides_key: app
                type: queue
            privacy_declarations:
              - data_use: [essential]
        dataset: {crm: 1}
    """)
    text = messages(rejected(catalog, path))
    assert "types.yml:3: system[0].privacy_declarations:" in text
    assert "types.yml:7: system[1].egress[0].type: invalid value 'queue'" in text
    assert "types.yml:9: system[1].privacy_declarations[0].data_use:" in text
    assert "types.yml:10: dataset: 'dataset' must be a list of resources" in text


@pytest.mark.parametrize("text, expected", [
    ("system:\n  - fides_key: app\n    name: [unclosed\n", "types.yml:4:1: malformed YAML"),
    ("system:\n  - fides_key: app\n   name: bad indent\n", "types.yml:3:4: malformed YAML"),
    ("system:\n  - !!python/object/apply:os.system ['echo pwned']\n", "types.yml:2:5: system[0]: tag '!!python/object/apply:os.system' is not allowed"),
])
def test_malformed_and_hostile_yaml_is_refused(catalog, tmp_path, text, expected):
    path = tmp_path / "types.yml"
    path.write_text(text, encoding="utf-8")
    assert expected in messages(rejected(catalog, path))


def test_a_file_over_the_size_limit_is_refused_before_parsing(catalog, data_map):
    errors = rejected(catalog, data_map, max_bytes=100)
    assert "over the limit of 100 bytes" in messages(errors)
    with pytest.raises(IngestError, match="over the limit"):
        run_source("fides", catalog, {"path": data_map, "max_bytes": 100}, modules={"fides": "ingest.fides:FidesSource"})
