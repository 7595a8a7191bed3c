"""Who is looking at the dashboard, what they may do, and how we know.

Identity, in this order:

1. **OIDC** when the Streamlit secrets have an ``[auth]`` section (``st.login`` / ``st.user``;
   needs ``streamlit[auth]``). A visitor who is not logged in sees only a log-in button.
2. **Trusted header** when ``ROPA_TRUSTED_USER_HEADER`` names a header set by the reverse proxy in
   front of the dashboard (read from ``st.context.headers``); ``ROPA_TRUSTED_ROLE_HEADER`` may name
   a header carrying a role or comma-separated groups. A request without the user header is
   refused: it never falls back to the local user.
3. **Local demo user** otherwise: one user for a laptop demo, role ``ROPA_LOCAL_ROLE`` (default dpo).

Roles come from the YAML file named by ``ROPA_ROLES_FILE``::

    default_role: auditor          # unknown users (OIDC and header); auditor when absent
    users:
      dee@acme.example: dpo
      sam@acme.example: {role: engineer, teams: [Sales]}
    groups:                        # OIDC "groups" claim, or values of the role header
      privacy-office: dpo
      eng-sales: {role: engineer, teams: [Sales]}

An email listed under ``users`` decides alone; otherwise the most powerful role among the user's
groups (and, for the header method, a role named in the role header); otherwise the default.

Permissions are checked where the write happens (:mod:`dashboards.actions` calls :func:`check`
with the user it is given); hiding a button is only a courtesy. The user is derived afresh on
every run and never read from session state, so a crafted session state grants nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

ROLES_FILE_ENV = "ROPA_ROLES_FILE"
USER_HEADER_ENV = "ROPA_TRUSTED_USER_HEADER"
ROLE_HEADER_ENV = "ROPA_TRUSTED_ROLE_HEADER"
LOCAL_ROLE_ENV = "ROPA_LOCAL_ROLE"
LOCAL_NAME_ENV = "ROPA_LOCAL_USER"
LOCAL_EMAIL_ENV = "ROPA_LOCAL_EMAIL"
LOCAL_TEAMS_ENV = "ROPA_LOCAL_TEAMS"


class Role(StrEnum):
    AUDITOR = "auditor"
    ENGINEER = "engineer"
    DPO = "dpo"

    @property
    def label(self) -> str:
        return {"auditor": "Auditor (read and download)", "engineer": "Engineer (own systems)", "dpo": "DPO (everything)"}[self.value]

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class Permission(StrEnum):
    VIEW = "view"
    DOWNLOAD = "download"
    REGISTER_SYSTEM = "register_system"
    EDIT_OWN_SYSTEM = "edit_own_system"
    EDIT_ANY_SYSTEM = "edit_any_system"
    DECIDE_SUGGESTIONS = "decide_suggestions"
    RESOLVE_CONFLICTS = "resolve_conflicts"
    EDIT_ACTIVITIES = "edit_activities"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AUDITOR: frozenset({Permission.VIEW, Permission.DOWNLOAD}),
    Role.ENGINEER: frozenset({Permission.VIEW, Permission.DOWNLOAD, Permission.REGISTER_SYSTEM, Permission.EDIT_OWN_SYSTEM}),
    Role.DPO: frozenset(Permission),
}


class IdentityMethod(StrEnum):
    OIDC = "oidc"
    TRUSTED_HEADER = "trusted_header"
    LOCAL = "local"

    @property
    def label(self) -> str:
        return {"oidc": "OIDC login", "trusted_header": "trusted header from the reverse proxy", "local": "local demo user (no login)"}[self.value]


class PermissionDenied(PermissionError):
    """The user's role does not allow the action; nothing was written."""


class IdentityError(RuntimeError):
    """No identity could be established (missing proxy header, bad configuration)."""


def _norm(value: str) -> str:
    return value.strip().casefold()


def _role_or_none(value: str) -> Role | None:
    try:
        return Role(_norm(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class User:
    name: str
    email: str
    role: Role
    teams: tuple[str, ...] = ()
    method: IdentityMethod = IdentityMethod.LOCAL

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[Role(self.role)]

    def owns(self, owner_email: str | None, owner_team: str | None) -> bool:
        """Whether an entry with this owner belongs to the user (their email, or one of their teams)."""
        if owner_email and self.email and _norm(owner_email) == _norm(self.email):
            return True
        return bool(owner_team) and _norm(owner_team) in {_norm(team) for team in self.teams}

    def may_edit_system(self, owner_email: str | None, owner_team: str | None) -> bool:
        if self.can(Permission.EDIT_ANY_SYSTEM):
            return True
        return self.can(Permission.EDIT_OWN_SYSTEM) and self.owns(owner_email, owner_team)


def check(user: User | None, permission: Permission) -> None:
    """Raise PermissionDenied unless the user holds the permission (server-side check)."""
    if not isinstance(user, User) or not user.can(permission):
        who = f"{user.email or user.name} ({Role(user.role).value})" if isinstance(user, User) else "nobody"
        raise PermissionDenied(f"{who} may not {permission.value.replace('_', ' ')}")


# --- role assignment ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Assignment:
    role: Role
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleMap:
    default_role: Role = Role.AUDITOR
    users: Mapping[str, Assignment] = field(default_factory=dict)
    groups: Mapping[str, Assignment] = field(default_factory=dict)

    def assign(self, email: str, groups: Iterable[str] = (), header_role: str | None = None) -> Assignment:
        """The role and teams of a user: the email entry alone, else the strongest group or header role."""
        if email and _norm(email) in self.users:
            return self.users[_norm(email)]
        found = [self.groups[_norm(g)] for g in groups if _norm(g) in self.groups]
        if header_role and _role_or_none(header_role) is not None:
            found.append(Assignment(_role_or_none(header_role)))
        if not found:
            return Assignment(self.default_role)
        best = max(found, key=lambda a: a.role.rank)
        teams = tuple(dict.fromkeys(team for a in found for team in a.teams))
        return Assignment(best.role, teams)


def _assignment(value: Any, where: str) -> Assignment:
    if isinstance(value, str):
        value = {"role": value}
    if not isinstance(value, dict) or "role" not in value:
        raise IdentityError(f"{where}: expected a role name or {{role: ..., teams: [...]}}")
    try:
        role = Role(_norm(str(value["role"])))
    except ValueError:
        raise IdentityError(f"{where}: unknown role '{value['role']}' (roles: {', '.join(Role)})") from None
    teams = value.get("teams") or []
    if isinstance(teams, str):
        teams = [teams]
    return Assignment(role, tuple(str(team) for team in teams))


def parse_role_map(data: Any, where: str = ROLES_FILE_ENV) -> RoleMap:
    if data is None:
        return RoleMap()
    if not isinstance(data, dict):
        raise IdentityError(f"{where}: expected a mapping with users, groups and default_role")
    unknown = set(data) - {"users", "groups", "default_role"}
    if unknown:
        raise IdentityError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    default = _assignment(data.get("default_role", "auditor"), f"{where}: default_role").role
    users = {_norm(str(k)): _assignment(v, f"{where}: users.{k}") for k, v in (data.get("users") or {}).items()}
    groups = {_norm(str(k)): _assignment(v, f"{where}: groups.{k}") for k, v in (data.get("groups") or {}).items()}
    return RoleMap(default, users, groups)


def load_role_map(env: Mapping[str, str] | None = None) -> RoleMap:
    """The role map from $ROPA_ROLES_FILE; everyone unknown is an auditor when it is not set."""
    env = os.environ if env is None else env
    path = env.get(ROLES_FILE_ENV)
    if not path:
        return RoleMap()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise IdentityError(f"cannot read the roles file {ROLES_FILE_ENV}={path}: {exc.strerror or exc}") from None
    try:
        return parse_role_map(yaml.safe_load(text), f"roles file {path}")
    except yaml.YAMLError as exc:
        raise IdentityError(f"roles file {path} is not valid YAML: {exc}") from None


# --- identity from each method (pure, so they are testable without Streamlit) ------------------

def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def local_user(env: Mapping[str, str] | None = None) -> User:
    env = os.environ if env is None else env
    raw = env.get(LOCAL_ROLE_ENV, "dpo") or "dpo"
    try:
        role = Role(_norm(raw))
    except ValueError:
        raise IdentityError(f"{LOCAL_ROLE_ENV}='{raw}' is not a role (roles: {', '.join(Role)})") from None
    return User(
        name=env.get(LOCAL_NAME_ENV, "Local user") or "Local user",
        email=env.get(LOCAL_EMAIL_ENV, "local@localhost") or "local@localhost",
        role=role, teams=tuple(_split(env.get(LOCAL_TEAMS_ENV))), method=IdentityMethod.LOCAL,
    )


def header_user(headers: Mapping[str, str], env: Mapping[str, str] | None = None, roles: RoleMap | None = None) -> User:
    env = os.environ if env is None else env
    user_header = env[USER_HEADER_ENV]
    lowered = {str(k).casefold(): v for k, v in headers.items()}
    email = (lowered.get(user_header.casefold()) or "").strip()
    if not email:
        raise IdentityError(
            f"the request has no '{user_header}' header ({USER_HEADER_ENV}): the dashboard must be reached "
            "through the reverse proxy that signs users in"
        )
    role_header = env.get(ROLE_HEADER_ENV)
    values = _split(lowered.get(role_header.casefold())) if role_header else []
    roles = roles if roles is not None else load_role_map(env)
    named = [role for role in map(_role_or_none, values) if role is not None]
    assignment = roles.assign(email, groups=values, header_role=max(named, key=lambda r: r.rank).value if named else None)
    return User(name=email, email=email, role=assignment.role, teams=assignment.teams, method=IdentityMethod.TRUSTED_HEADER)


def oidc_user(claims: Mapping[str, Any], roles: RoleMap | None = None) -> User:
    email = str(claims.get("email") or "").strip()
    name = str(claims.get("name") or claims.get("preferred_username") or email or "signed-in user")
    groups = claims.get("groups") or []
    if isinstance(groups, str):
        groups = _split(groups)
    roles = roles if roles is not None else load_role_map()
    assignment = roles.assign(email, groups=[str(g) for g in groups])
    return User(name=name, email=email, role=assignment.role, teams=assignment.teams, method=IdentityMethod.OIDC)


# --- Streamlit glue --------------------------------------------------------------------------

def oidc_configured() -> bool:
    import streamlit as st

    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def request_headers() -> Mapping[str, str]:
    import streamlit as st

    try:
        return dict(st.context.headers or {})
    except Exception:
        return {}


class NotLoggedIn(IdentityError):
    """OIDC is configured and the visitor has not logged in yet."""


def resolve_user() -> User:
    """The user of this run; raises NotLoggedIn or IdentityError. Never reads session state."""
    import streamlit as st

    if oidc_configured():
        if not st.user.is_logged_in:
            raise NotLoggedIn("log in to see the catalogue")
        return oidc_user(st.user.to_dict())
    if os.environ.get(USER_HEADER_ENV):
        return header_user(request_headers())
    return local_user()


def current_user() -> User:
    """The signed-in user, or the page stops with a log-in button or an error saying why."""
    import streamlit as st

    try:
        return resolve_user()
    except NotLoggedIn:
        st.title("ROPA catalogue")
        st.info("Log in with your organisation's account to see the catalogue.")
        st.button("Log in", on_click=st.login, key="auth_login", type="primary")
        st.stop()
    except IdentityError as exc:
        st.error(f"Cannot tell who you are: {exc}")
        st.stop()
    raise AssertionError("unreachable: st.stop() ends the run")


def require(permission: Permission) -> User:
    """The current user if they hold ``permission``; otherwise the page stops with an error."""
    import streamlit as st

    user = current_user()
    if not user.can(permission):
        st.error(f"Your role ({Role(user.role).label}) does not allow this page: it needs the '{permission.value}' permission.")
        st.stop()
    return user


def render_identity(user: User) -> None:
    """Who is signed in, their role and how we know; in the sidebar of every page."""
    import streamlit as st

    with st.sidebar:
        st.caption("Signed in as")
        st.text(f"{user.name} <{user.email}>" if user.email and user.email != user.name else user.name)
        st.text(f"Role: {Role(user.role).label}")
        if user.teams:
            st.text(f"Teams: {', '.join(user.teams)}")
        st.text(f"Identity: {IdentityMethod(user.method).label}")
        if user.method == IdentityMethod.OIDC:
            st.button("Log out", on_click=st.logout, key="auth_logout")
        elif user.method == IdentityMethod.LOCAL:
            st.caption(
                f"Demo mode: everyone who can reach this server is this user (role from {LOCAL_ROLE_ENV}). "
                "Configure OIDC ([auth] in secrets) or a trusted proxy header for real use."
            )
