"""Roles and identity (dashboards/auth.py), and the review page for each role.

Identity methods: the local demo user, a trusted header from a reverse proxy, Streamlit's OIDC
login. Every write is refused server-side for a role that may not make it, whatever the page shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from catalog.apply import apply_spec, utc_now
from catalog.models import CategorySuggestion, ChangeEvent, Conflict, DataField, Dataset, IngestRun, System
from catalog.specs import CatalogSpec
from catalog.store import DATABASE_URL_ENV, init_catalog, open_catalog
from catalog.suggestions import SuggestionInput, record_suggestions
from dashboards import auth
from dashboards.actions import decide_suggestion, register_system, resolve_conflict
from dashboards.auth import IdentityError, IdentityMethod, Permission, PermissionDenied, Role, User
from tests.factories import small_spec

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboards" / "app.py"
VIEWS = ROOT / "dashboards" / "views"
TIMEOUT = 60

DPO = User("Dee", "dee@acme.example", Role.DPO)
AUDITOR = User("Aud", "aud@acme.example", Role.AUDITOR)
SALES_ENGINEER = User("Sam", "sam@acme.example", Role.ENGINEER, teams=("Sales",))
OTHER_ENGINEER = User("Oli", "oli@acme.example", Role.ENGINEER, teams=("Platform",))


pytestmark = pytest.mark.usefixtures("no_identity_env")


@pytest.fixture
def catalogue_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    catalog = init_catalog(url)
    with catalog.session() as session:
        apply_spec(session, small_spec(), source="manifest", target="tests")
    catalog.dispose()
    return url


@pytest.fixture
def catalog(catalogue_url):
    opened = open_catalog(catalogue_url)
    yield opened
    opened.dispose()


def _field_id(session, system: str, dataset: str, name: str) -> int:
    return session.exec(
        select(DataField.id).join(Dataset, DataField.dataset_id == Dataset.id)
        .where(Dataset.system_id == system, Dataset.name == dataset, DataField.name == name)
    ).one()


@pytest.fixture
def review_items(catalog) -> dict[str, int]:
    """One open suggestion on crm (owned by Sales), and one open conflict on crm's name."""
    with catalog.session() as session:
        run = IngestRun(source="database", started_at=utc_now())
        session.add(run)
        session.flush()
        field_id = _field_id(session, "crm", "contacts", "full_name")
        record_suggestions(session, run_id=run.id, source="database", field_id=field_id,
                           suggestions=[SuggestionInput("user.name.first", 0.91, "column-name:name", {"tokens": ["name"]}),
                                        SuggestionInput("user.name", 0.5, "column-name:name", {"tokens": ["name"]})])
        suggestion_id = session.exec(select(CategorySuggestion.id).where(CategorySuggestion.category == "user.name.first")).one()
    with catalog.session() as session:  # an automatic source disagrees with the manifest's name
        apply_spec(session, CatalogSpec.model_validate({"systems": [{"id": "crm", "name": "CRM (live)"}]}), source="database", complete=False)
        conflict_id = session.exec(select(Conflict.id)).one()
    return {"suggestion": suggestion_id, "conflict": conflict_id}


def run_app(user_env: dict[str, str] | None = None, monkeypatch=None, **kwargs) -> AppTest:
    if user_env:
        for name, value in user_env.items():
            monkeypatch.setenv(name, value)
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for name, value in kwargs.items():
        setattr(app, name, value)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def sidebar_text(app: AppTest) -> list[str]:
    return [element.value for element in app.sidebar.text]


def count(catalog, model) -> int:
    with catalog.session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


# --- identity, without Streamlit -----------------------------------------------------------------

def test_permissions_per_role():
    assert AUDITOR.can(Permission.VIEW) and AUDITOR.can(Permission.DOWNLOAD)
    assert not any(AUDITOR.can(p) for p in Permission if p not in (Permission.VIEW, Permission.DOWNLOAD))
    assert SALES_ENGINEER.can(Permission.REGISTER_SYSTEM) and SALES_ENGINEER.can(Permission.EDIT_OWN_SYSTEM)
    assert not SALES_ENGINEER.can(Permission.EDIT_ANY_SYSTEM) and not SALES_ENGINEER.can(Permission.RESOLVE_CONFLICTS)
    assert all(DPO.can(p) for p in Permission)
    assert SALES_ENGINEER.may_edit_system("someone@else", "sales")  # team, ignoring case
    assert SALES_ENGINEER.may_edit_system("SAM@acme.example", "")
    assert not SALES_ENGINEER.may_edit_system("sales@acme.example", "Marketing")
    assert not AUDITOR.may_edit_system(AUDITOR.email, "")
    with pytest.raises(PermissionDenied):
        auth.check(AUDITOR, Permission.REGISTER_SYSTEM)
    with pytest.raises(PermissionDenied):
        auth.check(None, Permission.VIEW)


def test_local_user_defaults_to_dpo_and_reads_the_role():
    user = auth.local_user({})
    assert (user.role, user.method) == (Role.DPO, IdentityMethod.LOCAL)
    user = auth.local_user({auth.LOCAL_ROLE_ENV: "Engineer", auth.LOCAL_EMAIL_ENV: "sam@acme.example", auth.LOCAL_TEAMS_ENV: "Sales, Ops"})
    assert (user.role, user.email, user.teams) == (Role.ENGINEER, "sam@acme.example", ("Sales", "Ops"))
    with pytest.raises(IdentityError, match="not a role"):
        auth.local_user({auth.LOCAL_ROLE_ENV: "admin"})


def test_role_map_email_then_groups_then_default(tmp_path):
    roles_file = tmp_path / "roles.yaml"
    roles_file.write_text(
        "default_role: auditor\n"
        "users:\n  Dee@Acme.example: dpo\n  sam@acme.example: {role: engineer, teams: [Sales]}\n"
        "groups:\n  privacy-office: dpo\n  eng-ops: {role: engineer, teams: [Ops]}\n"
    )
    roles = auth.load_role_map({auth.ROLES_FILE_ENV: str(roles_file)})
    assert roles.assign("dee@acme.example").role == Role.DPO
    assert roles.assign("sam@acme.example", groups=["privacy-office"]) == auth.Assignment(Role.ENGINEER, ("Sales",))  # the email decides alone
    assert roles.assign("x@acme.example", groups=["eng-ops"]) == auth.Assignment(Role.ENGINEER, ("Ops",))
    assert roles.assign("x@acme.example", groups=["eng-ops", "privacy-office"]).role == Role.DPO
    assert roles.assign("nobody@acme.example").role == Role.AUDITOR
    with pytest.raises(IdentityError, match="unknown role"):
        auth.parse_role_map({"users": {"a@b": "owner"}})
    with pytest.raises(IdentityError, match="unknown key"):
        auth.parse_role_map({"user": {}})
    with pytest.raises(IdentityError, match="cannot read"):
        auth.load_role_map({auth.ROLES_FILE_ENV: str(tmp_path / "missing.yaml")})


def test_trusted_header_user():
    env = {auth.USER_HEADER_ENV: "X-Forwarded-Email", auth.ROLE_HEADER_ENV: "X-Forwarded-Groups"}
    roles = auth.parse_role_map({"groups": {"eng-sales": {"role": "engineer", "teams": ["Sales"]}}})
    user = auth.header_user({"x-forwarded-email": "sam@acme.example", "x-forwarded-groups": "staff, eng-sales"}, env, roles)
    assert (user.email, user.role, user.teams, user.method) == ("sam@acme.example", Role.ENGINEER, ("Sales",), IdentityMethod.TRUSTED_HEADER)
    assert auth.header_user({"X-Forwarded-Email": "d@x", "X-Forwarded-Groups": "dpo"}, env, roles).role == Role.DPO
    assert auth.header_user({"X-Forwarded-Email": "u@x"}, env, roles).role == Role.AUDITOR
    with pytest.raises(IdentityError, match="no 'X-Forwarded-Email' header"):
        auth.header_user({}, env, roles)


def test_oidc_user_is_an_auditor_unless_mapped():
    roles = auth.parse_role_map({"users": {"dee@acme.example": "dpo"}, "groups": {"privacy": "dpo"}})
    assert auth.oidc_user({"email": "new@acme.example", "name": "New"}, roles).role == Role.AUDITOR
    dee = auth.oidc_user({"email": "dee@acme.example", "name": "Dee"}, roles)
    assert (dee.role, dee.name, dee.method) == (Role.DPO, "Dee", IdentityMethod.OIDC)
    assert auth.oidc_user({"email": "g@acme.example", "groups": ["privacy"]}, roles).role == Role.DPO


# --- identity in the running app -------------------------------------------------------------

def test_sidebar_states_the_local_demo_user_and_role(catalogue_url, monkeypatch):
    app = run_app({auth.LOCAL_ROLE_ENV: "auditor", auth.LOCAL_EMAIL_ENV: "aud@acme.example"}, monkeypatch)
    text = sidebar_text(app)
    assert "Role: Auditor (read and download)" in text
    assert "Identity: local demo user (no login)" in text
    assert any("aud@acme.example" in line for line in text)


def test_trusted_header_identity_in_the_app(catalogue_url, monkeypatch):
    monkeypatch.setattr(auth, "request_headers", lambda: {"X-Auth-Email": "sam@acme.example", "X-Auth-Role": "engineer"})
    app = run_app({auth.USER_HEADER_ENV: "X-Auth-Email", auth.ROLE_HEADER_ENV: "X-Auth-Role"}, monkeypatch)
    text = sidebar_text(app)
    assert "Identity: trusted header from the reverse proxy" in text
    assert "Role: Engineer (own systems)" in text
    assert app.metric  # the overview rendered


def test_missing_trusted_header_is_refused_not_local(catalogue_url, monkeypatch):
    monkeypatch.setattr(auth, "request_headers", dict)
    app = run_app({auth.USER_HEADER_ENV: "X-Auth-Email"}, monkeypatch)
    assert len(app.error) == 1 and "X-Auth-Email" in app.error[0].value
    assert not app.metric


def test_oidc_logged_out_sees_only_the_login_button(catalogue_url, monkeypatch):
    secrets = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                        "client_id": "ropa", "client_secret": "s", "server_metadata_url": "https://id.example/.well-known/openid-configuration"}}
    app = run_app(monkeypatch=monkeypatch, secrets=secrets, user={"is_logged_in": False})
    assert [button.label for button in app.button] == ["Log in"]
    assert not app.metric and not app.sidebar.text


def test_oidc_logged_in_user_gets_the_mapped_role(catalogue_url, monkeypatch, tmp_path):
    roles_file = tmp_path / "roles.yaml"
    roles_file.write_text("users:\n  dee@acme.example: dpo\n")
    secrets = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}}
    app = run_app({auth.ROLES_FILE_ENV: str(roles_file)}, monkeypatch, secrets=secrets,
                  user={"is_logged_in": True, "email": "dee@acme.example", "name": "Dee Pio"})
    text = sidebar_text(app)
    assert "Identity: OIDC login" in text and "Role: DPO (everything)" in text
    assert any(button.label == "Log out" for button in app.sidebar.button)
    app = run_app(monkeypatch=monkeypatch, secrets=secrets, user={"is_logged_in": True, "email": "new@acme.example", "name": "New"})
    assert "Role: Auditor (read and download)" in sidebar_text(app)


def test_auditor_has_no_register_page_and_the_page_itself_refuses(catalogue_url, monkeypatch):
    monkeypatch.setenv(auth.LOCAL_ROLE_ENV, "auditor")
    app = run_app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not listed in the navigation
        app.switch_page("views/register.py").run()
    page = AppTest.from_file(str(VIEWS / "register.py"), default_timeout=TIMEOUT)
    page.session_state["role"] = "dpo"  # crafted session state grants nothing
    page.run()
    assert not page.exception
    assert len(page.error) == 1 and "does not allow" in page.error[0].value
    assert not page.button and not page.get("form")


def test_crafted_calls_by_an_auditor_write_nothing(catalog, review_items):
    runs, events, systems = count(catalog, IngestRun), count(catalog, ChangeEvent), count(catalog, System)
    with pytest.raises(PermissionDenied):
        register_system(AUDITOR, {"systems": [{"id": "payroll", "name": "Payroll", "owner_email": AUDITOR.email}], "flows": []}, catalog=catalog)
    with pytest.raises(PermissionDenied):
        decide_suggestion(AUDITOR, review_items["suggestion"], True, catalog=catalog)
    with pytest.raises(PermissionDenied):
        resolve_conflict(AUDITOR, review_items["conflict"], take_reported=True, catalog=catalog)
    with pytest.raises(PermissionDenied):
        resolve_conflict(SALES_ENGINEER, review_items["conflict"], take_reported=True, catalog=catalog)
    with pytest.raises(PermissionDenied):  # engineers decide suggestions only on systems they own
        decide_suggestion(OTHER_ENGINEER, review_items["suggestion"], True, catalog=catalog)
    assert (count(catalog, IngestRun), count(catalog, ChangeEvent), count(catalog, System)) == (runs, events, systems)
    with catalog.session() as session:
        assert session.get(CategorySuggestion, review_items["suggestion"]).status == "suggested"
        assert session.get(Conflict, review_items["conflict"]).status == "open"


# --- the review page per role --------------------------------------------------------------

def open_review(monkeypatch, **env) -> AppTest:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = run_app()
    app.switch_page("views/review.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def test_review_page_auditor_sees_but_cannot_decide(review_items, monkeypatch):
    app = open_review(monkeypatch, **{auth.LOCAL_ROLE_ENV: "auditor"})
    suggestions, conflicts = app.dataframe[0].value, app.dataframe[1].value
    row = suggestions.iloc[0]
    assert (row["Field"], row["Category key"], row["Score"]) == ("crm.contacts.full_name", "user.name.first", 0.91)
    assert "name" in row["Evidence"]
    conflict = conflicts.iloc[0]
    assert (conflict["Attribute"], conflict["Kept value"], conflict["Reported value"]) == ("name", "CRM", "CRM (live)")
    assert not app.main.button


def test_dpo_confirms_a_suggestion(review_items, monkeypatch, catalog):
    app = open_review(monkeypatch)
    app.button(key="review_confirm").click().run()
    assert not app.exception and not app.error
    assert any("Confirmed suggestion" in s.value for s in app.success)
    with catalog.session() as session:
        assert session.get(CategorySuggestion, review_items["suggestion"]).status == "confirmed"
        item = session.get(DataField, _field_id(session, "crm", "contacts", "full_name"))
        assert "user.name.first" in item.data_categories
        event = session.exec(select(ChangeEvent).order_by(ChangeEvent.id.desc())).first()
        assert (event.action, event.entry_id, event.actor, event.run_id) == ("confirmed", "crm", "local@localhost", None)
    assert list(app.dataframe[0].value["Category key"]) == ["user.name"]  # the confirmed one is no longer open


def test_owning_engineer_rejects_a_suggestion_but_cannot_resolve_conflicts(review_items, monkeypatch, catalog):
    app = open_review(monkeypatch, **{auth.LOCAL_ROLE_ENV: "engineer", auth.LOCAL_EMAIL_ENV: "sam@acme.example", auth.LOCAL_TEAMS_ENV: "Sales"})
    assert {b.key for b in app.main.button} == {"review_confirm", "review_reject"}
    app.button(key="review_reject").click().run()
    assert not app.error
    with catalog.session() as session:
        assert session.get(CategorySuggestion, review_items["suggestion"]).status == "rejected"


def test_other_engineer_gets_no_buttons(review_items, monkeypatch):
    app = open_review(monkeypatch, **{auth.LOCAL_ROLE_ENV: "engineer", auth.LOCAL_EMAIL_ENV: "oli@acme.example"})
    assert not app.main.button


def test_dpo_takes_the_reported_value_of_a_conflict(review_items, monkeypatch, catalog):
    app = open_review(monkeypatch)
    app.button(key="review_take").click().run()
    assert not app.exception and not app.error
    with catalog.session() as session:
        assert session.get(Conflict, review_items["conflict"]).status == "resolved"
        system = session.get(System, "crm")
        assert (system.name, system.source) == ("CRM (live)", "dashboard")
        event = session.exec(select(ChangeEvent).order_by(ChangeEvent.id.desc())).first()
        assert (event.action, event.entry_kind, event.entry_id) == ("resolved", "system", "crm")
        assert (event.before["name"], event.after["name"]) == ("CRM", "CRM (live)")
    # the snapshot the other pages read follows (its cache key includes the latest change event)
    app.switch_page("views/overview.py").run()
    assert not app.exception


def test_dpo_keeps_the_value_on_record(review_items, monkeypatch, catalog):
    app = open_review(monkeypatch)
    app.button(key="review_keep").click().run()
    assert not app.error
    with catalog.session() as session:
        assert session.get(Conflict, review_items["conflict"]).status == "resolved"
        assert session.get(System, "crm").name == "CRM"
        event = session.exec(select(ChangeEvent).order_by(ChangeEvent.id.desc())).first()
        assert (event.entry_kind, event.action) == ("conflict", "kept")


def test_snapshot_cache_follows_changes_without_a_run(catalog, review_items):
    from dashboards import state

    before = state._revision(catalog)
    decide_suggestion(DPO, review_items["suggestion"], True, catalog=catalog)
    after = state._revision(catalog)
    assert after[0] == before[0] and after[1] > before[1]
