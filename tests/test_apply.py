"""Applying specs: one transaction, change counts, idempotence, retirement, references."""

import pytest
from sqlmodel import select

from catalog.apply import ReferenceErrors, apply_spec
from catalog.models import DataField, Flow, IngestRun, Party, System, SystemLocation
from catalog.specs import CatalogSpec, SystemSpec
from tests.factories import small_spec, small_spec_data, table_counts


def test_first_run_adds_everything_and_rerun_changes_nothing(catalog):
    with catalog.session() as session:
        first = apply_spec(session, small_spec(), source="manifest")
    assert first.added > 0 and first.updated == 0 and first.retired == 0
    with catalog.session() as session:
        second = apply_spec(session, small_spec(), source="manifest")
    assert (second.added, second.updated, second.retired) == (0, 0, 0)
    assert second.unchanged == first.added
    with catalog.session() as session:
        runs = session.exec(select(IngestRun).order_by(IngestRun.id)).all()
    assert [run.added for run in runs] == [first.added, 0]


def test_changed_field_counts_as_one_update(loaded_catalog):
    data = small_spec_data()
    data["systems"][0]["datasets"][0]["fields"][0]["categories"] = ["user.contact.work.email"]
    with loaded_catalog.session() as session:
        result = apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    assert (result.added, result.updated, result.retired) == (0, 1, 0)
    with loaded_catalog.session() as session:
        email = session.exec(select(DataField).where(DataField.name == "email")).one()
    assert email.data_categories == ["user.contact.work.email"]


def test_hosting_change_counts_as_update(loaded_catalog):
    data = small_spec_data()
    data["systems"][0]["hosted_in"] = ["lon", "dub"]
    with loaded_catalog.session() as session:
        result = apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    assert result.updated == 1
    with loaded_catalog.session() as session:
        assert len(session.exec(select(SystemLocation).where(SystemLocation.system_id == "crm")).all()) == 2


def test_missing_entries_are_retired_not_deleted(loaded_catalog):
    data = small_spec_data()
    data["flows"] = [f for f in data["flows"] if f["id"] != "crm-metrics"]
    data["parties"] = [p for p in data["parties"] if p["id"] != "metrics"]
    with loaded_catalog.session() as session:
        result = apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    assert result.retired == 2
    with loaded_catalog.session() as session:
        party = session.get(Party, "metrics")
        flow = session.get(Flow, "crm-metrics")
        assert party is not None and party.retired_run_id == result.run.id and party.retired_at is not None
        assert flow.retired_run_id == result.run.id
    # and it comes back when the files list it again
    with loaded_catalog.session() as session:
        again = apply_spec(session, small_spec(), source="manifest")
    assert again.updated == 2
    with loaded_catalog.session() as session:
        assert session.get(Party, "metrics").retired_run_id is None


def test_dangling_reference_writes_nothing(loaded_catalog):
    before = table_counts(loaded_catalog)
    data = small_spec_data()
    data["flows"][0]["to"] = "bakup"
    with pytest.raises(ReferenceErrors) as problem, loaded_catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    assert problem.value.problems[0].suggestion == "backup"
    assert table_counts(loaded_catalog) == before


def test_partial_spec_from_the_form_may_reference_existing_entries(loaded_catalog):
    system = SystemSpec.model_validate({"id": "wiki", "name": "Wiki", "hosted_in": ["lon"]})
    with loaded_catalog.session() as session:
        result = apply_spec(session, CatalogSpec(systems=[system]), source="dashboard", complete=False)
    assert result.added == 1 and result.retired == 0
    with loaded_catalog.session() as session:
        assert session.get(System, "wiki").source == "dashboard"
        assert session.get(System, "crm").retired_run_id is None


def test_sub_processor_listed_before_its_processor_is_written(catalog):
    data = small_spec_data()
    data["parties"].reverse()
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    with catalog.session() as session:
        assert session.get(Party, "helpdesk-in").parent_id == "cloudco"


def test_retiring_a_system_retires_its_datasets_and_fields(loaded_catalog):
    data = small_spec_data()
    data["systems"] = [s for s in data["systems"] if s["id"] != "backup"]
    data["flows"] = [f for f in data["flows"] if f["to"] != "backup"]
    data["activities"][0]["systems"] = ["crm"]
    with loaded_catalog.session() as session:
        result = apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    # system, its dataset, its field, and the flow into it
    assert result.retired == 4
    with loaded_catalog.session() as session:
        blob = session.exec(select(DataField).where(DataField.name == "blob")).one()
        assert blob.retired_run_id == result.run.id


def test_activity_link_change_counts_as_one_update(loaded_catalog):
    data = small_spec_data()
    data["activities"][0]["recipients"] = []
    with loaded_catalog.session() as session:
        result = apply_spec(session, CatalogSpec.model_validate(data), source="manifest")
    assert (result.added, result.updated, result.retired) == (0, 1, 0)


def test_partial_run_retires_fields_of_a_dropped_dataset(loaded_catalog):
    discovered = {"systems": [{"id": "crm", "name": "CRM", "datasets": [{"name": "orders", "fields": [{"name": "customer_email"}]}]}]}
    with loaded_catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(discovered), source="database:crm", complete=False)
    discovered["systems"][0]["datasets"] = []
    with loaded_catalog.session() as session:
        result = apply_spec(session, CatalogSpec.model_validate(discovered), source="database:crm", complete=False)
    with loaded_catalog.session() as session:
        item = session.exec(select(DataField).where(DataField.name == "customer_email")).one()
    assert item.retired_run_id == result.run.id
