"""The registration form: validated like a manifest, written as the dashboard source, shown as YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from catalog.apply import apply_spec
from catalog.flowmap import build_flow_map
from catalog.graph import CatalogGraph, NodeKind, node_key
from catalog.jurisdictions import Regime
from catalog.models import ChangeEvent, IngestRun, System
from catalog.snapshot import entry_documents
from catalog.specs import CatalogSpec
from catalog.store import DATABASE_URL_ENV, init_catalog
from catalog.transfers import derive_transfers
from dashboards import auth
from dashboards.actions import manifest_yaml, register_system, registration_document, validate_registration
from dashboards.auth import PermissionDenied, Role, User
from dashboards.views.register import build_spec_data, fields_frame, flows_frame
from tests.factories import small_spec

APP = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
TIMEOUT = 60
NEW = "__new__"

DPO = User("Dee", "dee@acme.example", Role.DPO)
SALES_ENGINEER = User("Sam", "sam@acme.example", Role.ENGINEER, teams=("Sales",))
OTHER_ENGINEER = User("Oli", "oli@acme.example", Role.ENGINEER, teams=("Platform",))


pytestmark = pytest.mark.usefixtures("no_identity_env")


@pytest.fixture
def catalog(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    opened = init_catalog(url)
    with opened.session() as session:
        apply_spec(session, small_spec(), source="manifest", target="tests")
    yield opened
    opened.dispose()


def count(catalog, model) -> int:
    with catalog.session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def open_register(monkeypatch, **env) -> AppTest:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not app.exception, [e.value for e in app.exception]
    app.switch_page("views/register.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def fill_new_system(app: AppTest, *, system_id="payroll", name="Payroll", fields=None, flows=None) -> AppTest:
    app.text_input(key=f"reg_id_{NEW}").input(system_id)
    app.text_input(key=f"reg_name_{NEW}").input(name)
    app.multiselect(key=f"reg_hosted_{NEW}").select("dub")
    fields = fields if fields is not None else [
        {"dataset": "staff", "field": "email", "categories": ["user.contact.email"], "data_type": "text"},
        {"dataset": "staff", "field": "salary", "categories": ["user.financial"], "data_type": "numeric"},
    ]
    flows = flows if flows is not None else [
        {"id": "payroll-metrics", "to": "metrics", "categories": ["user.financial"], "mechanism": "batch_export", "activity": "client-management"},
        {"id": "payroll-crm", "to": "crm", "categories": ["user.contact.email"], "mechanism": "api"},
    ]
    app.session_state[f"reg_fields_{NEW}"] = {"edited_rows": {}, "added_rows": fields, "deleted_rows": []}
    app.session_state[f"reg_flows_{NEW}"] = {"edited_rows": {}, "added_rows": flows, "deleted_rows": []}
    return app


def test_registration_creates_a_system_in_the_graph_and_the_flow_map(catalog, monkeypatch):
    app = fill_new_system(open_register(monkeypatch))
    app.button(key="reg_submit").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert any("Registered system payroll" in s.value for s in app.success)

    with catalog.session() as session:
        graph = CatalogGraph.load(session)
        system = session.get(System, "payroll")
        assert (system.source, system.owner_email) == ("dashboard", "local@localhost")
        run = session.get(IngestRun, system.run_id)
        assert (run.source, run.actor) == ("dashboard", "local@localhost")
        event = session.exec(select(ChangeEvent).where(ChangeEvent.entry_id == "payroll")).one()
        assert (event.action, event.source, event.actor) == ("added", "dashboard", "local@localhost")
    key = node_key(NodeKind.SYSTEM, "payroll")
    assert graph.node(key)["locations"] == ("dub",)
    field_paths = {graph.node(f)["path"] for f in graph.nodes_of(NodeKind.FIELD)}
    assert {"payroll.staff.email", "payroll.staff.salary"} <= field_paths
    flows = {flow.flow_id: flow for flow in graph.flows() if flow.source == key}
    assert set(flows) == {"payroll-metrics", "payroll-crm"}
    assert flows["payroll-metrics"].data["activity_id"] == "client-management"
    dot = build_flow_map(graph, derive_transfers(graph)).source
    assert "Payroll" in dot

    shown = app.code[0].value
    assert CatalogSpec.model_validate(yaml.safe_load(shown))  # the YAML re-validates as a manifest
    document = yaml.safe_load(shown)
    assert list(document) == ["systems", "flows"]
    assert document["systems"][0]["datasets"][0]["fields"][1]["categories"] == ["user.financial"]
    assert document["flows"][0]["from"] == "payroll"
    assert app.get("download_button")


def test_validation_errors_show_the_field_path_and_suggestion_and_write_nothing(catalog, monkeypatch):
    runs, events = count(catalog, IngestRun), count(catalog, ChangeEvent)
    app = fill_new_system(
        open_register(monkeypatch),
        fields=[{"dataset": "staff", "field": "email", "categories": ["user.contact.emial"], "data_type": "text"}],
        flows=[],
    )
    app.button(key="reg_submit").click().run()
    assert not app.exception
    assert len(app.error) == 1 and "nothing was saved" in app.error[0].value
    problems = app.dataframe[-1].value
    row = problems.iloc[0]
    assert row["Field path"] == "systems[0].datasets[0].fields[0].categories[0]"
    assert row["Did you mean"] == "user.contact.email"
    assert not app.code and not app.success
    assert (count(catalog, IngestRun), count(catalog, ChangeEvent)) == (runs, events)
    with catalog.session() as session:
        assert session.get(System, "payroll") is None


def test_reference_problems_name_existing_ids(catalog, monkeypatch):
    app = fill_new_system(open_register(monkeypatch), flows=[{"id": "payroll-x", "to": "metrix", "categories": [], "mechanism": "api"}])
    app.button(key="reg_submit").click().run()
    problems = app.dataframe[-1].value
    assert list(problems["Field path"]) == ["flows[0].to"]
    assert problems.iloc[0]["Did you mean"] == "metrics"
    with catalog.session() as session:
        assert session.get(System, "payroll") is None


def test_a_new_system_may_not_take_the_id_of_an_existing_one(catalog, monkeypatch):
    """Choosing "A new system" and typing an id in use must not replace that system's datasets and flows."""
    with catalog.session() as session:
        before = entry_documents(session, [("system", "crm")])
    runs = count(catalog, IngestRun)
    app = fill_new_system(open_register(monkeypatch), system_id="crm", name="Duplicate CRM", flows=[])
    app.button(key="reg_submit").click().run()
    assert not app.exception and not app.success
    problems = app.dataframe[-1].value
    assert list(problems["Field path"]) == ["systems[0].id"]
    assert "already exists (CRM)" in problems.iloc[0]["Problem"] and problems.iloc[0]["Did you mean"] == "crm-2"
    assert count(catalog, IngestRun) == runs
    with catalog.session() as session:
        assert entry_documents(session, [("system", "crm")]) == before
    result = register_system(DPO, registration_document(catalog, "crm"), catalog=catalog)  # editing it is still allowed
    assert result.ok and not result.created


def test_blank_names_bad_emails_and_ids_are_explained(catalog, monkeypatch):
    app = fill_new_system(open_register(monkeypatch), system_id="Pay Roll!", name="", flows=[],
                          fields=[{"dataset": "", "field": "home_email", "categories": [], "data_type": "text"}])
    app.text_input(key=f"reg_email_{NEW}").input("not-an-email")
    app.button(key="reg_submit").click().run()
    problems = {row["Field path"]: (row["Problem"], row["Did you mean"]) for row in app.dataframe[-1].value.to_dict("records")}
    assert problems["systems[0].id"] == ("'Pay Roll!' is not of the form this key takes: Lower-case id: letters, digits, '-' and '_'; referenced from other entries.", "pay-roll")
    assert problems["systems[0].name"][0] == "'name' must not be blank"
    assert problems["systems[0].owner_email"][0] == "'not-an-email' is not an email address (the form is name@example.com)"
    assert problems["systems[0].datasets[0].name"][0] == "'name' must not be blank"  # a field row without its dataset is named, not dropped
    with catalog.session() as session:
        assert session.get(System, "pay-roll") is None and session.get(System, "Pay Roll!") is None


def test_validate_registration_matches_manifest_validation():
    spec, problems = validate_registration({"systems": [{"id": "Pay Roll", "name": "x", "rol": "controller"}], "flows": []})
    paths = {p.field_path: p for p in problems}
    assert spec is None and set(paths) == {"systems[0].id", "systems[0].rol"}
    assert paths["systems[0].rol"].suggestion == "role"
    spec, problems = validate_registration(
        {"systems": [{"id": "a", "name": "A", "hosted_in": ["lon"]}], "flows": [{"id": "b-c", "from": "b", "to": "a"}]},
        existing={"locations": {"lon"}, "systems": {"b"}},
    )
    assert [p.field_path for p in problems] == ["flows[0].from"]  # a flow registered here leaves this system


def test_engineer_cannot_edit_a_system_owned_by_someone_else(catalog, monkeypatch):
    app = open_register(monkeypatch, **{auth.LOCAL_ROLE_ENV: "engineer", auth.LOCAL_EMAIL_ENV: "oli@acme.example", auth.LOCAL_TEAMS_ENV: "Platform"})
    assert app.selectbox(key="reg_target").options == ["A new system"]  # crm is Sales's
    runs = count(catalog, IngestRun)
    document = registration_document(catalog, "crm")
    document["systems"][0]["name"] = "Taken over"
    with pytest.raises(PermissionDenied, match="owned by sales@acme.example"):
        register_system(OTHER_ENGINEER, document, catalog=catalog)
    with pytest.raises(PermissionDenied, match="own email or team"):  # nor register one for another owner
        register_system(OTHER_ENGINEER, {"systems": [{"id": "new", "name": "New", "owner_email": "x@acme.example"}], "flows": []}, catalog=catalog)
    with pytest.raises(PermissionDenied, match="already leaves system 'crm'"):  # nor overwrite another system's flow
        register_system(OTHER_ENGINEER, {"systems": [{"id": "new", "name": "New", "owner_email": OTHER_ENGINEER.email}],
                                         "flows": [{"id": "crm-metrics", "from": "new", "to": "metrics"}]}, catalog=catalog)
    assert count(catalog, IngestRun) == runs
    with catalog.session() as session:
        assert session.get(System, "crm").name == "CRM"


def test_owning_engineer_edits_their_system_keeping_what_the_form_does_not_show(catalog, monkeypatch):
    app = open_register(monkeypatch, **{auth.LOCAL_ROLE_ENV: "engineer", auth.LOCAL_EMAIL_ENV: "sam@acme.example", auth.LOCAL_TEAMS_ENV: "Sales"})
    app.selectbox(key="reg_target").set_value("crm").run()
    assert not app.exception
    assert app.text_input(key="reg_name_crm").value == "CRM"
    assert list(app.data_editor(key="reg_fields_crm").value["field"]) == ["email", "full_name", "sort_code"]
    app.text_input(key="reg_name_crm").input("CRM 2")
    app.button(key="reg_submit").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert any("Saved system crm" in s.value for s in app.success)
    with catalog.session() as session:
        document = entry_documents(session, [("system", "crm")])[("system", "crm")]
        assert document["name"] == "CRM 2"
        assert document["datasets"][0]["data_subjects"] == ["customer"]  # not on the form, kept
        assert document["hosted_in"] == ["lon"]
        event = session.exec(select(ChangeEvent).order_by(ChangeEvent.id.desc())).first()
        assert (event.entry_id, event.action, event.actor) == ("crm", "updated", "sam@acme.example")
        assert session.get(IngestRun, event.run_id).source == "dashboard"


def test_the_dpo_closes_a_transfer_gap_from_the_form(catalog, monkeypatch):
    """A flow's transfer mechanism and TIA are columns of the form: recording the EU SCCs on the
    flow to the US processor (whose IDTA covers UK GDPR only) closes its EU GDPR gap."""
    def metrics_transfer():
        with catalog.session() as session:
            return next(t for t in derive_transfers(CatalogGraph.load(session)) if t.flow_id == "crm-metrics")

    assert metrics_transfer().gap_under == (Regime.EU_GDPR,)
    app = open_register(monkeypatch, **{auth.LOCAL_ROLE_ENV: "dpo"})
    app.selectbox(key="reg_target").set_value("crm").run()
    flows = app.data_editor(key="reg_flows_crm").value
    row = list(flows["id"]).index("crm-metrics")
    assert flows.loc[row, "transfer_mechanism"] == "" and "transfer_assessment_ref" in flows.columns
    app.session_state["reg_flows_crm"] = {"edited_rows": {row: {"transfer_mechanism": "eu_scc_module_2", "transfer_assessment_ref": "TIA-7"}},
                                          "added_rows": [], "deleted_rows": []}
    app.button(key="reg_submit").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    transfer = metrics_transfer()
    assert not transfer.has_gap and transfer.on_record == ("eu_scc_module_2", "uk_idta") and transfer.assessment_ref == "TIA-7"
    assert "transfer_mechanism: eu_scc_module_2" in app.code[0].value  # and the manifest to commit says so


def test_build_spec_data_round_trips_the_current_document(catalog):
    document = registration_document(catalog, "crm")
    system = document["systems"][0]
    values = {key: system[key] for key in ("id", "name", "description", "owner_team", "owner_email", "role", "status", "hosted_in")}
    rebuilt = build_spec_data(document, values, fields_frame(document), flows_frame(document))
    assert CatalogSpec.model_validate(rebuilt) == CatalogSpec.model_validate(document)
    assert manifest_yaml(CatalogSpec.model_validate(rebuilt))


def test_dpo_may_register_for_any_owner(catalog):
    result = register_system(DPO, {"systems": [{"id": "hr", "name": "HR", "owner_team": "People"}], "flows": []}, catalog=catalog)
    assert result.ok and result.created
    with catalog.session() as session:
        assert session.get(System, "hr").owner_team == "People"
    result = register_system(SALES_ENGINEER, {"systems": [{"id": "leads", "name": "Leads", "owner_team": "sales"}], "flows": []}, catalog=catalog)
    assert result.ok  # their team, ignoring case


def test_editing_retires_what_was_removed_from_the_form(catalog):
    document = registration_document(catalog, "crm")
    system = document["systems"][0]
    system["datasets"][0]["fields"] = [f for f in system["datasets"][0]["fields"] if f["name"] != "sort_code"]
    document["flows"] = [f for f in document["flows"] if f["id"] != "crm-metrics"]
    result = register_system(DPO, document, catalog=catalog)
    assert result.ok and "retired flow crm-metrics" in result.changes
    with catalog.session() as session:
        assert "crm-metrics" not in {flow.flow_id for flow in CatalogGraph.load(session).flows()}
        current = entry_documents(session, [("system", "crm")])[("system", "crm")]
        assert [f["name"] for f in current["datasets"][0]["fields"]] == ["email", "full_name"]
        events = session.exec(select(ChangeEvent).where(ChangeEvent.run_id == result.run_id).order_by(ChangeEvent.id)).all()
        assert {(e.entry_kind, e.entry_id, e.action) for e in events} == {("system", "crm", "updated"), ("flow", "crm-metrics", "retired")}
        assert next(e for e in events if e.entry_id == "crm").after == current  # the history ends with the final document
        assert session.get(IngestRun, result.run_id).retired >= 2


def test_a_page_that_offers_another_owners_system_still_cannot_save_it(catalog, monkeypatch):
    """Were the page to offer a system the engineer does not own (a bug, a crafted request), the
    write itself refuses: the permission is checked in the action, not by what the page shows."""
    import dashboards.actions
    from dashboards.actions import editable_systems

    # the page script imports it from dashboards.actions on every run
    monkeypatch.setattr(dashboards.actions, "editable_systems", lambda user, catalog: editable_systems(DPO, catalog))
    app = open_register(monkeypatch, **{auth.LOCAL_ROLE_ENV: "engineer", auth.LOCAL_EMAIL_ENV: "oli@acme.example"})
    app.selectbox(key="reg_target").set_value("crm").run()
    runs = count(catalog, IngestRun)
    app.text_input(key="reg_name_crm").input("Taken over")
    app.button(key="reg_submit").click().run()
    assert not app.exception
    assert len(app.error) == 1 and "Not saved" in app.error[0].value
    assert any("owned by sales@acme.example" in t.value for t in app.text)
    assert not app.success and not app.code
    assert count(catalog, IngestRun) == runs
    with catalog.session() as session:
        assert session.get(System, "crm").name == "CRM"
