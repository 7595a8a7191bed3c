"""Lineage queries: closure, paths, categories, border crossings, pseudonymisation, cycles."""

import json

import pytest
from sqlmodel import select

from catalog.apply import apply_spec
from catalog.graph import CatalogGraph, NodeKind
from catalog.lineage import Direction, UnknownNodeError, lineage, resolve_node
from catalog.models import DataField, Dataset, FieldLineage
from catalog.specs import CatalogSpec
from tests.factories import small_spec_data


def _load(catalog, data, lineage_edges=()):
    """Apply a spec, add field lineage edges given as (source path, target path, masking), load the graph."""
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests")
        fields = {}
        for item, dataset in session.exec(select(DataField, Dataset).where(DataField.dataset_id == Dataset.id)).all():
            fields[f"{dataset.system_id}.{dataset.name}.{item.name}"] = item.id
        for source, target, masking in lineage_edges:
            session.add(FieldLineage(source_field_id=fields[source], target_field_id=fields[target], masking=masking, transformation="DIRECT/IDENTITY"))
    with catalog.session() as session:
        return CatalogGraph.load(session)


def _with_warehouse(data):
    data["systems"].append({
        "id": "warehouse", "name": "Warehouse", "owner_team": "Data", "hosted_in": ["lon"],
        "datasets": [{"name": "dim_customer", "fields": [{"name": "email_hash", "categories": ["user.contact.email"], "pseudonymised": True}]}],
    })
    return data


def test_system_downstream_with_depth_paths_categories_and_borders(catalog):
    graph = _load(catalog, small_spec_data())
    result = lineage(graph, "crm", depth=1)
    assert result.start == "system:crm"
    assert result.keys() == {"system:backup", "party:cloudco", "party:metrics", "party:helpdesk-in"}
    backup = result.node("system:backup")
    assert backup.path == ("system:crm", "system:backup")
    assert backup.categories == ("user.contact.email", "user.name")
    assert [(s.source_countries, s.target_countries) for s in backup.border_crossings] == [(("GB",), ("IE",))]
    helpdesk = result.node("party:helpdesk-in")
    assert helpdesk.steps[0].via == ("crm-helpdesk",) and helpdesk.border_crossings


def test_depth_zero_reaches_nothing_and_negative_depth_is_refused(catalog):
    graph = _load(catalog, small_spec_data())
    assert lineage(graph, "system:crm", depth=0).nodes == ()
    with pytest.raises(ValueError):
        lineage(graph, "crm", depth=-1)


def test_cycle_terminates_and_both_directions_are_reported(catalog):
    data = small_spec_data()
    data["flows"].append({"id": "backup-restore", "from": "backup", "to": "crm", "categories": ["user.name"], "mechanism": "backup"})
    graph = _load(catalog, data)
    downstream = lineage(graph, "backup")
    assert "system:crm" in downstream.keys() and "party:cloudco" in downstream.keys()
    assert "system:backup" not in downstream.keys()
    assert downstream.node("party:cloudco").path == ("system:backup", "system:crm", "party:cloudco")
    both = lineage(graph, "crm", direction="both")
    assert "system:backup" in both.keys(Direction.DOWNSTREAM) and "system:backup" in both.keys(Direction.UPSTREAM)
    upstream = both.node("system:backup", Direction.UPSTREAM)
    assert upstream.path == ("system:backup", "system:crm") and upstream.categories == ("user.name",)


def test_upstream_of_a_party(catalog):
    graph = _load(catalog, small_spec_data())
    result = lineage(graph, "party:cloudco", direction=Direction.UPSTREAM)
    assert result.keys() == {"system:crm"}


def test_field_lineage_pseudonymisation_and_system_view_collapses_it(catalog):
    data = _with_warehouse(small_spec_data())
    graph = _load(catalog, data, [
        ("crm.contacts.email", "warehouse.dim_customer.email_hash", False),
        ("crm.contacts.full_name", "backup.snapshots.blob", True),
    ])
    field = lineage(graph, "crm.contacts.email")
    assert field.start_label == "crm.contacts.email"
    hashed = field.node(resolve_node(graph, "warehouse.dim_customer.email_hash"))
    assert hashed.pseudonymised_at and hashed.categories == ("user.contact.email",)
    # no flow from crm to the warehouse is catalogued, yet the system view shows the copy
    system = lineage(graph, "crm")
    warehouse = system.node("system:warehouse")
    assert warehouse.steps[0].via == ("field lineage",) and warehouse.pseudonymised_at
    # dataset queries follow lineage lifted to datasets
    dataset = lineage(graph, "crm.contacts")
    assert {row["node"] for row in dataset.as_table_rows()} == {"backup.snapshots", "warehouse.dim_customer"}
    assert dataset.node(resolve_node(graph, "backup.snapshots")).pseudonymised_at


def test_field_lineage_cycle_terminates(catalog):
    graph = _load(catalog, small_spec_data(), [
        ("crm.contacts.email", "backup.snapshots.blob", False),
        ("backup.snapshots.blob", "crm.contacts.email", False),
    ])
    result = lineage(graph, "crm.contacts.email", direction="both")
    assert {n.label for n in result.nodes if n.kind == NodeKind.FIELD} == {"backup.snapshots.blob"}


def test_a_field_goes_on_through_the_flows_that_carry_its_categories(catalog):
    """Most flows are catalogued between systems: a field's answer follows those that carry its
    data from the system holding it, and not the flows that carry other categories."""
    graph = _load(catalog, small_spec_data())
    email = lineage(graph, "crm.contacts.email")
    assert email.keys() == {"system:crm", "system:backup", "party:cloudco", "party:metrics"}  # crm-helpdesk carries names only
    cloudco = email.node("party:cloudco")
    assert [step.via for step in cloudco.steps] == [("held in",), ("crm-cloudco",)]
    assert cloudco.path == (resolve_node(graph, "crm.contacts.email"), "system:crm", "party:cloudco")
    name = lineage(graph, "crm.contacts.full_name")
    assert name.keys() == {"system:crm", "system:backup", "party:helpdesk-in"}
    assert lineage(graph, "crm.contacts.sort_code").keys() == {"system:crm"}  # no flow carries bank details
    upstream = lineage(graph, "backup.snapshots.blob", direction=Direction.UPSTREAM)
    assert upstream.keys() == {"system:backup", "system:crm"}
    assert lineage(graph, "crm.contacts.email", depth=1).keys() == {"system:crm"}


def test_unknown_and_ambiguous_names(catalog):
    graph = _load(catalog, small_spec_data())
    with pytest.raises(UnknownNodeError) as problem:
        lineage(graph, "crn")
    assert problem.value.suggestion == "crm" and "did you mean 'crm'" in str(problem.value)
    with pytest.raises(UnknownNodeError) as problem:
        resolve_node(graph, "crm.contacts.emial")
    assert problem.value.suggestion == "crm.contacts.email"
    assert resolve_node(graph, "party:metrics") == "party:metrics"


def test_outputs(catalog):
    graph = _load(catalog, small_spec_data())
    result = lineage(graph, "crm", depth=1)
    rows = result.as_table_rows()
    backup = next(row for row in rows if row["node"] == "Backup vault")
    assert backup["path"] == "CRM -> Backup vault" and "(GB) -> Backup vault (IE)" in backup["border_crossings"]
    data = json.loads(result.as_json())
    assert data["start"] == "system:crm" and len(data["nodes"]) == 4
    dot = result.as_dot()
    assert dot.startswith("digraph lineage {")
    assert '"system:crm" -> "system:backup" [label="user.contact.email, user.name", color=red];' in dot
