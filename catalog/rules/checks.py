"""The rules: each a small function over CatalogFacts, registered with its id and article.

Controller duties (lawful basis, conditions, retention, DPIA) are checked on controller
activities only: for an Article 30(2) processor record those are the client controller's.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from catalog.graph import NodeKind, node_key
from catalog.jurisdictions import Regime
from catalog.models import ProcessingActivity
from catalog.record import automated_decisions
from catalog.rules.context import (
    ITEM_ACTIVITY,
    ITEM_FIELD,
    ITEM_PARTY,
    ITEM_SYSTEM,
    ITEM_TRANSFER,
    CatalogFacts,
)
from catalog.rules.model import LEGISLATION, UK_GDPR_ARTICLE, Issue, Severity, rule
from catalog.taxonomy import Taxonomy, TaxonomyKind
from catalog.transfer_assessment import TransferRequirements
from catalog.vocab import Article9Condition, PartyRole, SystemRole

DPA_2018_SCHEDULE_1 = LEGISLATION + "/ukpga/2018/12/schedule/1"

#: fideslang keys under which a category is personal data (``system.*`` categories are not).
PERSONAL_DATA_ROOT = "user"
#: Data subjects WP248 counts as vulnerable (power imbalance or need of care); children come from categories.
VULNERABLE_SUBJECTS = ("employee", "job_applicant", "trainee", "patient")
#: Data uses that amount to systematic monitoring or profiling (WP248 criteria 1 and 3).
MONITORING_USES = ("analytics", "marketing.advertising.profiling", "personalize.profiling", "personalize.content.profiling")
#: Data uses that are innovative technology (WP248 criterion 8).
INNOVATIVE_USES = ("train_ai_system",)
#: Field-lineage transformations that match or combine datasets (WP248 criterion 6).
#: How many field paths a per-system finding names before "and N more".
FIELDS_NAMED = 10

MATCHING_TRANSFORMATION = re.compile(r"join|match|merge|combin", re.IGNORECASE)


def _controller_activities(facts: CatalogFacts) -> Iterator[ProcessingActivity]:
    return (a for a in facts.activities.values() if a.role != SystemRole.PROCESSOR.value)


def _labels(taxonomy: Taxonomy, keys) -> str:
    return ", ".join(f"{taxonomy.label(TaxonomyKind.DATA_CATEGORY, key)} ({key})" for key in sorted(keys))


def _is_personal(key: str) -> bool:
    return Taxonomy.covers(PERSONAL_DATA_ROOT, key)


@rule("ROPA-A6-001", title="Activity without an Article 6 lawful basis", article="Art 6(1)", severity=Severity.HIGH,
      help_uri=UK_GDPR_ARTICLE.format(6))
def activity_without_lawful_basis(facts: CatalogFacts) -> Iterator[Issue]:
    """Processing is lawful only on an Article 6(1) basis, and the record and privacy notice must name it."""
    for activity in _controller_activities(facts):
        if not activity.lawful_basis:
            yield Issue(ITEM_ACTIVITY, activity.id, f"Activity '{activity.id}' ({activity.name}) has no Article 6 lawful basis.",
                        "Set lawful_basis (consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests).",
                        activity.source_ref)


@rule("ROPA-A9-001", title="Special category data without an Article 9 condition", article="Art 9(2)", severity=Severity.HIGH,
      help_uri=UK_GDPR_ARTICLE.format(9))
def special_category_without_condition(facts: CatalogFacts) -> Iterator[Issue]:
    """Article 9(1) data the record states for the activity (declared or on its flows; its systems' when it
    declares none) needs an Article 9(2) condition. Special category data in a shared system that no activity
    using it declares is ROPA-A30-001's, at HIGH."""
    for activity in _controller_activities(facts):
        special = {key for key in facts.stated_categories(activity.id) if facts.taxonomy.article9_category(key)}
        if special and not activity.article9_condition:
            yield Issue(ITEM_ACTIVITY, activity.id,
                        f"Activity '{activity.id}' processes special category data ({_labels(facts.taxonomy, special)}) with no Article 9(2) condition.",
                        "Set article9_condition, or remove the special category data from the activity's systems.", activity.source_ref)


@rule("ROPA-A9-002", title="Article 9 condition without the DPA 2018 Schedule 1 condition it needs (UK GDPR)",
      article="UK GDPR Art 9(2)(b),(g)-(j); DPA 2018 s10, Sch 1", severity=Severity.HIGH, help_uri=DPA_2018_SCHEDULE_1)
def schedule1_condition_missing(facts: CatalogFacts) -> Iterator[Issue]:
    """Under UK GDPR, conditions (b), (g), (h), (i) and (j) also need a DPA 2018 Schedule 1 condition."""
    if Regime.UK_GDPR.value not in facts.regimes:
        return
    for activity in _controller_activities(facts):
        try:
            condition = Article9Condition(activity.article9_condition) if activity.article9_condition else None
        except ValueError:
            continue
        if condition and condition.needs_schedule1_condition and not activity.schedule1_condition:
            yield Issue(ITEM_ACTIVITY, activity.id,
                        f"Activity '{activity.id}' relies on {condition.label} ({condition.article}), which under UK GDPR needs a DPA 2018 Schedule 1 condition; none is recorded.",
                        "Set schedule1_condition (e.g. 'Sch 1 Part 1 para 1 employment') and keep the appropriate policy document.",
                        activity.source_ref)


@rule("ROPA-A10-001", title="Criminal offence data without Article 10 authority", article="Art 10", severity=Severity.HIGH,
      help_uri=UK_GDPR_ARTICLE.format(10))
def criminal_data_without_authority(facts: CatalogFacts) -> Iterator[Issue]:
    """Criminal convictions and offences data may be processed only under official authority or law (UK: DPA 2018 s10)."""
    for activity in _controller_activities(facts):
        criminal = {key for key in facts.stated_categories(activity.id) if facts.taxonomy.article10_category(key)}
        if criminal and not activity.article10_authority:
            yield Issue(ITEM_ACTIVITY, activity.id,
                        f"Activity '{activity.id}' processes criminal offence data ({_labels(facts.taxonomy, criminal)}) with no Article 10 authority recorded.",
                        "Set article10_authority (the law or official authority relied on; UK: the DPA 2018 Schedule 1 condition).",
                        activity.source_ref)


# ---- transfers -----------------------------------------------------------------------------------


def _transfer_text(requirement: TransferRequirements) -> str:
    t = requirement.transfer
    onward = f" (onward via {', '.join(t.via)})" if t.via else ""
    return f"Transfer '{t.flow_id}' from {t.exporter_name} ({t.origin}) to {t.importer_name} ({t.destination}){onward}"


def _transfer_source_ref(facts: CatalogFacts, requirement: TransferRequirements) -> str | None:
    t = requirement.transfer
    if t.via:  # onward: asserted by the sub-processor's entry
        return facts.parties[facts.graph.node(t.importer)["id"]].source_ref
    flow = facts.flows.get(t.flow_id)
    return flow.source_ref if flow else None


def _requirements(facts: CatalogFacts, regime: Regime) -> Iterator[TransferRequirements]:
    return (requirement for requirement in facts.assessed_transfers if regime.value in requirement.transfer.regimes)


def _transfer_gaps(facts: CatalogFacts, regime: Regime) -> Iterator[Issue]:
    for requirement in _requirements(facts, regime):
        answer = requirement.requirement(regime)
        if not answer.needs_mechanism:
            continue
        categories = requirement.transfer.data_categories
        sensitive = any(facts.taxonomy.article9_category(c) or facts.taxonomy.article10_category(c) for c in categories)
        instruments = " or ".join(m.label for m in answer.instruments)
        yield Issue(
            ITEM_TRANSFER, requirement.transfer.flow_id,
            f"{_transfer_text(requirement)} is a restricted transfer under {regime.label} with no mechanism on record covering it.",
            f"Put {instruments} in place (or rely on an Article 49 derogation if occasional) and record it as transfer_mechanism "
            f"on the flow or the importing party, with the {answer.assessment_name} as transfer_assessment_ref.",
            _transfer_source_ref(facts, requirement), Severity.CRITICAL if sensitive else None,
        )


@rule("ROPA-A46-001", title="Restricted transfer without a transfer mechanism (UK GDPR)", article="UK GDPR Art 44, 46",
      severity=Severity.HIGH, help_uri=UK_GDPR_ARTICLE.format(46))
def uk_transfer_without_mechanism(facts: CatalogFacts) -> Iterator[Issue]:
    """A restricted transfer needs adequacy regulations, an Article 46 tool (IDTA, Addendum, BCRs) or an Article 49 derogation."""
    yield from _transfer_gaps(facts, Regime.UK_GDPR)


@rule("ROPA-A46-002", title="Restricted transfer without a transfer mechanism (EU GDPR)", article="GDPR Art 44, 46",
      severity=Severity.HIGH, help_uri=UK_GDPR_ARTICLE.format(46))
def eu_transfer_without_mechanism(facts: CatalogFacts) -> Iterator[Issue]:
    """A restricted transfer needs an adequacy decision, an Article 46 tool (SCCs, BCRs) or an Article 49 derogation."""
    yield from _transfer_gaps(facts, Regime.EU_GDPR)


def _assessment_gaps(facts: CatalogFacts, regime: Regime) -> Iterator[Issue]:
    for requirement in _requirements(facts, regime):
        answer = requirement.requirement(regime)
        if answer.mechanism_covers and answer.needs_assessment:
            yield Issue(
                ITEM_TRANSFER, requirement.transfer.flow_id,
                f"{_transfer_text(requirement)} relies on {answer.mechanism.label} under {regime.label} but no {answer.assessment_name} is on record.",
                f"Carry out the {answer.assessment_name} and record it as transfer_assessment_ref on the flow or the importing party.",
                _transfer_source_ref(facts, requirement),
            )


@rule("ROPA-A46-003", title="Transfer relying on an Article 46 tool without a transfer impact assessment (EU GDPR)",
      article="GDPR Art 46(1); C-311/18 Schrems II; EDPB Recommendations 01/2020", severity=Severity.MEDIUM,
      help_uri=UK_GDPR_ARTICLE.format(46))
def eu_transfer_without_tia(facts: CatalogFacts) -> Iterator[Issue]:
    """Article 46 tools need a TIA showing the importer's law does not undermine them (Schrems II); not for adequacy or Article 49."""
    yield from _assessment_gaps(facts, Regime.EU_GDPR)


@rule("ROPA-A46-004", title="Transfer relying on the IDTA or Addendum without a transfer risk assessment (UK GDPR)",
      article="UK GDPR Art 46(1); ICO TRA guidance", severity=Severity.MEDIUM, help_uri=UK_GDPR_ARTICLE.format(46))
def uk_transfer_without_tra(facts: CatalogFacts) -> Iterator[Issue]:
    """The ICO expects a transfer risk assessment with the IDTA, the Addendum and other Article 46 tools."""
    yield from _assessment_gaps(facts, Regime.UK_GDPR)


@rule("ROPA-A46-005", title="EU SCC module on record does not match the parties' roles", article="GDPR Art 46(2)(c); Decision (EU) 2021/914",
      severity=Severity.MEDIUM, help_uri=UK_GDPR_ARTICLE.format(46))
def scc_module_mismatch(facts: CatalogFacts) -> Iterator[Issue]:
    """The SCC module follows the roles: 1 controller-controller, 2 controller-processor, 3 processor-processor, 4 processor-controller."""
    for requirement in _requirements(facts, Regime.EU_GDPR):
        answer = requirement.eu
        if answer.mechanism_fits_roles is False:
            yield Issue(
                ITEM_TRANSFER, requirement.transfer.flow_id,
                f"{_transfer_text(requirement)} is recorded under {answer.mechanism.label}, but the roles "
                f"({requirement.exporter_contract_role.value} to {requirement.importer_contract_role.value}) need {requirement.scc_module.label}.",
                f"Sign {requirement.scc_module.label} with the importer, or correct the parties' roles.",
                _transfer_source_ref(facts, requirement),
            )


# ---- parties, systems, fields --------------------------------------------------------------------


@rule("ROPA-A28-001", title="Processor or sub-processor without a contract on record", article="Art 28(3)", severity=Severity.HIGH,
      help_uri=UK_GDPR_ARTICLE.format(28))
def processor_without_contract(facts: CatalogFacts) -> Iterator[Issue]:
    """Processing by a processor must be governed by an Article 28(3) contract, and a sub-processor's by an Article 28(4) one."""
    for party in facts.parties.values():
        if party.role in (PartyRole.PROCESSOR.value, PartyRole.SUB_PROCESSOR.value) and not party.contract_ref:
            role = PartyRole(party.role).label.lower()
            yield Issue(ITEM_PARTY, party.id, f"The {role} '{party.id}' ({party.name}) has no Article 28 contract on record.",
                        "Record the data processing agreement as contract_ref on the party.", party.source_ref)


@rule("ROPA-A5-001", title="Activity without a retention period", article="Art 5(1)(e); Art 30(1)(f)", severity=Severity.MEDIUM,
      help_uri=UK_GDPR_ARTICLE.format(5))
def activity_without_retention(facts: CatalogFacts) -> Iterator[Issue]:
    """Storage limitation: the record must give the envisaged time limits for erasure where possible."""
    for activity in _controller_activities(facts):
        if not (activity.retention or "").strip():
            yield Issue(ITEM_ACTIVITY, activity.id, f"Activity '{activity.id}' ({activity.name}) has no retention period.",
                        "Set retention (e.g. '6 years after the end of the contract') and link the retention policy.",
                        activity.source_ref)


@rule("ROPA-A5-002", title="System without an owner", article="Art 5(2)", severity=Severity.MEDIUM, help_uri=UK_GDPR_ARTICLE.format(5))
def system_without_owner(facts: CatalogFacts) -> Iterator[Issue]:
    """Accountability needs someone answerable for each system that processes personal data."""
    for system in facts.systems.values():
        if not (system.owner_team or "").strip() and not (system.owner_email or "").strip():
            yield Issue(ITEM_SYSTEM, system.id, f"System '{system.id}' ({system.name}) has no owner.",
                        "Set owner_team and owner_email on the system.", system.source_ref)


@rule("ROPA-A30-003", title="System holding personal data with no hosting location", article="Art 30(1)(e); Art 44",
      severity=Severity.MEDIUM, help_uri=UK_GDPR_ARTICLE.format(30))
def system_without_location(facts: CatalogFacts) -> Iterator[Issue]:
    """Where a system keeps its data decides whether sending data to it, or holding data in it, is a
    transfer to a third country: without a location no transfer from or to it can be assessed, and
    the record's location column stays empty for every activity that uses it."""
    for system in facts.systems.values():
        if facts.system_categories(system.id) and not facts.graph.node(node_key(NodeKind.SYSTEM, system.id)).get("locations"):
            yield Issue(ITEM_SYSTEM, system.id,
                        f"System '{system.id}' ({system.name}) holds personal data but no location is recorded for it: its transfers cannot be assessed.",
                        "List the data centres or cloud regions it runs in under hosted_in.", system.source_ref)


@rule("ROPA-A5-003", title="Personal data in a system no activity uses", article="Art 5(1)(b)", severity=Severity.LOW,
      help_uri=UK_GDPR_ARTICLE.format(5))
def system_data_without_purpose(facts: CatalogFacts) -> Iterator[Issue]:
    """Purpose limitation: personal data held where no recorded activity uses it has no stated purpose.
    One finding per system, naming its fields: the fix (add the system to an activity) is per system."""
    used = {system_id for systems in facts.activity_systems.values() for system_id in systems}
    for flow in facts.flows.values():
        if flow.activity_id:
            used.update(s for s in (flow.source_system_id, flow.target_system_id) if s)
    personal_of: dict[tuple, list[str]] = {}  # category lists are shared tuples: classify each once
    unused: dict[str, list[str]] = defaultdict(list)
    for field_id, item in facts.fields.items():
        system_id = facts.datasets[item.dataset_id].system_id
        if system_id in used or not item.data_categories:
            continue
        categories = tuple(item.data_categories)
        if categories not in personal_of:
            personal_of[categories] = [key for key in categories if _is_personal(key)]
        if personal_of[categories]:
            unused[system_id].append(facts.field_path(field_id))
    for system_id, paths in sorted(unused.items()):
        system = facts.systems[system_id]
        named = ", ".join(paths[:FIELDS_NAMED]) + (f" and {len(paths) - FIELDS_NAMED:,} more" if len(paths) > FIELDS_NAMED else "")
        yield Issue(ITEM_SYSTEM, system_id,
                    f"System '{system_id}' ({system.name}) holds personal data in {len(paths):,} field(s) ({named}) but no processing activity uses it.",
                    "Add the system to the activity that uses the data, or stop collecting the fields.", system.source_ref)


@rule("ROPA-A30-001", title="Personal data held in a system that no activity using it declares", article="Art 30(1)(c)",
      severity=Severity.LOW, help_uri=UK_GDPR_ARTICLE.format(30))
def held_category_not_declared(facts: CatalogFacts) -> Iterator[Issue]:
    """The record states for each activity what it declares and its flows carry, not all that its
    systems hold (a shared SIEM or office suite would put every category into every row). A category
    held in a system that no activity using the system states is data the record does not account
    for: the DPO decides which activity processes it, or whether it should be held at all. Special
    category or criminal offence data no activity accounts for has no Article 9 condition or Article 10
    authority on record either: HIGH. One finding per system, the fix being per system."""
    users: dict[str, set[str]] = defaultdict(set)
    for activity_id, system_ids in facts.activity_systems.items():
        for system_id in system_ids:
            users[system_id].add(activity_id)
    for flow in facts.flows.values():
        if flow.activity_id in facts.activities:
            for system_id in (flow.source_system_id, flow.target_system_id):
                if system_id:
                    users[system_id].add(flow.activity_id)
    stated: dict[str, set[str]] = {}
    for system_id, activity_ids in sorted(users.items()):
        system = facts.systems.get(system_id)
        if system is None:
            continue
        for activity_id in activity_ids - stated.keys():
            stated[activity_id] = facts.stated_categories(activity_id)
        accounted = set().union(*(stated[a] for a in activity_ids))
        missing = sorted(
            key for key in facts.system_categories(system_id)
            if key not in accounted and _is_personal(key) and not any(Taxonomy.overlaps(a, key) for a in accounted)
        )
        if not missing:
            continue
        sensitive = any(facts.taxonomy.article9_category(key) or facts.taxonomy.article10_category(key) for key in missing)
        yield Issue(ITEM_SYSTEM, system_id,
                    f"System '{system_id}' ({system.name}) holds {_labels(facts.taxonomy, missing)}, which no activity using it "
                    f"({', '.join(sorted(activity_ids))}) declares or carries in a flow: the record does not account for this data.",
                    "Declare each category on the activity that processes it (data_categories), or stop holding it in the system.",
                    system.source_ref, Severity.HIGH if sensitive else None)


@rule("ROPA-A30-002", title="Activity declares a category none of its systems holds", article="Art 30(1)(c)", severity=Severity.LOW,
      help_uri=UK_GDPR_ARTICLE.format(30))
def declared_category_not_held(facts: CatalogFacts) -> Iterator[Issue]:
    """A declared category no system holds means the record and the systems disagree: a system or a field is missing."""
    for activity in facts.activities.values():
        system_ids = facts.activity_systems.get(activity.id, ())
        if not system_ids:
            continue
        held = set().union(*(facts.system_categories(s) for s in system_ids))
        for key in sorted(activity.data_categories or ()):
            if not any(Taxonomy.overlaps(key, h) for h in held):
                yield Issue(ITEM_ACTIVITY, activity.id,
                            f"Activity '{activity.id}' declares '{key}', which none of its systems ({', '.join(system_ids)}) holds.",
                            "Catalogue the field that holds it, add the system that holds it to the activity, or remove the category.",
                            activity.source_ref)


@rule("ROPA-CHILD-001", title="Children's data while the organisation says it serves no children", article="Art 8; Art 12(1)",
      severity=Severity.MEDIUM, help_uri=UK_GDPR_ARTICLE.format(8))
def childrens_data_not_declared(facts: CatalogFacts) -> Iterator[Issue]:
    """The privacy notice must fit its audience; children's data where the notice says none is processed is a gap."""
    if facts.organisation is None or facts.organisation.children_served:
        return
    children_of: dict[tuple, list[str]] = {}  # category lists are shared tuples: classify each once
    for field_id, item in facts.fields.items():
        if not item.data_categories:
            continue
        categories = tuple(item.data_categories)
        if categories not in children_of:
            children_of[categories] = [key for key in categories if facts.taxonomy.is_childrens_data(key)]
        children = children_of[categories]
        if children:
            path = facts.field_path(field_id)
            yield Issue(ITEM_FIELD, path, f"Field '{path}' holds children's data ({', '.join(children)}) but the organisation records children_served: false.",
                        "Set children_served on the organisation and review the privacy notice (and UK Age Appropriate Design Code), or remove the field.",
                        item.source_ref)
    for activity in facts.activities.values():
        children = [key for key in activity.data_categories or () if facts.taxonomy.is_childrens_data(key)]
        if children:
            yield Issue(ITEM_ACTIVITY, activity.id, f"Activity '{activity.id}' declares children's data ({', '.join(children)}) but the organisation records children_served: false.",
                        "Set children_served on the organisation and review the privacy notice, or remove the category.", activity.source_ref)


# ---- DPIA ---------------------------------------------------------------------------------------------


def dpia_criteria(facts: CatalogFacts, activity: ProcessingActivity) -> list[str]:
    """The WP248 criteria the catalogue can detect for an activity (two or more: a DPIA is likely needed)."""
    categories = facts.stated_categories(activity.id)
    purposes = activity.purposes or ()
    criteria = []
    if any(facts.taxonomy.article9_category(k) or facts.taxonomy.article10_category(k) for k in categories):
        criteria.append("special category or criminal offence data")
    if automated_decisions(activity.automated_decision_making):
        criteria.append("automated decision-making")
    subjects = facts.stated_subjects(activity.id)
    if subjects & set(VULNERABLE_SUBJECTS) or any(facts.taxonomy.is_childrens_data(k) for k in categories):
        criteria.append("vulnerable data subjects")
    if any(Taxonomy.covers(use, p) for use in MONITORING_USES for p in purposes):
        criteria.append("systematic monitoring or profiling")
    system_keys = {node_key(NodeKind.SYSTEM, s) for s in facts.activity_systems.get(activity.id, ())}
    fields = {key for system in system_keys for key in facts.graph.contained(system)}
    if any(MATCHING_TRANSFORMATION.search(t) for key in fields & facts.lineage_targets.keys() for t in facts.lineage_targets[key]):
        criteria.append("matching or combining datasets")
    if any(Taxonomy.covers(use, p) for use in INNOVATIVE_USES for p in purposes):
        criteria.append("innovative technology")
    return criteria


@rule("ROPA-A35-001", title="DPIA likely needed but not recorded", article="Art 35(1), 35(3); WP248 rev.01", severity=Severity.MEDIUM,
      help_uri=UK_GDPR_ARTICLE.format(35))
def dpia_needed(facts: CatalogFacts) -> Iterator[Issue]:
    """Two or more WP248 criteria usually mean a DPIA is needed; automated decisions on special category data always do (Art 35(3))."""
    for activity in _controller_activities(facts):
        criteria = dpia_criteria(facts, activity)
        if len(criteria) < 2 or (activity.dpia_required is True and activity.dpia_link):
            continue
        article35_3 = "automated decision-making" in criteria and "special category or criminal offence data" in criteria
        state = "dpia_required is not set" if activity.dpia_required is not True else "no dpia_link is recorded"
        yield Issue(
            ITEM_ACTIVITY, activity.id,
            f"Activity '{activity.id}' meets {len(criteria)} DPIA criteria ({'; '.join(criteria)}) but {state}.",
            "Carry out a DPIA before the processing starts; set dpia_required: true, dpia_progress and dpia_link.",
            activity.source_ref, Severity.HIGH if article35_3 else None,
        )
