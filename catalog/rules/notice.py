"""The privacy-notice check: the catalogue against what the published notice says it discloses.

The organisation declares its notice's disclosures (:class:`catalog.specs.PrivacyNoticeSpec`, kept
as ``Organisation.privacy_notice``). These rules compare both ways: processing the notice does not
disclose (a purpose, a category of personal data, a kind of recipient, a destination country, the
retention, a right), and disclosures nothing in the catalogue supports. A declared taxonomy key
covers the keys below it. Without a declaration the rules stay silent (there is nothing to compare).

Only controller activities are checked: for processing done on a client's behalf, the notice is
the client controller's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import ValidationError

from catalog.models import Party
from catalog.record import INFORMATION, THIRD_COUNTRY, automated_decisions, rights_available
from catalog.rules.context import ITEM_ACTIVITY, ITEM_PARTY, ITEM_TRANSFER, CatalogFacts
from catalog.rules.model import UK_GDPR_ARTICLE, Issue, Severity, rule
from catalog.specs.privacy_notice import PrivacyNoticeSpec
from catalog.taxonomy import Taxonomy, TaxonomyKind
from catalog.vocab import PartyRole, SystemRole

ITEM_ORGANISATION = "organisation"
ITEM_NOTICE = "privacy_notice"

#: fideslang keys under which a category is personal data.
PERSONAL_DATA_ROOT = "user"
#: Parties that are not recipients of the organisation's own processing: the client controllers
#: it processes for (their notice covers that processing).
NOT_RECIPIENTS = frozenset({PartyRole.CLIENT_CONTROLLER.value})

NOTICE_FIX = "Disclose it in the privacy notice and add it to organisation.privacy_notice, or correct the catalogue."


def notice_of(facts: CatalogFacts) -> PrivacyNoticeSpec | None:
    """The organisation's declared notice, or None when none is declared (or it no longer validates)."""
    organisation = facts.organisation
    if organisation is None or not organisation.privacy_notice:
        return None
    try:
        return PrivacyNoticeSpec.model_validate(organisation.privacy_notice)
    except ValidationError:
        return None


def _covered(declared: Iterable[str], key: str) -> bool:
    return any(Taxonomy.covers(item, key) for item in declared)


def _controller_activities(facts: CatalogFacts):
    return [a for a in facts.activities.values() if a.role != SystemRole.PROCESSOR.value]


def _labels(facts: CatalogFacts, kind: TaxonomyKind, keys: Iterable[str]) -> str:
    return ", ".join(f"{facts.taxonomy.label(kind, key)} ({key})" for key in sorted(keys))


def _personal_categories(facts: CatalogFacts, activity_id: str) -> set[str]:
    return {key for key in facts.stated_categories(activity_id) if Taxonomy.covers(PERSONAL_DATA_ROOT, key)}


def _notice_ref(facts: CatalogFacts) -> str | None:
    return facts.organisation.source_ref if facts.organisation is not None else None


def _recipient_parties(facts: CatalogFacts) -> dict[str, Party]:
    """Parties the organisation's own processing discloses data to: declared recipients of its
    controller activities, the targets of flows not run for a client, and their sub-processors."""
    controller_ids = {a.id for a in _controller_activities(facts)}
    receiving: set[str] = set()
    for activity_id in controller_ids:
        receiving.update(facts.activity_recipients.get(activity_id, ()))
    for flow in facts.flows.values():
        if flow.target_party_id and (flow.activity_id is None or flow.activity_id in controller_ids):
            receiving.add(flow.target_party_id)
    children: dict[str, list[str]] = {}
    for party in facts.parties.values():
        if party.parent_id:
            children.setdefault(party.parent_id, []).append(party.id)
    pending = list(receiving)
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in receiving:
                receiving.add(child)
                pending.append(child)
    return {ident: facts.parties[ident] for ident in sorted(receiving) if ident in facts.parties and facts.parties[ident].role not in NOT_RECIPIENTS}


def _third_country_transfers(facts: CatalogFacts):
    """Transfers of the organisation's own processing to a third country under a regime it keeps
    (adequate or not: Art 13(1)(f)), judged as the record's third-countries column judges them."""
    controller_ids = {a.id for a in _controller_activities(facts)}
    for transfer in facts.transfers:
        if transfer.activity_id is not None and transfer.activity_id not in controller_ids:
            continue
        if any(transfer.assessment(regime).status in THIRD_COUNTRY for regime in transfer.regimes):
            yield transfer


@rule("ROPA-A13-001", title="Purpose not disclosed in the privacy notice", article="Art 13(1)(c); Art 14(1)(c)",
      severity=Severity.MEDIUM, help_uri=UK_GDPR_ARTICLE.format(13))
def purpose_not_disclosed(facts: CatalogFacts) -> Iterator[Issue]:
    """Individuals must be told the purposes of the processing; an activity's purpose the notice does not cover is undisclosed processing."""
    notice = notice_of(facts)
    if notice is None:
        return
    for activity in _controller_activities(facts):
        missing = [key for key in activity.purposes or () if not _covered(notice.purposes, key)]
        if missing:
            yield Issue(ITEM_ACTIVITY, activity.id,
                        f"Activity '{activity.id}' ({activity.name}) has purposes the privacy notice does not disclose: {_labels(facts, TaxonomyKind.DATA_USE, missing)}.",
                        NOTICE_FIX + " (privacy_notice.purposes)", activity.source_ref)


@rule("ROPA-A13-002", title="Category of personal data not disclosed in the privacy notice", article="Art 14(1)(d); Art 13(1)(c)",
      severity=Severity.MEDIUM, help_uri=UK_GDPR_ARTICLE.format(14))
def category_not_disclosed(facts: CatalogFacts) -> Iterator[Issue]:
    """Where data is not obtained from the individual the notice must name its categories; a category the record
    states for an activity (declared or on its flows; its systems' when it declares none) that the notice does not
    name is undisclosed. Data held but stated by no activity is ROPA-A30-001's until an activity declares it."""
    notice = notice_of(facts)
    if notice is None:
        return
    for activity in _controller_activities(facts):
        missing = sorted(key for key in _personal_categories(facts, activity.id) if not _covered(notice.data_categories, key))
        if missing:
            yield Issue(ITEM_ACTIVITY, activity.id,
                        f"Activity '{activity.id}' ({activity.name}) processes categories the privacy notice does not name: {_labels(facts, TaxonomyKind.DATA_CATEGORY, missing)}.",
                        NOTICE_FIX + " (privacy_notice.categories)", activity.source_ref)


@rule("ROPA-A13-003", title="Kind of recipient not disclosed in the privacy notice", article="Art 13(1)(e); Art 14(1)(e)",
      severity=Severity.MEDIUM, help_uri=UK_GDPR_ARTICLE.format(13))
def recipient_not_disclosed(facts: CatalogFacts) -> Iterator[Issue]:
    """The notice must name the recipients or categories of recipients; a party receiving data whose kind the notice does not mention is undisclosed."""
    notice = notice_of(facts)
    if notice is None:
        return
    declared = {str(role) for role in notice.recipient_roles}
    for party in _recipient_parties(facts).values():
        if party.role not in declared:
            yield Issue(ITEM_PARTY, party.id,
                        f"Party '{party.id}' ({party.name}) receives personal data as {PartyRole(party.role).label}, a kind of recipient the privacy notice does not disclose.",
                        NOTICE_FIX + " (privacy_notice.recipient_roles)", party.source_ref)


@rule("ROPA-A13-004", title="Transfer destination not disclosed in the privacy notice", article="Art 13(1)(f); Art 14(1)(f)",
      severity=Severity.MEDIUM, help_uri=UK_GDPR_ARTICLE.format(13))
def transfer_country_not_disclosed(facts: CatalogFacts) -> Iterator[Issue]:
    """The notice must say that data goes to a third country; a notice that says data may be stored anywhere in the world covers every country."""
    notice = notice_of(facts)
    if notice is None or notice.transfers_worldwide:
        return
    declared = set(notice.countries)
    reported: set[tuple[str, str]] = set()
    for transfer in _third_country_transfers(facts):
        if transfer.destination in declared or (transfer.flow_id, transfer.destination) in reported:
            continue
        reported.add((transfer.flow_id, transfer.destination))
        country = facts.jurisdictions.country_name(transfer.destination)
        yield Issue(ITEM_TRANSFER, transfer.flow_id,
                    f"Transfer '{transfer.flow_id}' sends personal data to {country} ({transfer.destination}) via {transfer.importer_name}; the privacy notice does not name that country.",
                    NOTICE_FIX + " (privacy_notice.countries, or transfers_worldwide: true)")


@rule("ROPA-A13-005", title="Privacy notice states no retention", article="Art 13(2)(a); Art 14(2)(a)",
      severity=Severity.MEDIUM, help_uri=UK_GDPR_ARTICLE.format(13))
def retention_not_stated(facts: CatalogFacts) -> Iterator[Issue]:
    """The notice must give the storage period, or the criteria used to decide it."""
    notice = notice_of(facts)
    if notice is None or notice.retention_stated or not _controller_activities(facts):
        return
    organisation = facts.organisation
    yield Issue(ITEM_ORGANISATION, organisation.id,
                f"The privacy notice of {organisation.name} states no retention periods or criteria.",
                "State the retention periods (or the criteria for them) in the notice, then set privacy_notice.retention_stated: true.",
                _notice_ref(facts))


@rule("ROPA-A13-006", title="Privacy notice discloses something the catalogue does not hold", article="Art 5(1)(a); Art 12(1); Art 13; Art 14",
      severity=Severity.LOW, help_uri=UK_GDPR_ARTICLE.format(13))
def disclosed_but_not_found(facts: CatalogFacts) -> Iterator[Issue]:
    """A disclosure nothing in the catalogue supports means the notice overstates the processing, or the catalogue is missing it (a system, an activity, a recipient)."""
    notice = notice_of(facts)
    if notice is None:
        return
    activities = _controller_activities(facts)
    purposes = {key for a in activities for key in a.purposes or ()}
    categories = {key for a in activities for key in _personal_categories(facts, a.id)}
    categories |= {key for system_id in facts.systems for key in facts.system_categories(system_id) if Taxonomy.covers(PERSONAL_DATA_ROOT, key)}
    subjects = {key for a in activities for key in facts.stated_subjects(a.id)}
    roles = {party.role for party in _recipient_parties(facts).values()}
    countries = {t.destination for t in _third_country_transfers(facts)}
    ref = _notice_ref(facts)
    fix = "Remove it from the notice (and organisation.privacy_notice) if it is no longer true, or catalogue what it refers to."

    def found(held: set[str], key: str) -> bool:
        return any(Taxonomy.covers(key, item) for item in held)

    for kind, section, declared, held in (
        (TaxonomyKind.DATA_USE, "purposes", notice.purposes, purposes),
        (TaxonomyKind.DATA_CATEGORY, "categories", notice.data_categories, categories),
        (TaxonomyKind.DATA_SUBJECT, "data_subjects", notice.data_subjects, subjects),
    ):
        for key in declared:
            if not found(held, key):
                yield Issue(ITEM_NOTICE, f"{section}:{key}",
                            f"The privacy notice discloses {kind.label} {facts.taxonomy.label(kind, key)} ({key}), which no controller activity in the catalogue has.", fix, ref)
    for role in notice.recipient_roles:
        if str(role) not in roles:
            yield Issue(ITEM_NOTICE, f"recipient_roles:{role}",
                        f"The privacy notice discloses recipients of the kind {PartyRole(role).label}, but no such party receives data in the catalogue.", fix, ref)
    for country in notice.countries:
        if country not in countries:
            yield Issue(ITEM_NOTICE, f"countries:{country}",
                        f"The privacy notice names {facts.jurisdictions.country_name(country)} ({country}) as a destination, but no transfer in the catalogue goes there.", fix, ref)


@rule("ROPA-A13-007", title="Right of the data subject not described in the privacy notice", article="Art 13(2)(b)-(c); Art 14(2)(c)-(d)",
      severity=Severity.LOW, help_uri=UK_GDPR_ARTICLE.format(13))
def right_not_described(facts: CatalogFacts) -> Iterator[Issue]:
    """The notice must describe the rights individuals have; the rights follow from each activity's lawful basis (and automated decision-making)."""
    notice = notice_of(facts)
    if notice is None:
        return
    described = {str(right).strip().lower().removeprefix("art").strip() for right in notice.rights}
    missing: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for activity in _controller_activities(facts):
        automated = bool(automated_decisions(activity.automated_decision_making))
        for right in rights_available(activity.lawful_basis, automated_decision_making=automated):
            if right is INFORMATION:
                continue  # the notice is itself the information Articles 13 and 14 require
            number = right.article.removeprefix("Art ").strip()
            if number.lower() not in described and number.split("(")[0] not in described:
                missing.setdefault(number, []).append(activity.id)
                names[number] = right.text
    for number in sorted(missing):
        activities = sorted(set(missing[number]))
        yield Issue(ITEM_NOTICE, f"rights:{number}",
                    f"The privacy notice does not describe the right {names[number]}, which applies to activities {', '.join(activities)}.",
                    "Describe the right in the notice and add its article to privacy_notice.rights.", _notice_ref(facts))
