"""The personal-data flow graph: a thin typed wrapper over a networkx MultiDiGraph.

Nodes are systems, datasets, fields, parties and locations; edges say where a system is hosted
and where data flows. What contains what (system -> dataset -> field) is a two-level tree kept as
an index beside the graph: as edges it would cost a million of them and several seconds to load. Every question the product answers about lineage and
transfers is a networkx query on this graph (views, BFS with depth limits), never a hand-written
traversal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from operator import attrgetter
from typing import Any

import networkx as nx
from sqlmodel import Session, select

from catalog.models import (
    ActivityRecipient,
    ActivitySystem,
    DataField,
    Dataset,
    FieldLineage,
    Flow,
    Location,
    Organisation,
    Party,
    ProcessingActivity,
    System,
    SystemLocation,
)
from catalog.collector import collector_paused
from catalog.snapshot import current_rows


class NodeKind(StrEnum):
    """What a node stands for."""

    SYSTEM = "system"
    DATASET = "dataset"
    FIELD = "field"
    PARTY = "party"
    LOCATION = "location"


class EdgeKind(StrEnum):
    """What an edge says."""

    HOSTED_IN = "hosted_in"    # system -> location
    FLOWS_TO = "flows_to"      # system/party -> system/party, or field -> field


def node_key(kind: NodeKind | str, ident: Any) -> str:
    """The graph key of an entity, e.g. ``system:crm`` or ``field:17``."""
    return f"{kind if type(kind) is NodeKind else NodeKind(kind)}:{ident}"


@dataclass(frozen=True)
class FlowEdge:
    """A system- or party-level flow as stored on the graph."""

    source: str
    target: str
    data: dict[str, Any]

    @property
    def flow_id(self) -> str:
        return self.data["flow_id"]


@dataclass(frozen=True)
class ActivityLinks:
    """A processing activity's systems and declared recipients, as graph keys."""

    id: str
    name: str
    role: str
    systems: tuple[str, ...]
    recipients: tuple[str, ...]


@dataclass
class CurrentRows:
    """The current entries the graph was built from, read once: the rules and the record reuse them
    rather than reading a million fields again. Entries are read-only named tuples (see
    :func:`catalog.snapshot.current_rows`: JSON lists are tuples), links plain rows."""

    locations: dict[str, Location] = field(default_factory=dict)
    """Current locations (data centres, offices, cloud regions) by id."""
    systems: dict[str, System] = field(default_factory=dict)
    """Current systems by id."""
    parties: dict[str, Party] = field(default_factory=dict)
    """Current parties by id."""
    activities: dict[str, ProcessingActivity] = field(default_factory=dict)
    """Current processing activities by id."""
    datasets: dict[int, Any] = field(default_factory=dict)
    """Datasets of current systems by id."""
    fields: dict[int, Any] = field(default_factory=dict)
    """Fields of those datasets by id."""
    flows: dict[str, Flow] = field(default_factory=dict)
    """Flows whose two ends are current, by id."""
    activity_systems: list[ActivitySystem] = field(default_factory=list)
    """Activity-system links."""
    activity_recipients: list[ActivityRecipient] = field(default_factory=list)
    """Activity-recipient links (Article 30(1)(d))."""


def _activity_links(rows: CurrentRows, graph: nx.MultiDiGraph) -> dict[str, ActivityLinks]:
    """Each current activity with the systems and recipients that are current too."""
    systems: dict[str, list[str]] = {}
    for link in rows.activity_systems:
        systems.setdefault(link.activity_id, []).append(node_key(NodeKind.SYSTEM, link.system_id))
    recipients: dict[str, list[str]] = {}
    for link in rows.activity_recipients:
        recipients.setdefault(link.activity_id, []).append(node_key(NodeKind.PARTY, link.party_id))
    return {
        activity.id: ActivityLinks(
            activity.id, activity.name, activity.role,
            tuple(sorted(k for k in systems.get(activity.id, []) if k in graph)),
            tuple(sorted(k for k in recipients.get(activity.id, []) if k in graph)),
        )
        for activity in sorted(rows.activities.values(), key=lambda activity: activity.id)
    }


class CatalogGraph:
    """The catalogue as a graph, built from the current (non-retired) entries of the store."""

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        organisation: Organisation | None = None,
        activities: dict[str, ActivityLinks] | None = None,
        *,
        containment: dict[str, list[str]] | None = None,
        categories_by_system: dict[str, frozenset[str]] | None = None,
        rows: CurrentRows | None = None,
    ):
        self.graph = graph
        self.organisation = organisation
        self.activities = activities or {}
        self.containment = containment or {}
        """System key -> its dataset keys; dataset key -> its field keys."""
        self._categories_by_system = categories_by_system or {}
        self.rows = rows or CurrentRows()
        """The current entries the graph was built from."""

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def load(cls, session: Session) -> CatalogGraph:
        """Read the store once and build the graph (with the cyclic collector paused: every object
        made here lives on, and rescanning them costs a third of the build)."""
        with collector_paused():
            return cls._load(session)

    @classmethod
    def _load(cls, session: Session) -> CatalogGraph:
        graph = nx.MultiDiGraph()
        organisation = session.exec(Organisation.current().order_by(Organisation.id)).first()
        rows = CurrentRows()
        locations = rows.locations = {row.id: row for row in current_rows(session, Location)}
        for location in locations.values():
            graph.add_node(
                node_key(NodeKind.LOCATION, location.id), kind=NodeKind.LOCATION, id=location.id, label=location.name,
                countries=(location.country,), country=location.country, provider=location.provider, city=location.city,
            )
        hosting: dict[str, list[str]] = {}
        for link in session.execute(select(SystemLocation.__table__)).all():
            if link.location_id in locations:
                hosting.setdefault(link.system_id, []).append(link.location_id)
        home = (organisation.country,) if organisation else ()
        rows.systems = {system.id: system for system in current_rows(session, System)}
        for system in rows.systems.values():
            where = tuple(sorted(hosting.get(system.id, [])))
            countries = tuple(sorted({locations[l].country for l in where})) or home
            key = node_key(NodeKind.SYSTEM, system.id)
            graph.add_node(
                key, kind=NodeKind.SYSTEM, id=system.id, label=system.name, countries=countries, role=system.role,
                status=system.status, owner_team=system.owner_team, owner_email=system.owner_email, locations=where,
            )
            for location_id in where:
                graph.add_edge(key, node_key(NodeKind.LOCATION, location_id), kind=EdgeKind.HOSTED_IN)
        rows.parties = {party.id: party for party in current_rows(session, Party)}
        for party in rows.parties.values():
            countries = tuple(dict.fromkeys([party.country, *party.processing_countries]))
            graph.add_node(
                node_key(NodeKind.PARTY, party.id), kind=NodeKind.PARTY, id=party.id, label=party.name, countries=countries,
                country=party.country, role=party.role, parent_id=party.parent_id,
                certifications=tuple(party.certifications), transfer_mechanism=party.transfer_mechanism,
                transfer_assessment_ref=party.transfer_assessment_ref, contract_ref=party.contract_ref,
            )
        datasets = rows.datasets = {row.id: row for row in current_rows(session, Dataset) if row.system_id in rows.systems}
        rows.fields = {row.id: row for row in current_rows(session, DataField) if row.dataset_id in datasets}
        # The loops below spell keys out and keep per-dataset values at hand: they run a million times.
        system_prefix, dataset_prefix, field_prefix = f"{NodeKind.SYSTEM}:", f"{NodeKind.DATASET}:", f"{NodeKind.FIELD}:"
        containment: dict[str, list[str]] = {}
        per_dataset: dict[int, tuple[list[str], str, tuple[str, ...]]] = {}  # dataset id -> (its field keys, path prefix, countries)
        dataset_nodes = []
        for dataset in datasets.values():
            system_key, key = system_prefix + dataset.system_id, f"{dataset_prefix}{dataset.id}"
            countries = graph.nodes[system_key]["countries"]
            containment.setdefault(system_key, []).append(key)
            per_dataset[dataset.id] = (containment.setdefault(key, []), f"{dataset.system_id}.{dataset.name}.", countries)
            dataset_nodes.append((key, {
                "kind": NodeKind.DATASET, "id": dataset.id, "label": dataset.name, "system_id": dataset.system_id,
                "name": dataset.name, "countries": countries,
            }))
        graph.add_nodes_from(dataset_nodes)
        field_nodes = []
        held: dict[str, set[tuple[str, ...]]] = {}  # category lists per system (shared tuples, so few)
        for item in rows.fields.values():
            dataset = datasets[item.dataset_id]
            children, path_prefix, countries = per_dataset[item.dataset_id]
            key = f"{field_prefix}{item.id}"
            children.append(key)
            field_nodes.append((key, {
                "kind": NodeKind.FIELD, "id": item.id, "label": item.name, "path": path_prefix + item.name,
                "categories": item.data_categories or (), "pseudonymised": item.pseudonymised,
                "countries": countries, "system_id": dataset.system_id, "dataset_id": item.dataset_id,
            }))
            if item.data_categories:
                held.setdefault(dataset.system_id, set()).add(item.data_categories)
        graph.add_nodes_from(field_nodes)
        del dataset_nodes, field_nodes
        for flow in sorted(current_rows(session, Flow), key=attrgetter("id")):
            source = node_key(NodeKind.SYSTEM, flow.source_system_id)
            target = node_key(NodeKind.SYSTEM, flow.target_system_id) if flow.target_system_id else node_key(NodeKind.PARTY, flow.target_party_id)
            if source not in graph or target not in graph:
                continue  # an end was retired: the flow no longer happens
            rows.flows[flow.id] = flow
            graph.add_edge(
                source, target, key=flow.id, kind=EdgeKind.FLOWS_TO, flow_id=flow.id, categories=tuple(flow.data_categories),
                mechanism=flow.mechanism, activity_id=flow.activity_id, encrypted=flow.encrypted_in_transit,
                transfer_mechanism=flow.transfer_mechanism, transfer_assessment_ref=flow.transfer_assessment_ref,
            )
        for lineage in current_rows(session, FieldLineage):
            source, target = node_key(NodeKind.FIELD, lineage.source_field_id), node_key(NodeKind.FIELD, lineage.target_field_id)
            if source in graph and target in graph:
                graph.add_edge(source, target, kind=EdgeKind.FLOWS_TO, transformation=lineage.transformation, masking=lineage.masking)
        rows.activities = {activity.id: activity for activity in current_rows(session, ProcessingActivity)}
        rows.activity_systems = session.execute(select(ActivitySystem.__table__)).all()
        rows.activity_recipients = session.execute(select(ActivityRecipient.__table__)).all()
        categories_by_system = {
            node_key(NodeKind.SYSTEM, system_id): frozenset(key for categories in lists for key in categories) for system_id, lists in held.items()
        }
        return cls(graph, organisation, _activity_links(rows, graph), containment=containment, categories_by_system=categories_by_system, rows=rows)

    # ---- reading --------------------------------------------------------------------------
    @property
    def regimes(self) -> tuple[str, ...]:
        """Regimes the organisation keeps its record under (UK GDPR when unknown)."""
        if self.organisation and self.organisation.regimes:
            return tuple(self.organisation.regimes)
        return ("uk_gdpr",)

    def node(self, key: str) -> dict[str, Any]:
        return self.graph.nodes[key]

    @cached_property
    def _nodes_by_kind(self) -> dict[NodeKind, list[str]]:
        by_kind: dict[NodeKind, list[str]] = {kind: [] for kind in NodeKind}
        for key, kind in self.graph.nodes(data="kind"):
            by_kind[kind].append(key)
        return {kind: sorted(keys) for kind, keys in by_kind.items()}

    def nodes_of(self, kind: NodeKind) -> list[str]:
        """Keys of all nodes of one kind, sorted (indexed once: a million field nodes)."""
        return list(self._nodes_by_kind[NodeKind(kind)])

    @cached_property
    def _flows(self) -> tuple[FlowEdge, ...]:
        edges = [
            FlowEdge(source, target, data)
            for source, target, data in self.graph.edges(data=True)
            if data["kind"] == EdgeKind.FLOWS_TO and "flow_id" in data
        ]
        return tuple(sorted(edges, key=lambda edge: edge.flow_id))

    def flows(self) -> list[FlowEdge]:
        """System- and party-level flows, in flow id order (collected once: the graph is not
        changed after loading)."""
        return list(self._flows)

    @cached_property
    def _field_lineage(self) -> tuple[tuple[str, str, dict[str, Any]], ...]:
        return tuple(
            (source, target, data) for source, target, data in self.graph.edges(data=True)
            if data["kind"] == EdgeKind.FLOWS_TO and "flow_id" not in data
        )

    def field_lineage(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Field-to-field lineage edges (source key, target key, data), collected once."""
        return list(self._field_lineage)

    def flow_view(self) -> nx.MultiDiGraph:
        """Read-only view of the system/party flows alone. Its nodes are named by set (show_nodes),
        so iterating the view visits the systems and parties, not every field of the catalogue."""
        return nx.subgraph_view(
            self.graph,
            filter_node=nx.filters.show_nodes(self._nodes_by_kind[NodeKind.SYSTEM] + self._nodes_by_kind[NodeKind.PARTY]),
            filter_edge=lambda u, v, k: self.graph.edges[u, v, k]["kind"] == EdgeKind.FLOWS_TO,
        )

    def field_lineage_view(self) -> nx.MultiDiGraph:
        """Read-only view of field-to-field lineage: the fields that lineage joins, and its edges."""
        return nx.subgraph_view(
            self.graph,
            filter_node=nx.filters.show_nodes([key for edge in self._field_lineage for key in edge[:2]]),
            filter_edge=lambda u, v, k: self.graph.edges[u, v, k]["kind"] == EdgeKind.FLOWS_TO,
        )

    def _reach(self, view: nx.MultiDiGraph, key: str, depth: int | None) -> set[str]:
        if key not in view:
            return set()  # a field no lineage joins
        if depth is None:
            return nx.descendants(view, key)
        return set(nx.bfs_tree(view, key, depth_limit=depth)) - {key}

    def descendants(self, key: str, depth: int | None = None) -> set[str]:
        """Where data at ``key`` flows, up to ``depth`` hops (all when None)."""
        view = self.field_lineage_view() if self.node(key)["kind"] == NodeKind.FIELD else self.flow_view()
        return self._reach(view, key, depth)

    def ancestors(self, key: str, depth: int | None = None) -> set[str]:
        """Where data at ``key`` comes from, up to ``depth`` hops (all when None)."""
        view = self.field_lineage_view() if self.node(key)["kind"] == NodeKind.FIELD else self.flow_view()
        return self._reach(view.reverse(copy=False), key, depth)

    def contained(self, key: str) -> list[str]:
        """Datasets and fields inside a system (or fields inside a dataset)."""
        inside = list(self.containment.get(key, ()))
        for child in list(inside):
            inside += self.containment.get(child, ())
        return sorted(inside)

    def categories_held(self, system_key: str) -> set[str]:
        """Data categories on the fields of a system."""
        return set(self._categories_by_system.get(system_key, ()))

    @cached_property
    def engagement(self) -> nx.DiGraph:
        """Processor -> sub-processor edges between parties (who engaged whom), built once."""
        chain = nx.DiGraph()
        for key in self.nodes_of(NodeKind.PARTY):
            parent = self.graph.nodes[key].get("parent_id")
            if parent and node_key(NodeKind.PARTY, parent) in self.graph:
                chain.add_edge(node_key(NodeKind.PARTY, parent), key)
        return chain

    def sub_processors(self, party_key: str) -> list[str]:
        """Parties engaged under this party, at any depth (its sub-processor chain)."""
        return sorted(nx.descendants(self.engagement, party_key)) if party_key in self.engagement else []

    def sub_processor_chain(self, party_key: str) -> list[str]:
        """The engagement path from the top processor down to ``party_key`` (itself last)."""
        if party_key not in self.engagement:
            return [party_key]
        roots = [n for n in nx.ancestors(self.engagement, party_key) if self.engagement.in_degree(n) == 0]
        return nx.shortest_path(self.engagement, min(roots), party_key) if roots else [party_key]

    def labels(self, keys: Iterable[str]) -> list[str]:
        return [self.graph.nodes[key]["label"] for key in keys]
