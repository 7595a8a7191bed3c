"""Precedence between sources, conflicts, the append-only history, and field-level lineage."""

from sqlmodel import select

from catalog.apply import apply_spec
from catalog.graph import CatalogGraph, NodeKind
from catalog.models import ChangeEvent, Conflict, DataField, FieldLineage, Flow, System
from catalog.specs import CatalogSpec
from tests.factories import small_spec_data


def _apply(catalog, data, source="manifest", **kwargs):
    with catalog.session() as session:
        return apply_spec(session, CatalogSpec.model_validate(data), source=source, **kwargs)


def _discovered_crm(categories=("user.contact.email",), owner_team=None) -> dict:
    system = {"id": "crm", "name": "crm", "datasets": [{"name": "contacts", "fields": [{"name": "email", "categories": list(categories)}, {"name": "phone", "categories": ["user.contact.phone_number"]}]}]}
    if owner_team:
        system["owner_team"] = owner_team
    return {"systems": [system]}


def test_automatic_source_never_overwrites_a_manual_value(loaded_catalog):
    result = _apply(loaded_catalog, _discovered_crm(categories=["user.contact.work.email"]), source="database", complete=True)
    assert result.conflicts >= 2  # system name, email categories
    with loaded_catalog.session() as session:
        assert session.get(System, "crm").name == "CRM"
        email = session.exec(select(DataField).where(DataField.name == "email")).one()
        assert email.data_categories == ["user.contact.email"] and email.source == "manifest"
        phone = session.exec(select(DataField).where(DataField.name == "phone")).one()
        assert phone.source == "database"  # a new fact from discovery is added under its source
        conflicts = session.exec(select(Conflict).where(Conflict.status == "open")).all()
        by_field = {(c.entity, c.field): c for c in conflicts}
        assert by_field[("data_field", "data_categories")].kept_value == ["user.contact.email"]
        assert by_field[("data_field", "data_categories")].reported_value == ["user.contact.work.email"]
        assert by_field[("system", "name")].kept_source == "manifest"


def test_automatic_source_asserts_only_what_it_sets(loaded_catalog):
    _apply(loaded_catalog, _discovered_crm(), source="database")
    with loaded_catalog.session() as session:
        crm = session.get(System, "crm")
        assert crm.owner_team == "Sales"  # not reset to the default by a source that does not know it


def test_conflicts_are_refreshed_not_duplicated_and_reruns_change_nothing(loaded_catalog):
    _apply(loaded_catalog, _discovered_crm(categories=["user.contact.work.email"]), source="database")
    second = _apply(loaded_catalog, _discovered_crm(categories=["user.contact.work.email"]), source="database")
    assert (second.added, second.updated, second.retired) == (0, 0, 0)
    with loaded_catalog.session() as session:
        assert len(session.exec(select(Conflict).where(Conflict.field == "data_categories")).all()) == 1


def test_a_source_retires_only_what_it_owns(loaded_catalog):
    _apply(loaded_catalog, _discovered_crm(), source="database")
    result = _apply(loaded_catalog, {"systems": []}, source="database")
    assert result.retired == 1  # the phone field database added; the manifest's entries stay
    with loaded_catalog.session() as session:
        assert session.get(System, "crm").retired_run_id is None


def test_manual_source_takes_over_a_discovered_value(loaded_catalog):
    _apply(loaded_catalog, _discovered_crm(), source="database")
    data = small_spec_data()
    data["systems"][0]["datasets"][0]["fields"].append({"name": "phone", "categories": ["user.contact.phone_number"]})
    _apply(loaded_catalog, data)
    with loaded_catalog.session() as session:
        assert session.exec(select(DataField).where(DataField.name == "phone")).one().source == "manifest"


def test_history_records_documents_before_and_after(loaded_catalog):
    data = small_spec_data()
    data["systems"][0]["owner_team"] = "Revenue"
    data["parties"] = [p for p in data["parties"] if p["id"] != "metrics"]
    data["flows"] = [f for f in data["flows"] if f["to"] != "metrics"]
    _apply(loaded_catalog, data, actor="alice")
    with loaded_catalog.session() as session:
        events = session.exec(select(ChangeEvent).order_by(ChangeEvent.id)).all()
    first_run = [e for e in events if e.run_id == events[0].run_id]
    assert {e.action for e in first_run} == {"added"}
    assert len(first_run) == 1 + 2 + 4 + 3 + 2 + 4  # organisation, locations, parties, systems, activities, flows
    latest = {(e.entry_kind, e.entry_id): e for e in events if e.run_id != events[0].run_id}
    crm = latest[("system", "crm")]
    assert crm.action == "updated" and crm.actor == "alice"
    assert crm.before["owner_team"] == "Sales" and crm.after["owner_team"] == "Revenue"
    assert latest[("party", "metrics")].action == "retired" and latest[("party", "metrics")].after is None
    assert latest[("flow", "crm-metrics")].action == "retired"
    assert set(latest) == {("system", "crm"), ("party", "metrics"), ("flow", "crm-metrics")}


def test_rerun_appends_no_history(loaded_catalog):
    with loaded_catalog.session() as session:
        before = len(session.exec(select(ChangeEvent)).all())
    _apply(loaded_catalog, small_spec_data())
    with loaded_catalog.session() as session:
        assert len(session.exec(select(ChangeEvent)).all()) == before


def test_field_lineage_and_dataset_level_flows(catalog):
    data = small_spec_data()
    data["flows"][0].update({"from_dataset": "contacts", "to_dataset": "snapshots"})
    data["field_lineage"] = [{"from": {"system": "crm", "dataset": "contacts", "field": "email"},
                              "to": {"system": "backup", "dataset": "snapshots", "field": "blob"},
                              "transformation": "DIRECT/IDENTITY"}]
    _apply(catalog, data)
    with catalog.session() as session:
        flow = session.get(Flow, "crm-backup")
        assert flow.source_dataset_id is not None and flow.target_dataset_id is not None
        lineage = session.exec(select(FieldLineage)).one()
        assert lineage.transformation == "DIRECT/IDENTITY"
        graph = CatalogGraph.load(session)
    email = next(k for k in graph.nodes_of(NodeKind.FIELD) if graph.node(k)["path"] == "crm.contacts.email")
    assert {graph.node(k)["path"] for k in graph.descendants(email)} == {"backup.snapshots.blob"}
    # the same lineage again changes nothing; dropping it retires it
    assert _apply(catalog, data).changed == 0
    del data["field_lineage"]
    assert _apply(catalog, data).retired == 1


def test_dataset_reference_typos_are_caught(catalog):
    data = small_spec_data()
    data["flows"][0]["from_dataset"] = "contcts"
    from catalog.specs import check_references

    problems = check_references(CatalogSpec.model_validate(data))
    assert problems[0].suggestion == "contacts"


def test_last_seen_run_is_recorded_for_top_level_entries(loaded_catalog):
    result = _apply(loaded_catalog, _discovered_crm(), source="database", complete=False)
    with loaded_catalog.session() as session:
        crm, backup = session.get(System, "crm"), session.get(System, "backup")
    assert crm.last_seen_run_id == result.run.id and crm.run_id != result.run.id  # seen, not changed
    assert backup.last_seen_run_id != result.run.id


def test_privacy_notice_declaration_is_stored_with_the_organisation(catalog):
    data = small_spec_data()
    data["organisation"]["privacy_notice"] = {"purposes": ["essential.service"], "categories": ["user.contact"], "recipient_roles": ["processor"], "transfers_worldwide": True}
    _apply(catalog, data)
    from catalog.models import Organisation

    with catalog.session() as session:
        notice = session.get(Organisation, "acme").privacy_notice
    assert notice["data_categories"] == ["user.contact"] and notice["recipient_roles"] == ["processor"]


def test_complete_run_may_reference_entries_other_sources_own(loaded_catalog):
    # a sub-processor list names its processor, which the manifest owns
    data = {"parties": [{"id": "cloudco-mailer", "name": "Mailer", "role": "sub_processor", "country": "US", "parent": "cloudco"}]}
    result = _apply(loaded_catalog, data, source="subprocessors:cloudco")
    assert result.added == 1


def test_complete_run_cannot_reference_its_own_entries_it_retires(loaded_catalog):
    import pytest

    from catalog.apply import ReferenceErrors

    data = small_spec_data()
    data["parties"] = [p for p in data["parties"] if p["id"] != "metrics"]  # retired by this run, yet still named by a flow
    with pytest.raises(ReferenceErrors, match="metrics"):
        _apply(loaded_catalog, data)
