"""Lineage: where data at one system, dataset or field goes to, or comes from.

Answered on views of the catalogue graph with networkx (BFS with a depth limit for the closure,
``nx.shortest_path`` for the path to each node), never with a hand-written traversal. System
queries follow flows; field queries follow field lineage, then, from the system holding each field
reached, the flows that carry the field's categories (most flows are catalogued between systems,
not between fields); dataset queries follow field lineage collapsed to datasets. System-level views collapse field lineage too: a lineage edge between
fields of two systems shows as a system -> system edge, so a copy made by a pipeline that is not
catalogued as a flow is still seen.

Along each path the result says which categories each step carries, where the data crosses a
border (the countries of two consecutive nodes differ) and where it becomes pseudonymised (a
lineage step with ``masking``, or a pseudonymised target field).
"""

from __future__ import annotations

import functools
import weakref

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import networkx as nx

from catalog.graph import CatalogGraph, EdgeKind, NodeKind, node_key
from catalog.suggest import nearest
from catalog.taxonomy import Taxonomy


class Direction(StrEnum):
    """Which way to follow the data."""

    DOWNSTREAM = "downstream"
    UPSTREAM = "upstream"
    BOTH = "both"


class UnknownNodeError(LookupError):
    """The text names no system, party, dataset or field; carries the nearest name, if any."""

    def __init__(self, text: str, suggestion: str | None = None, candidates: tuple[str, ...] = ()):
        self.text, self.suggestion, self.candidates = text, suggestion, candidates
        if candidates:
            hint = f"it could be any of {', '.join(candidates)}; give the node key"
            message = f"'{text}' is ambiguous: {hint}"
        else:
            hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
            message = f"unknown system, dataset or field '{text}'{hint}"
        super().__init__(message)


@dataclass(frozen=True)
class LineageStep:
    """One hop along a lineage path, in the direction the data moves."""

    source: str
    """Node key the data leaves."""
    target: str
    """Node key the data reaches."""
    categories: tuple[str, ...]
    """Data categories carried by this hop (union over parallel flows)."""
    source_countries: tuple[str, ...]
    """Countries of the source node."""
    target_countries: tuple[str, ...]
    """Countries of the target node."""
    pseudonymised: bool
    """Whether the data is pseudonymised by this hop (masking lineage, or a pseudonymised target field)."""
    via: tuple[str, ...]
    """What makes the hop: flow ids, or 'field lineage' for collapsed field-lineage edges."""

    @property
    def crosses_border(self) -> bool:
        """The countries of the two ends differ: the hop may be an international transfer."""
        return set(self.source_countries) != set(self.target_countries)


@dataclass(frozen=True)
class LineageNode:
    """A node reached from the query node, with the shortest path that reaches it."""

    key: str
    """Graph key of the reached node, e.g. ``system:backup``."""
    kind: str
    """NodeKind value of the reached node."""
    label: str
    """Display name (a field's ``system.dataset.field`` path)."""
    direction: Direction
    """DOWNSTREAM when data flows from the query node to this one, UPSTREAM when it flows here from it."""
    path: tuple[str, ...]
    """Node keys in the direction the data moves (upstream paths end at the query node)."""
    steps: tuple[LineageStep, ...]
    """The hops of ``path``."""

    @property
    def depth(self) -> int:
        """Number of hops from the query node."""
        return len(self.steps)

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories carried on the last hop into (downstream) or out of (upstream) this node."""
        step = self.steps[-1] if self.direction == Direction.DOWNSTREAM else self.steps[0]
        return step.categories

    @property
    def border_crossings(self) -> tuple[LineageStep, ...]:
        return tuple(step for step in self.steps if step.crosses_border)

    @property
    def pseudonymised_at(self) -> tuple[LineageStep, ...]:
        return tuple(step for step in self.steps if step.pseudonymised)


@dataclass(frozen=True)
class LineageResult:
    """The closure of one lineage query, ready for a table, JSON or Graphviz."""

    start: str
    """Node key of the query node."""
    start_label: str
    """Display name of the query node."""
    direction: Direction
    """Direction asked for."""
    depth: int | None
    """Hop limit asked for (None: unlimited)."""
    nodes: tuple[LineageNode, ...]
    """Every node reached, sorted by direction, depth and key."""
    labels: dict[str, str]
    """Display names of every node on every path, for output."""

    def keys(self, direction: Direction | None = None) -> set[str]:
        """Keys reached, optionally in one direction only."""
        return {node.key for node in self.nodes if direction is None or node.direction == direction}

    def node(self, key: str, direction: Direction = Direction.DOWNSTREAM) -> LineageNode:
        return next(node for node in self.nodes if node.key == key and node.direction == direction)

    def _path_text(self, node: LineageNode) -> str:
        return " -> ".join(self.labels[key] for key in node.path)

    def as_table_rows(self) -> list[dict[str, Any]]:
        """One row per reached node: direction, depth, node, path, categories, borders, pseudonymisation."""
        rows = []
        for node in self.nodes:
            rows.append({
                "direction": node.direction.value,
                "depth": node.depth,
                "node": node.label,
                "kind": node.kind,
                "path": self._path_text(node),
                "categories": ", ".join(node.categories),
                "border_crossings": "; ".join(
                    f"{self.labels[s.source]} ({'/'.join(s.source_countries) or '?'}) -> {self.labels[s.target]} ({'/'.join(s.target_countries) or '?'})"
                    for s in node.border_crossings
                ),
                "pseudonymised_at": "; ".join(f"{self.labels[s.source]} -> {self.labels[s.target]}" for s in node.pseudonymised_at),
            })
        return rows

    def as_dict(self) -> dict[str, Any]:
        def step(s: LineageStep) -> dict[str, Any]:
            return {
                "from": s.source, "to": s.target, "categories": list(s.categories),
                "from_countries": list(s.source_countries), "to_countries": list(s.target_countries),
                "crosses_border": s.crosses_border, "pseudonymised": s.pseudonymised, "via": list(s.via),
            }

        return {
            "start": self.start, "start_label": self.start_label, "direction": self.direction.value, "depth": self.depth,
            "nodes": [
                {
                    "key": n.key, "kind": n.kind, "label": n.label, "direction": n.direction.value, "depth": n.depth,
                    "path": list(n.path), "categories": list(n.categories), "steps": [step(s) for s in n.steps],
                    "crosses_border": bool(n.border_crossings), "pseudonymised": bool(n.pseudonymised_at),
                }
                for n in self.nodes
            ],
        }

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def as_dot(self) -> str:
        """Graphviz source: the query node bold, border crossings red, pseudonymising hops dashed."""
        def quoted(text: str) -> str:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

        steps: dict[tuple[str, str], LineageStep] = {}
        for node in self.nodes:
            for s in node.steps:
                steps[(s.source, s.target)] = s
        keys = sorted({self.start} | {k for pair in steps for k in pair})
        lines = ["digraph lineage {", "  rankdir=LR;", "  node [shape=box];"]
        for key in keys:
            style = ", style=bold" if key == self.start else ""
            lines.append(f"  {quoted(key)} [label={quoted(self.labels[key])}{style}];")
        for (source, target), s in sorted(steps.items()):
            attributes = [f"label={quoted(', '.join(s.categories))}"]
            if s.crosses_border:
                attributes.append("color=red")
            if s.pseudonymised:
                attributes.append("style=dashed")
            lines.append(f"  {quoted(source)} -> {quoted(target)} [{', '.join(attributes)}];")
        lines.append("}")
        return "\n".join(lines) + "\n"


# ---- views -------------------------------------------------------------------------------------


def _owner(graph: CatalogGraph, field_key: str, kind: NodeKind) -> str:
    """The system or dataset a field belongs to."""
    data = graph.node(field_key)
    return node_key(NodeKind.DATASET, data["dataset_id"]) if kind == NodeKind.DATASET else node_key(NodeKind.SYSTEM, data["system_id"])


def _collapsed_lineage(graph: CatalogGraph, kind: NodeKind) -> nx.MultiDiGraph:
    """Field lineage lifted to datasets or systems: one edge per field-lineage edge between two owners."""
    lifted = nx.MultiDiGraph()
    for source, target, data in graph.field_lineage():
        upper_source, upper_target = _owner(graph, source, kind), _owner(graph, target, kind)
        if upper_source == upper_target:
            continue
        lifted.add_edge(
            upper_source, upper_target, kind=EdgeKind.FLOWS_TO, via="field lineage",
            categories=graph.node(source).get("categories", ()),
            pseudonymised=bool(data.get("masking")) or bool(graph.node(target).get("pseudonymised")),
        )
    return lifted


def _per_graph(build):
    """Cache a derived structure per CatalogGraph (and argument): a graph is never mutated after
    loading, and rebuilding views and name indexes on every query made each one scan the catalogue."""
    cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @functools.wraps(build)
    def cached(graph: CatalogGraph, *args):
        per_graph = cache.setdefault(graph, {})
        if args not in per_graph:
            per_graph[args] = build(graph, *args)
        return per_graph[args]

    return cached


@_per_graph
def lineage_view(graph: CatalogGraph, kind: NodeKind) -> nx.MultiDiGraph:
    """The graph a query on a node of this kind runs on (node attributes are the catalogue's)."""
    if kind == NodeKind.FIELD:
        view = nx.MultiDiGraph()  # the fields lineage joins: a field outside it has no lineage
        view.add_nodes_from((key, graph.node(key)) for edge in graph.field_lineage() for key in edge[:2])
        for source, target, data in graph.field_lineage():
            view.add_edge(
                source, target, via="field lineage", categories=graph.node(source).get("categories", ()),
                pseudonymised=bool(data.get("masking")) or bool(graph.node(target).get("pseudonymised")),
            )
        return view
    if kind == NodeKind.DATASET:
        view = nx.MultiDiGraph()
        view.add_nodes_from((key, graph.node(key)) for key in graph.nodes_of(NodeKind.DATASET))
        view.add_edges_from(_collapsed_lineage(graph, NodeKind.DATASET).edges(data=True))
        return view
    flows = graph.flow_view()
    view = nx.MultiDiGraph()
    view.add_nodes_from(flows.nodes(data=True))
    for source, target, data in flows.edges(data=True):
        view.add_edge(source, target, via=data["flow_id"], categories=data.get("categories", ()), pseudonymised=False)
    view.add_edges_from(_collapsed_lineage(graph, NodeKind.SYSTEM).edges(data=True))
    return view


# ---- resolving what the user typed ---------------------------------------------------------------


@_per_graph
def _names(graph: CatalogGraph) -> dict[str, list[str]]:
    """Every way a node can be named (key, id, dataset path, field path) -> node keys."""
    names: dict[str, list[str]] = {}
    for key, data in graph.graph.nodes(data=True):
        if data["kind"] == NodeKind.LOCATION:
            continue
        spellings = {key, str(data["id"])}
        if data["kind"] == NodeKind.DATASET:
            spellings.add(f"{data['system_id']}.{data['name']}")
        if data["kind"] == NodeKind.FIELD:
            spellings.add(data["path"])
        for spelling in spellings:
            names.setdefault(spelling, []).append(key)
    return names


def resolve_node(graph: CatalogGraph, text: str) -> str:
    """The node key for a key (``system:crm``), an id (``crm``, ``17``) or a path (``crm.contacts.email``).

    Raises UnknownNodeError with the nearest name when nothing matches, or listing the keys when
    an id names more than one node (a dataset and a field may share a number).
    """
    text = text.strip()
    if text in graph.graph and graph.node(text)["kind"] != NodeKind.LOCATION:
        return text  # a node key (kind:id): ids have no colon and paths have dots, so none is spelt like one
    names = _names(graph)
    found = sorted(set(names.get(text, ())))
    if len(found) == 1:
        return found[0]
    if found:
        raise UnknownNodeError(text, candidates=tuple(found))
    raise UnknownNodeError(text, nearest(text, names))


# ---- the query ---------------------------------------------------------------------------------------


def _label(graph: CatalogGraph, key: str) -> str:
    data = graph.node(key)
    return data.get("path") or (f"{data['system_id']}.{data['name']}" if data["kind"] == NodeKind.DATASET else data["label"])


def _step(view: nx.MultiDiGraph, graph: CatalogGraph, source: str, target: str) -> LineageStep:
    parallel = view.get_edge_data(source, target).values()
    categories = sorted({c for data in parallel for c in data.get("categories", ())})
    return LineageStep(
        source=source, target=target, categories=tuple(categories),
        source_countries=tuple(graph.node(source).get("countries", ())),
        target_countries=tuple(graph.node(target).get("countries", ())),
        pseudonymised=any(data.get("pseudonymised") for data in parallel),
        via=tuple(sorted({data["via"] for data in parallel})),
    )


HELD_IN = "held in"


def _near_field(graph: CatalogGraph, start: str, direction: Direction) -> nx.MultiDiGraph:
    """The small part of a field query: the field lineage around ``start`` and a hop between each
    of those fields and the system holding it (field to system downstream, system to field upstream)."""
    lineage_only = lineage_view(graph, NodeKind.FIELD)
    if start in lineage_only:
        around = nx.descendants(lineage_only, start) if direction == Direction.DOWNSTREAM else nx.ancestors(lineage_only, start)
        view = nx.MultiDiGraph(lineage_only.subgraph({start, *around}))
    else:
        view = nx.MultiDiGraph()
        view.add_node(start, **graph.node(start))
    for field_key in list(view.nodes):
        field = graph.node(field_key)
        system = node_key(NodeKind.SYSTEM, field["system_id"])
        ends = (field_key, system) if direction == Direction.DOWNSTREAM else (system, field_key)
        view.add_node(system, **graph.node(system))
        view.add_edge(*ends, via=HELD_IN, categories=field.get("categories", ()), pseudonymised=bool(field.get("pseudonymised")))
    return view


def _carrying(graph: CatalogGraph, categories: tuple[str, ...]) -> nx.MultiDiGraph:
    """The system-level lineage edges that carry one of ``categories`` or do not say what they
    carry: a filtered view, so a query only looks at the edges it walks."""
    flows = lineage_view(graph, NodeKind.SYSTEM)

    def carries(u: str, v: str, k: Any) -> bool:
        carried = flows.edges[u, v, k].get("categories", ())
        return not carried or any(Taxonomy.overlaps(a, b) for a in carried for b in categories)

    return nx.subgraph_view(flows, filter_edge=carries)


def _field_closure(graph: CatalogGraph, start: str, direction: Direction, depth: int | None) -> list[LineageNode]:
    """A field's lineage, then the flows that carry its categories from each system holding a field
    reached: shortest paths in the small field part, continued by shortest paths in the flows."""
    downstream = direction == Direction.DOWNSTREAM
    near = _near_field(graph, start, direction)
    walked = nx.single_source_shortest_path(near if downstream else near.reverse(copy=False), start, cutoff=depth)
    wanted = tuple(sorted(graph.node(start).get("categories", ())))
    far = _carrying(graph, wanted) if wanted else None  # no categories: no flow is known to carry it
    if far is not None:
        walk_far = far if downstream else far.reverse(copy=False)
        for system in sorted(key for key in list(walked) if key in far):
            head = walked[system]
            left = None if depth is None else depth - (len(head) - 1)
            for key, tail in nx.single_source_shortest_path(walk_far, system, cutoff=left).items():
                if key not in walked or len(head) + len(tail) - 1 < len(walked[key]):
                    walked[key] = head + tail[1:]
    nodes = []
    for key, path in walked.items():
        if key == start:
            continue
        path = path if downstream else path[::-1]
        steps = tuple(_step(near if near.has_edge(a, b) else far, graph, a, b) for a, b in zip(path, path[1:]))
        nodes.append(LineageNode(key, str(graph.node(key)["kind"]), _label(graph, key), direction, tuple(path), steps))
    return nodes


def _closure(view: nx.MultiDiGraph, graph: CatalogGraph, start: str, direction: Direction, depth: int | None) -> list[LineageNode]:
    if start not in view:
        return []  # a field no lineage joins
    walk = view if direction == Direction.DOWNSTREAM else view.reverse(copy=False)
    reached = set(nx.bfs_tree(walk, start, depth_limit=depth)) - {start}
    nodes = []
    for key in reached:
        path = nx.shortest_path(view, start, key) if direction == Direction.DOWNSTREAM else nx.shortest_path(view, key, start)
        steps = tuple(_step(view, graph, a, b) for a, b in zip(path, path[1:]))
        nodes.append(LineageNode(key, str(graph.node(key)["kind"]), _label(graph, key), direction, tuple(path), steps))
    return nodes


def lineage(graph: CatalogGraph, node: str, direction: Direction | str = Direction.DOWNSTREAM, depth: int | None = None) -> LineageResult:
    """Every node data at ``node`` reaches (downstream) or comes from (upstream), within ``depth`` hops.

    Cycles (a -> b -> a) terminate: BFS visits each node once and the query node is left out.
    """
    direction = Direction(direction)
    if depth is not None and depth < 0:
        raise ValueError("depth must be 0 or more")
    start = resolve_node(graph, node)
    kind = NodeKind(graph.node(start)["kind"])
    directions = [Direction.DOWNSTREAM, Direction.UPSTREAM] if direction == Direction.BOTH else [direction]
    nodes = [
        found for d in directions
        for found in (_field_closure(graph, start, d, depth) if kind == NodeKind.FIELD else _closure(lineage_view(graph, kind), graph, start, d, depth))
    ]
    nodes.sort(key=lambda n: (n.direction != Direction.DOWNSTREAM, n.depth, n.key))
    on_paths = {start} | {key for n in nodes for key in n.path}
    return LineageResult(
        start=start, start_label=_label(graph, start), direction=direction, depth=depth, nodes=tuple(nodes),
        labels={key: _label(graph, key) for key in on_paths},
    )
