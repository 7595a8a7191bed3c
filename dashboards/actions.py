"""Every write the dashboard makes, each checking the user's permission itself.

Pages call these functions with the user from :func:`dashboards.auth.current_user`; a function
raises :class:`dashboards.auth.PermissionDenied` before touching the store when the user may not
do it, so hiding a button is never the only guard. Writes go through the catalogue's own paths
(``catalog.apply.apply_spec``, ``catalog.suggestions``) and leave a ChangeEvent in the history.
Nothing here imports Streamlit: the functions are as usable from a test or a script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import Integer
from sqlmodel import Session, select

from catalog.apply import ApplyResult, apply_spec, existing_ids, utc_now
from catalog.models import (
    CategorySuggestion,
    ChangeEvent,
    Conflict,
    DataField,
    Dataset,
    FieldLineage,
    Flow,
    Location,
    Organisation,
    Party,
    ProcessingActivity,
    System,
)
from catalog.snapshot import EntryKey, entry_documents
from catalog.specs import CatalogSpec, check_references
from catalog.specs.common import unique_id
from catalog.store import Catalog
from catalog.suggestions import confirm_suggestion, reject_suggestion
from dashboards.auth import Permission, PermissionDenied, User, check
from catalog.specs.problems import format_field_path, resolve_path, validation_problems

SOURCE = "dashboard"


@dataclass(frozen=True)
class FormProblem:
    """One problem with what was entered: where (manifest field path), what, and the likely fix."""

    field_path: str
    message: str
    suggestion: str | None = None


@dataclass
class RegistrationResult:
    """What happened to a registration: problems (nothing written), or the run that wrote it."""

    problems: list[FormProblem] = field(default_factory=list)
    spec: CatalogSpec | None = None
    created: bool = False
    run_id: int | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.spec is not None

    @property
    def manifest_yaml(self) -> str:
        return manifest_yaml(self.spec) if self.spec is not None else ""


# --- validation: the same checks as a manifest -------------------------------------------------

def validate_registration(spec_data: dict[str, Any], existing: dict[str, set[str]] | None = None) -> tuple[CatalogSpec | None, list[FormProblem]]:
    """Validate a ``{systems: [one], flows: [...]}`` document exactly as a manifest is validated.

    Pydantic validation of the CatalogSpec (taxonomy keys, enum values, ids, unknown keys), then
    cross-references against the spec and the ids already in the catalogue; every problem carries
    its manifest field path (``systems[0].datasets[1].fields[0].categories[0]``) and a suggestion.
    """
    try:
        spec = CatalogSpec.model_validate(spec_data)
    except ValidationError as error:
        problems = [
            FormProblem(format_field_path(resolve_path(CatalogSpec, p.loc).loc), p.message, p.suggestion)
            for p in validation_problems(error, CatalogSpec)
        ]
        return None, problems
    problems = [FormProblem(format_field_path(resolve_path(CatalogSpec, p.loc).loc), p.message, p.suggestion) for p in check_references(spec, existing)]
    if len(spec.systems) != 1:
        problems.append(FormProblem("systems", f"register exactly one system at a time (got {len(spec.systems)})"))
    if any((spec.organisation, spec.locations, spec.parties, spec.activities, spec.field_lineage)):
        problems.append(FormProblem("", "the registration form writes one system and its flows only"))
    if len(spec.systems) == 1:
        system_id = spec.systems[0].id
        for index, flow in enumerate(spec.flows):
            if flow.from_system != system_id:
                problems.append(FormProblem(f"flows[{index}].from", f"a flow registered here must leave system '{system_id}', not '{flow.from_system}'", system_id))
    return spec, problems


def manifest_document(spec: CatalogSpec) -> dict[str, Any]:
    """The spec as manifest YAML data: ``systems:`` and ``flows:``, keys by alias, defaults left out."""
    document = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return {"systems": document.get("systems", []), "flows": document.get("flows", [])}


def manifest_yaml(spec: CatalogSpec) -> str:
    """YAML a catalog-as-code repository can commit; it validates as a manifest."""
    return yaml.safe_dump(manifest_document(spec), sort_keys=False, allow_unicode=True)


# --- registration -------------------------------------------------------------------------------

def _current_system(session: Session, system_id: str) -> System | None:
    row = session.get(System, system_id)
    return row if row is not None and row.retired_run_id is None else None


def check_may_register(user: User, spec: CatalogSpec, session: Session) -> bool:
    """Raise PermissionDenied unless the user may write this system; True when it is new.

    Engineers create systems owned by their own email or team, and edit only systems they own
    (as stored) and keep them owned by themselves; a DPO may write any system; auditors none.
    """
    check(user, Permission.REGISTER_SYSTEM)
    system = spec.systems[0]
    stored = _current_system(session, system.id)
    if stored is not None and not user.may_edit_system(stored.owner_email, stored.owner_team):
        raise PermissionDenied(f"{user.email} may not edit system '{system.id}': it is owned by {stored.owner_email or stored.owner_team or 'nobody'}")
    if not user.may_edit_system(system.owner_email, system.owner_team):
        raise PermissionDenied(
            f"{user.email} may only register systems owned by their own email or team "
            f"(owner email '{system.owner_email}', owner team '{system.owner_team}'); ask a DPO to hand a system over"
        )
    for index, flow in enumerate(spec.flows):
        other = session.get(Flow, flow.id)
        if other is not None and other.retired_run_id is None and other.source_system_id != system.id:
            raise PermissionDenied(f"flows[{index}].id: flow '{flow.id}' already leaves system '{other.source_system_id}'; choose another id")
    return stored is None


def _id_taken(session: Session, system_id: str) -> FormProblem | None:
    """A new system may not take the id of one the catalogue has or had: saving would replace
    that system's datasets, fields and flows with the form's."""
    stored = session.get(System, system_id)
    if stored is None:
        return None
    if stored.retired_run_id is None:
        message = f"a system with id '{system_id}' already exists ({stored.name}); choose another id, or choose that system under 'Register or edit' to change it"
    else:
        message = f"id '{system_id}' belonged to a system that was retired ({stored.name}); choose another id"
    taken = set(session.exec(select(System.id).where(System.id.startswith(system_id))).all())
    return FormProblem("systems[0].id", message, unique_id(system_id, taken))


def register_system(user: User, spec_data: dict[str, Any], *, catalog: Catalog, new: bool = False) -> RegistrationResult:
    """Validate and write one system with its outgoing flows, as the dashboard source.

    ``new`` says the form registers a new system: an id already taken is then a problem, not an
    edit of that system. Raises PermissionDenied (nothing written) when the user may not; returns
    the problems (nothing written) when the input is invalid; otherwise one ingest run
    (``complete=False``) that also appends the history.
    """
    check(user, Permission.REGISTER_SYSTEM)  # before reading anything
    with catalog.session() as session:
        spec, problems = validate_registration(spec_data, existing_ids(session))
        if new and spec is not None and len(spec.systems) == 1:
            taken = _id_taken(session, spec.systems[0].id)
            problems = [*problems, taken] if taken else problems
        if problems or spec is None:
            return RegistrationResult(problems=problems)
        created = check_may_register(user, spec, session)
        applied: ApplyResult = apply_spec(
            session, spec, source=SOURCE, target="registration form", actor=user.email, complete=False, replace_systems=True,
        )
        return RegistrationResult(spec=spec, created=created, run_id=applied.run.id, changes=list(applied.changes))


def registration_document(catalog: Catalog, system_id: str) -> dict[str, Any] | None:
    """The current system and the flows leaving it, as a ``{systems, flows}`` spec document."""
    with catalog.session() as session:
        flow_ids = session.exec(select(Flow.id).where(Flow.source_system_id == system_id, Flow.retired_run_id.is_(None))).all()
        documents = entry_documents(session, [("system", system_id), *(("flow", ident) for ident in flow_ids)])
    system = documents.get(("system", system_id))
    if system is None:
        return None
    flows = [documents[key] for key in sorted(documents) if key[0] == "flow"]
    return {"systems": [system], "flows": flows}


def editable_systems(user: User, catalog: Catalog) -> list[System]:
    """Current systems the user may edit, by name."""
    with catalog.session() as session:
        systems = session.exec(select(System).where(System.retired_run_id.is_(None)).order_by(System.name)).all()
        return [s for s in systems if user.may_edit_system(s.owner_email, s.owner_team)]


# --- suggestions --------------------------------------------------------------------------------

def _system_of_field(session: Session, field_id: int) -> System | None:
    item = session.get(DataField, field_id)
    dataset = session.get(Dataset, item.dataset_id) if item else None
    return session.get(System, dataset.system_id) if dataset else None


def may_decide_on_system(user: User, system: System | None) -> bool:
    if user.can(Permission.DECIDE_SUGGESTIONS):
        return True
    return system is not None and user.can(Permission.EDIT_OWN_SYSTEM) and user.owns(system.owner_email, system.owner_team)


def decide_suggestion(user: User, suggestion_id: int, confirm: bool, *, catalog: Catalog) -> CategorySuggestion:
    """Confirm (the category is added to the field) or reject a suggestion; DPOs, or the system's owners."""
    check(user, Permission.VIEW)
    with catalog.session() as session:
        suggestion = session.get(CategorySuggestion, suggestion_id)
        system = _system_of_field(session, suggestion.field_id) if suggestion else None
        if not may_decide_on_system(user, system):
            raise PermissionDenied(f"{user.email} may not decide suggestions for system '{system.id if system else '?'}'")
        decided = (confirm_suggestion if confirm else reject_suggestion)(session, suggestion_id, user.email)
        session.expunge(decided)
        return decided


# --- conflicts ----------------------------------------------------------------------------------

ENTITY_MODELS = {
    model.__tablename__: model
    for model in (Organisation, Location, Party, System, Dataset, DataField, ProcessingActivity, Flow, FieldLineage)
}
ENTRY_KIND_OF_TABLE = {"organisation": "organisation", "location": "location", "party": "party", "system": "system", "processing_activity": "activity", "flow": "flow"}


def _entry_of(session: Session, table: str, row: Any) -> EntryKey | None:
    """The top-level entry whose document holds this row."""
    if table in ENTRY_KIND_OF_TABLE:
        return ENTRY_KIND_OF_TABLE[table], str(row.id)
    if table == "dataset":
        return "system", row.system_id
    if table == "data_field":
        return "system", session.get(Dataset, row.dataset_id).system_id
    if table == "field_lineage":
        target = session.get(DataField, row.target_field_id)
        return "system", session.get(Dataset, target.dataset_id).system_id
    return None


def _row_of(session: Session, conflict: Conflict) -> Any:
    model = ENTITY_MODELS.get(conflict.entity)
    if model is None:
        return None
    column = model.__table__.primary_key.columns.values()[0]
    return session.get(model, int(conflict.entity_id) if isinstance(column.type, Integer) else conflict.entity_id)


class ConflictNotOpen(ValueError):
    """The conflict was already resolved or does not exist."""


def resolve_conflict(user: User, conflict_id: int, take_reported: bool, *, catalog: Catalog) -> Conflict:
    """Keep the stored value, or take the reported one (DPO only); either way the decision is in the history.

    Taking the reported value writes that one attribute and makes the row a person-confirmed fact
    (source ``dashboard``, as confirming a suggestion does), so the automatic source that reported
    it no longer conflicts; the entry's document before and after goes to the history.
    """
    check(user, Permission.RESOLVE_CONFLICTS)
    with catalog.session() as session:
        conflict = session.get(Conflict, conflict_id)
        if conflict is None or conflict.status != "open":
            raise ConflictNotOpen(f"conflict {conflict_id} is not open")
        now = utc_now()
        row = _row_of(session, conflict)
        if take_reported and row is not None:
            entry = _entry_of(session, conflict.entity, row)
            before = entry_documents(session, [entry]).get(entry) if entry else None
            setattr(row, conflict.field, conflict.reported_value)
            row.source = SOURCE
            session.flush()
            after = entry_documents(session, [entry]).get(entry) if entry else None
            if entry is not None:
                session.add(ChangeEvent(at=now, actor=user.email, source=SOURCE, entry_kind=entry[0], entry_id=entry[1], action="resolved", before=before, after=after))
        elif take_reported:
            raise ConflictNotOpen(f"conflict {conflict_id}: the {conflict.entity} {conflict.entity_id} it is about no longer exists")
        else:
            decision = {"entity": conflict.entity, "entity_id": conflict.entity_id, "field": conflict.field, "kept_value": conflict.kept_value, "reported_value": conflict.reported_value, "reported_source": conflict.reported_source}
            session.add(ChangeEvent(at=now, actor=user.email, source=SOURCE, entry_kind="conflict", entry_id=str(conflict.id), action="kept", before=decision, after=None))
        conflict.status = "resolved"
        session.flush()
        session.expunge(conflict)
        return conflict


def open_conflicts(catalog: Catalog) -> list[Conflict]:
    with catalog.session() as session:
        rows = session.exec(select(Conflict).where(Conflict.status == "open").order_by(Conflict.id)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)
