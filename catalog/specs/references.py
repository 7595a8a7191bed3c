"""Cross-reference checks: every id an entry names must exist, and ids must be unique."""

from dataclasses import dataclass

from catalog.specs.catalog import CatalogSpec
from catalog.suggest import nearest
from catalog.vocab import PartyRole, SystemRole


@dataclass(frozen=True)
class ReferenceProblem:
    """A dangling or duplicate reference, located by its path inside the CatalogSpec."""

    loc: tuple[str | int, ...]
    message: str
    suggestion: str | None = None


def check_references(spec: CatalogSpec, existing: dict[str, set[str]] | None = None) -> list[ReferenceProblem]:
    """All reference problems in one pass, so a user fixes them in one go.

    ``existing`` adds ids already in the catalogue (by section name) for a partial spec, such as
    one system registered from the dashboard.
    """
    problems: list[ReferenceProblem] = []
    existing = existing or {}

    def unique(section: str, ids: list[str], label: str) -> set[str]:
        seen: set[str] = set()
        for index, ident in enumerate(ids):
            if ident in seen:
                problems.append(ReferenceProblem((section, index, "id"), f"duplicate {label} id '{ident}'"))
            seen.add(ident)
        return seen

    locations = set(existing.get("locations", ())) | unique("locations", [x.id for x in spec.locations], "location")
    systems = set(existing.get("systems", ())) | unique("systems", [x.id for x in spec.systems], "system")
    parties = set(existing.get("parties", ())) | unique("parties", [x.id for x in spec.parties], "party")
    activities = set(existing.get("activities", ())) | unique("activities", [x.id for x in spec.activities], "activity")
    unique("flows", [x.id for x in spec.flows], "flow")
    for clash in sorted({s.id for s in spec.systems} & {p.id for p in spec.parties}):
        problems.append(ReferenceProblem(("parties", [p.id for p in spec.parties].index(clash), "id"), f"id '{clash}' is used by a system and a party; flows name either by id, so ids must differ"))

    def ref(loc: tuple, value: str | None, known: set[str], label: str) -> None:
        if value is not None and value not in known:
            suggestion = nearest(value, known)
            problems.append(ReferenceProblem(loc, f"unknown {label} '{value}'", suggestion))

    party_roles = {p.id: p.role for p in spec.parties}
    for i, system in enumerate(spec.systems):
        for j, location in enumerate(system.hosted_in):
            ref(("systems", i, "hosted_in", j), location, locations, "location")
    for i, party in enumerate(spec.parties):
        ref(("parties", i, "parent"), party.parent, parties, "party")
        if party.parent == party.id:
            problems.append(ReferenceProblem(("parties", i, "parent"), f"party '{party.id}' cannot be its own parent"))
    for i, activity in enumerate(spec.activities):
        ref(("activities", i, "controller"), activity.controller, parties, "party")
        ref(("activities", i, "joint_controller"), activity.joint_controller, parties, "party")
        for j, system in enumerate(activity.systems):
            ref(("activities", i, "systems", j), system, systems, "system")
        for j, party in enumerate(activity.recipients):
            ref(("activities", i, "recipients", j), party, parties, "party")
        if activity.role == SystemRole.PROCESSOR and activity.controller is None:
            problems.append(ReferenceProblem(("activities", i, "controller"), f"processor activity '{activity.id}' must name the client controller it acts for"))
        if activity.controller and party_roles.get(activity.controller) not in (None, PartyRole.CLIENT_CONTROLLER):
            problems.append(ReferenceProblem(("activities", i, "controller"), f"party '{activity.controller}' is not a client_controller"))
    datasets = {s.id: {d.name: {f.name for f in d.fields} for d in s.datasets} for s in spec.systems}

    def dataset_ref(loc: tuple, system: str, dataset: str | None) -> None:
        known = datasets.get(system)
        if dataset is not None and known is not None and dataset not in known:
            problems.append(ReferenceProblem(loc, f"system '{system}' has no dataset '{dataset}'", nearest(dataset, known)))

    flow_targets, party_only = systems | parties, parties - systems
    for i, flow in enumerate(spec.flows):
        ref(("flows", i, "from"), flow.from_system, systems, "system")
        ref(("flows", i, "to"), flow.to, flow_targets, "system or party")
        ref(("flows", i, "activity"), flow.activity, activities, "activity")
        dataset_ref(("flows", i, "from_dataset"), flow.from_system, flow.from_dataset)
        if flow.to_dataset is not None and flow.to in party_only:
            problems.append(ReferenceProblem(("flows", i, "to_dataset"), f"'{flow.to}' is a party: to_dataset names a dataset of our own systems"))
        dataset_ref(("flows", i, "to_dataset"), flow.to, flow.to_dataset)
    for i, lineage in enumerate(spec.field_lineage):
        for end, field_ref in (("from", lineage.from_field), ("to", lineage.to_field)):
            ref(("field_lineage", i, end, "system"), field_ref.system, systems, "system")
            dataset_ref(("field_lineage", i, end, "dataset"), field_ref.system, field_ref.dataset)
            fields = datasets.get(field_ref.system, {}).get(field_ref.dataset)
            if fields is not None and field_ref.field not in fields:
                problems.append(ReferenceProblem((("field_lineage", i, end, "field")), f"dataset '{field_ref.system}.{field_ref.dataset}' has no field '{field_ref.field}'", nearest(field_ref.field, fields)))
    return problems
