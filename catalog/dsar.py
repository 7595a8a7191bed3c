"""Where a data subject's personal data is, for answering a subject access or erasure request.

Starts from what the catalogue says is about the subject (datasets listing the subject, and
datasets of systems used by activities about the subject), keeps the fields of the requested
category (a key covers its descendants), then follows the flows that carry those categories to
derived copies and backups and to the parties receiving them, and down each processor's
sub-processor chain. For each place it gives the retention on record, and for erasure,
rectification and restriction the recipients to tell (Article 19).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import networkx as nx
from sqlmodel import Session

from catalog.graph import NodeKind, node_key
from catalog.record import ERASURE, RECTIFICATION, RESTRICTION, rights_available
from catalog.rules.context import ITEM_FIELD, ITEM_PARTY, ITEM_SYSTEM, CatalogFacts
from catalog.taxonomy import Taxonomy, TaxonomyKind
from catalog.vocab import PartyRole

#: Rights whose exercise must be passed on to recipients (Article 19).
NOTIFIED_RIGHTS = (RECTIFICATION, ERASURE, RESTRICTION)
#: Where a holding comes from.
HELD, COPY, RECEIVED, SUB_PROCESSOR = "held", "copy", "received", "sub-processor"
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class DsarHolding:
    """One place holding the subject's data: a field of ours, a copy, or a party."""

    item_kind: str
    """field, system (a copy whose fields do not show the categories) or party."""
    key: str
    """Graph node key of the field, system or party."""
    system: str
    """System id (empty for parties)."""
    location: str
    """What to look in: 'system.dataset.field', a system name, or a party name with its role."""
    categories: tuple[str, ...]
    """Categories of the subject's data held there."""
    how: str
    """held (catalogued as about the subject), copy (reached by a flow), received (a party) or sub-processor."""
    via: tuple[str, ...]
    """Node keys from where the data is held to here (empty when held directly)."""
    countries: tuple[str, ...]
    """Countries where it is held."""
    retention: str
    """Retention on record (dataset retention, else the activities'), or 'not recorded'."""


@dataclass(frozen=True)
class DsarRecipient:
    """A party the data reaches, and whether Article 19 asks us to tell it about a correction or erasure."""

    key: str
    """Graph node key of the party."""
    name: str
    """Party name."""
    role: str
    """PartyRole value."""
    countries: tuple[str, ...]
    """Countries where it receives or processes the data."""
    notify: bool
    """Whether it must be told (public authorities receiving data for an inquiry are not recipients, Art 4(9))."""


@dataclass(frozen=True)
class DsarRight:
    """A right whose exercise must be passed on, where it applies and whom to tell."""

    name: str
    """Right, e.g. Erasure."""
    article: str
    """Article granting it, e.g. Art 17."""
    activities: tuple[str, ...]
    """Activities about the subject whose lawful basis gives the right (Arts 16-18 with 6(1))."""
    notify: tuple[str, ...]
    """Names of recipients to tell under Article 19."""


@dataclass(frozen=True)
class DsarMap:
    """Everything the catalogue knows about where one kind of subject's data is."""

    subject: str
    """Data subject key, e.g. customer."""
    category: str | None
    """Data category asked for (covers its descendants); None for all personal data."""
    activities: tuple[str, ...]
    """Ids of activities about the subject."""
    holdings: tuple[DsarHolding, ...]
    """Where the data is: fields, copies and parties."""
    recipients: tuple[DsarRecipient, ...]
    """Parties the data reaches."""
    rights: tuple[DsarRight, ...]
    """Rectification, erasure and restriction: where they apply and whom to tell."""

    def as_rows(self) -> list[dict[str, str]]:
        """One row per holding, for a table."""
        return [
            {
                "where": h.location, "kind": h.item_kind, "how": h.how, "categories": ", ".join(h.categories),
                "countries": ", ".join(h.countries), "retention": h.retention, "via": " -> ".join(h.via),
            }
            for h in self.holdings
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject, "category": self.category, "activities": list(self.activities),
            "holdings": [
                {"item_kind": h.item_kind, "key": h.key, "system": h.system, "location": h.location, "categories": list(h.categories),
                 "how": h.how, "via": list(h.via), "countries": list(h.countries), "retention": h.retention}
                for h in self.holdings
            ],
            "recipients": [
                {"key": r.key, "name": r.name, "role": r.role, "countries": list(r.countries), "notify": r.notify}
                for r in self.recipients
            ],
            "rights": [
                {"right": r.name, "article": r.article, "activities": list(r.activities), "notify": list(r.notify)}
                for r in self.rights
            ],
        }

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)


class _Mapper:
    """Builds one DsarMap; holds the query so each step reads like the module docstring."""

    def __init__(self, facts: CatalogFacts, subject: str, category: str | None):
        self.facts, self.graph, self.subject, self.category = facts, facts.graph, subject, category
        about_subject = [a for a in facts.activities.values() if any(Taxonomy.covers(subject, s) for s in a.data_subjects or ())]
        # with a category, only the activities that process it (declared, on their systems or flows)
        self.activities = [a for a in about_subject if not category or any(self.wanted(k) for k in facts.activity_categories(a.id))]

    def wanted(self, key: str) -> bool:
        return Taxonomy.covers(self.category, key) if self.category else Taxonomy.covers("user", key)

    def retention(self, system_id: str, dataset_retention: str | None = None) -> str:
        if dataset_retention:
            return dataset_retention
        texts = [a.retention for a in self.activities if a.retention and system_id in self.facts.activity_systems.get(a.id, ())]
        return "; ".join(dict.fromkeys(texts)) or NOT_RECORDED

    def held(self) -> list[DsarHolding]:
        """Fields of the requested category in datasets about the subject."""
        activity_systems = {s for a in self.activities for s in self.facts.activity_systems.get(a.id, ())}
        holdings = []
        for dataset in self.facts.datasets.values():
            subjects = dataset.data_subjects or ()
            about = any(Taxonomy.covers(self.subject, s) for s in subjects) or (not subjects and dataset.system_id in activity_systems)
            if not about:
                continue
            for item in self.facts.dataset_fields(dataset.id):
                categories = tuple(sorted(k for k in item.data_categories or () if self.wanted(k)))
                if categories:
                    key = node_key(NodeKind.FIELD, item.id)
                    holdings.append(DsarHolding(
                        ITEM_FIELD, key, dataset.system_id, self.facts.field_path(item.id), categories, HELD, (),
                        self.graph.node(key)["countries"], self.retention(dataset.system_id, dataset.retention),
                    ))
        return holdings

    def carrying_graph(self, categories: set[str]) -> nx.MultiDiGraph:
        """Flows that carry any of the categories (or do not say what they carry), copied once so
        that the searches below do not re-run the view filters on every step."""
        flows = self.graph.flow_view()

        def carries(u: str, v: str, k: str) -> bool:
            carried = flows.edges[u, v, k].get("categories", ())
            return not carried or any(Taxonomy.overlaps(a, b) for a in carried for b in categories)

        return nx.MultiDiGraph(nx.subgraph_view(flows, filter_edge=carries))

    def reached(self, held: list[DsarHolding]) -> list[DsarHolding]:
        """Copies in our other systems, parties the flows reach, and sub-processors below them."""
        categories = {c for h in held for c in h.categories}
        sources = sorted({node_key(NodeKind.SYSTEM, h.system) for h in held})
        if not sources:
            return []
        view = self.carrying_graph(categories)
        found: dict[str, DsarHolding] = {}
        paths = nx.multi_source_dijkstra_path(view, set(sources))  # every node reached, by its shortest path
        for key in sorted(set(paths) - set(sources)):
            path = paths[key]
            carried = {c for a, b in zip(path, path[1:]) for data in view.get_edge_data(a, b).values() for c in data.get("categories", ())}
            shown = tuple(sorted(c for c in categories if not carried or any(Taxonomy.overlaps(x, c) for x in carried)))
            node = self.graph.node(key)
            if node["kind"] == NodeKind.SYSTEM:
                found.update((h.key, h) for h in self.copies(key, shown, tuple(path)))
            else:
                found[key] = self.party(key, shown, tuple(path), RECEIVED)
        chain = self.sub_processor_chain()
        for key in [k for k, h in found.items() if h.item_kind == ITEM_PARTY and k in chain]:
            for child in sorted(nx.descendants(chain, key)):
                via = (*found[key].via, *nx.shortest_path(chain, key, child)[1:])
                if child not in found or (found[child].how == SUB_PROCESSOR and len(via) < len(found[child].via)):
                    found[child] = self.party(child, found[key].categories, via, SUB_PROCESSOR)
        return list(found.values())

    def sub_processor_chain(self) -> nx.DiGraph:
        """Processor -> sub-processor edges, so each onward holder gets the chain that reaches it."""
        chain = nx.DiGraph()
        for key in self.graph.nodes_of(NodeKind.PARTY):
            parent = self.graph.node(key).get("parent_id")
            if parent and node_key(NodeKind.PARTY, parent) in self.graph.graph:
                chain.add_edge(node_key(NodeKind.PARTY, parent), key)
        return chain

    def copies(self, system_key: str, categories: tuple[str, ...], via: tuple[str, ...]) -> list[DsarHolding]:
        node = self.graph.node(system_key)
        system_id = node["id"]
        fields = []
        for dataset in self.facts.system_datasets(system_id):
            for item in self.facts.dataset_fields(dataset.id):
                matching = tuple(sorted(k for k in item.data_categories or () if any(Taxonomy.overlaps(k, c) for c in categories)))
                if matching:
                    fields.append(DsarHolding(
                        ITEM_FIELD, node_key(NodeKind.FIELD, item.id), system_id, self.facts.field_path(item.id), matching, COPY, via,
                        node["countries"], self.retention(system_id, dataset.retention),
                    ))
        return fields or [DsarHolding(ITEM_SYSTEM, system_key, system_id, node["label"], categories, COPY, via, node["countries"], self.retention(system_id))]

    def party(self, key: str, categories: tuple[str, ...], via: tuple[str, ...], how: str) -> DsarHolding:
        node = self.graph.node(key)
        flow_activities = {
            data.get("activity_id") for a, b in zip(via, via[1:]) for data in (self.graph.graph.get_edge_data(a, b) or {}).values() if "flow_id" in data
        }
        texts = [self.facts.activities[a].retention for a in sorted(flow_activities - {None}) if a in self.facts.activities and self.facts.activities[a].retention]
        return DsarHolding(
            ITEM_PARTY, key, "", f"{node['label']} ({node['role']})", categories, how, via, node["countries"],
            "; ".join(dict.fromkeys(texts)) or NOT_RECORDED,
        )

    def recipients(self, holdings: list[DsarHolding]) -> list[DsarRecipient]:
        keys = {h.key for h in holdings if h.item_kind == ITEM_PARTY}
        flow_targets = {edge.target for edge in self.graph.flows()}
        for activity in self.activities:
            # a recipient with no catalogued flow may receive anything the activity processes
            keys.update(k for p in self.facts.activity_recipients.get(activity.id, ()) if (k := node_key(NodeKind.PARTY, p)) not in flow_targets)
        recipients = []
        for key in sorted(keys):
            node = self.graph.node(key)
            recipients.append(DsarRecipient(key, node["label"], node["role"], node["countries"], node["role"] != PartyRole.PUBLIC_AUTHORITY.value))
        return recipients

    def rights(self, recipients: list[DsarRecipient]) -> list[DsarRight]:
        notify = tuple(r.name for r in recipients if r.notify)
        result = []
        for right in NOTIFIED_RIGHTS:
            applies = tuple(a.id for a in self.activities if right in rights_available(a.lawful_basis))
            result.append(DsarRight(right.name, right.article, applies, notify if applies else ()))
        return result


def dsar_map(source: Session | CatalogFacts, subject: str = "customer", category: str | None = None) -> DsarMap:
    """Where the data of one kind of subject (optionally one category and its descendants) is held.

    Unknown subject or category keys raise catalog.taxonomy.UnknownTaxonomyKey with the nearest key.
    """
    facts = source if isinstance(source, CatalogFacts) else CatalogFacts.load(source)
    facts.taxonomy.check(TaxonomyKind.DATA_SUBJECT, subject)
    if category:
        facts.taxonomy.check(TaxonomyKind.DATA_CATEGORY, category)
    mapper = _Mapper(facts, subject, category)
    held = mapper.held()
    holdings = sorted(held + mapper.reached(held), key=lambda h: ({HELD: 0, COPY: 1, RECEIVED: 2, SUB_PROCESSOR: 3}[h.how], h.location))
    recipients = mapper.recipients(holdings)
    return DsarMap(
        subject=subject, category=category, activities=tuple(a.id for a in mapper.activities), holdings=tuple(holdings),
        recipients=tuple(recipients), rights=tuple(mapper.rights(recipients)),
    )

