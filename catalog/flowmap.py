"""The data-flow map: the catalogue's flows drawn as a Graphviz digraph (DOT source only).

Our systems are clustered by country and, inside each country, by the data centre or region that
hosts them; parties sit in the cluster of the country that receives the data. Each flow is an edge
labelled with the data categories it carries and coloured by its worst transfer status, so a
restricted transfer with no mechanism on record stands out in red. Onward transfers from a
processor to its sub-processors are drawn dashed.

Large catalogues stay drawable: beyond a budget of edges (300 by default) the map groups systems
by data centre, then everything by country, and merges parallel flows into one edge with their
count; one country can then be drilled into, or one system's neighbourhood drawn (focus mode).
The result says which level was drawn and how many edges it holds (never more than the budget).

The dashboard and ``ropa export map`` share this builder. Catalogue text always goes through
:func:`_label` (escaped, never an HTML-like label), and everything is emitted in sorted order so
the same catalogue always gives byte-identical DOT.
"""

from __future__ import annotations

import hashlib
import math
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple

import graphviz

from catalog.graph import CatalogGraph, FlowEdge, NodeKind, node_key
from catalog.jurisdictions import load_jurisdictions
from catalog.taxonomy import Taxonomy, TaxonomyKind, load_taxonomy
from catalog.transfers import Transfer
from catalog.vocab import FlowMechanism, PartyRole, TransferMechanism

#: Edge labels list at most this many categories, then "+N more", so the map stays readable.
MAX_EDGE_CATEGORIES = 4

FONT = "Helvetica"


class FlowStatus(StrEnum):
    """How a flow is coloured: its worst transfer status under the regimes the organisation keeps."""

    GAP = "gap"
    MECHANISM = "mechanism"
    ADEQUATE = "adequate"
    DOMESTIC = "domestic"

    @property
    def colour(self) -> str:
        return _STATUS_COLOURS[self]

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def severity(self) -> int:
        """Higher is worse; the worst status of a flow's transfers decides its colour."""
        return list(reversed(FlowStatus)).index(self)


_STATUS_COLOURS = {
    FlowStatus.GAP: "red",
    FlowStatus.MECHANISM: "darkorange",
    FlowStatus.ADEQUATE: "blue",
    FlowStatus.DOMESTIC: "grey50",
}
_STATUS_LABELS = {
    FlowStatus.GAP: "Restricted transfer, no mechanism on record covers it (gap)",
    FlowStatus.MECHANISM: "Restricted transfer, covered by a mechanism on record",
    FlowStatus.ADEQUATE: "Cross-border, not restricted (adequacy or within the EEA)",
    FlowStatus.DOMESTIC: "Domestic (no transfer)",
}

SYSTEM_SHAPE = {"shape": "box", "style": "rounded,filled", "fillcolor": "white"}
PARTY_SHAPE = {"shape": "component", "style": "filled", "fillcolor": "lightyellow"}


def transfer_status(transfer: Transfer) -> FlowStatus:
    """Colour class of one transfer (only the regimes the organisation keeps count; a mechanism
    that covers one regime only, such as the UK IDTA, leaves a gap under the other)."""
    if transfer.has_gap:
        return FlowStatus.GAP
    if transfer.restricted_under:
        return FlowStatus.MECHANISM
    return FlowStatus.ADEQUATE


def worst_status(transfers: Iterable[Transfer]) -> FlowStatus:
    """The worst status among a flow's transfers; a flow with none is domestic."""
    return max((transfer_status(t) for t in transfers), key=lambda s: s.severity, default=FlowStatus.DOMESTIC)


@dataclass
class _Edge:
    """One drawn edge: a catalogued flow, or an onward step to a sub-processor."""

    source: str
    target: str
    categories: tuple[str, ...]
    activity_id: str | None
    transfers: list[Transfer] = field(default_factory=list)
    flow_id: str | None = None  # None for onward steps
    mechanism: str = ""
    encrypted: bool = True

    @property
    def onward(self) -> bool:
        return self.flow_id is None

    @cached_property
    def status(self) -> FlowStatus:
        """Worst status of the edge's transfers (read once its transfers are all added)."""
        return worst_status(self.transfers)


def _label(*lines: str) -> str:
    """A DOT label from catalogue text: backslashes literal, '<...>' never HTML, one line each."""
    return graphviz.nohtml("\\n".join(line.replace("\\", "\\\\") for line in lines if line))


def _enum_label(enum: type[StrEnum], value: str) -> str:
    """Label of a stored enum value; the value itself when it is not a member."""
    return enum(value).label if value in enum.choices() else value


def _dot_ids(keys: Iterable[str]) -> dict[str, str]:
    """Stable DOT ids for node keys: ':' would read as a port in an edge statement."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for key in sorted(set(keys)):
        candidate = base = key.replace(":", "__")
        suffix = 2
        while candidate in used:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        ids[key] = candidate
        used.add(candidate)
    return ids


def _cluster_id(prefix: str, ident: str) -> str:
    """A readable subgraph name (Graphviz draws a box only for names starting 'cluster');
    an id with other characters gets a hash so two ids never share one cluster."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in ident)
    if safe != ident:
        safe += "_" + hashlib.sha1(ident.encode()).hexdigest()[:8]
    return f"cluster_{prefix}_{safe}"


def _category_matches(wanted: str, carried: Iterable[str]) -> bool:
    """A flow matches a category filter if it carries the key, a narrower one, or a broader one."""
    return any(Taxonomy.overlaps(wanted, key) for key in carried)


def _short_categories(taxonomy: Taxonomy, keys: Iterable[str]) -> list[str]:
    labels = sorted({taxonomy.label(TaxonomyKind.DATA_CATEGORY, key) for key in keys})
    if len(labels) > MAX_EDGE_CATEGORIES:
        shown = MAX_EDGE_CATEGORIES - 1
        labels = [*labels[:shown], f"+{len(labels) - shown} more"]
    return labels


def _plural(count: int, one: str, many: str) -> str:
    """'1 party', '3 parties'; empty for none."""
    return f"{count} {one if count == 1 else many}" if count else ""


class MapLevel(StrEnum):
    """How finely the map is drawn: every system and party, or grouped to stay within the budget."""

    DETAIL = "detail"
    LOCATION = "location"
    COUNTRY = "country"

    @property
    def label(self) -> str:
        return _LEVEL_LABELS[self]


_LEVEL_LABELS = {
    MapLevel.DETAIL: "every system and party",
    MapLevel.LOCATION: "systems grouped by data centre, parties by country",
    MapLevel.COUNTRY: "systems and parties grouped by country",
}

#: Edges the browser is sent at most, unless the caller asks otherwise (legend edges not counted).
DEFAULT_BUDGET = 300
#: A map is also grouped when it would hold more than this many nodes per edge of budget.
NODES_PER_EDGE = 2

AGGREGATE_SHAPE = {"shape": "box3d", "style": "filled", "fillcolor": "grey92"}
FOCUS_SHAPE = {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "lightcyan", "penwidth": "2"}


@dataclass(frozen=True)
class MapFilters:
    """What the map is narrowed to; None means no filter on that axis."""

    activity: str | None = None
    """A processing activity id."""
    category: str | None = None
    """A data category key: flows carrying it, a narrower (sub-)category or a broader one match."""
    country: str | None = None
    """An ISO alpha-2 code either end of the flow is in."""
    subject: str | None = None
    """A data subject key: flows serving an activity that declares it (or a narrower one)."""
    system: str | None = None
    """A system (or party) node key or id at either end of the flow."""
    role: str | None = None
    """``system:controller``, ``party:sub_processor``..., or a bare role: the role of either end."""

    @property
    def active(self) -> bool:
        return any(value is not None for value in vars(self).values())


@dataclass(frozen=True)
class FlowMapInfo:
    """What the drawn map shows: the level it was drawn at and how many edges the browser gets."""

    level: MapLevel
    budget: int | None
    edges_total: int
    """Flows and onward steps in scope (after filters, focus and drill-down), before grouping."""
    edges_drawn: int
    """Catalogue edges in the DOT (the fixed legend is not counted); never more than the budget."""
    nodes_drawn: int
    edges_left_out: int = 0
    """Grouped edges not drawn because even the coarsest level was over the budget (least severe first)."""
    countries: tuple[str, ...] = ()
    """Countries with a system or party in scope: the clusters one can drill into."""
    focus: str | None = None
    depth: int | None = None
    drill_country: str | None = None

    @property
    def aggregated(self) -> bool:
        return self.level != MapLevel.DETAIL

    @property
    def message(self) -> str:
        """One sentence for the page: what was drawn, and what was grouped or left out."""
        if not self.aggregated and not self.edges_left_out:
            return f"{self.edges_drawn} flow(s) drawn."
        text = (
            f"{self.edges_total} flow(s) are more than the drawing budget of {self.budget} edges, so the map is "
            f"aggregated ({self.level.label}): parallel flows are drawn as one edge with their count "
            f"({self.edges_drawn} edge(s) drawn)."
        )
        if self.edges_left_out:
            text += f" The {self.edges_left_out} least severe grouped edge(s) are left out."
        if self.drill_country is None:
            text += " Choose a country to draw its systems and their flows."
        return text

    def as_dict(self) -> dict:
        return {
            "level": self.level.value, "aggregated": self.aggregated, "budget": self.budget,
            "edges_total": self.edges_total, "edges_drawn": self.edges_drawn, "nodes_drawn": self.nodes_drawn,
            "edges_left_out": self.edges_left_out, "countries": list(self.countries), "focus": self.focus,
            "depth": self.depth, "drill_country": self.drill_country,
        }


class FlowMap(NamedTuple):
    """The map: a Graphviz digraph and what it shows. ``.source`` and ``.pipe`` are the digraph's."""

    digraph: graphviz.Digraph
    info: FlowMapInfo

    @property
    def source(self) -> str:
        return self.digraph.source

    def pipe(self, *args, **kwargs):
        return self.digraph.pipe(*args, **kwargs)


@dataclass
class _Drawn:
    """One edge as drawn: a catalogue edge, or several merged between two groups."""

    source: str
    target: str
    members: list[_Edge]

    @cached_property
    def status(self) -> FlowStatus:
        return max((edge.status for edge in self.members), key=lambda status: status.severity, default=FlowStatus.DOMESTIC)


_FLOWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def graph_flows(graph: CatalogGraph) -> list[FlowEdge]:
    """``graph.flows()``, read once per graph (a loaded graph is never changed; at 10,000 systems
    the scan over every edge takes most of a second)."""
    flows = _FLOWS.get(graph)
    if flows is None:
        flows = _FLOWS[graph] = graph.flows()
    return flows


def _home_country(graph: CatalogGraph, key: str) -> str:
    """The country whose cluster a system or party is drawn in: a party's own country, a system's
    first location's, else its first country (the organisation's); '' when none is recorded."""
    node = graph.node(key)
    if node["kind"] == NodeKind.PARTY:
        return node.get("country") or ""
    if node.get("locations", ()):
        return graph.node(node_key(NodeKind.LOCATION, node["locations"][0]))["country"]
    return node["countries"][0] if node["countries"] else ""


class _MapBuilder:
    def __init__(self, graph: CatalogGraph, transfers: list[Transfer], activity_subjects: Mapping[str, Iterable[str]] | None = None):
        self.graph = graph
        self.transfers = transfers
        self.jurisdictions = load_jurisdictions()
        self.taxonomy = load_taxonomy()
        self.activity_subjects = {key: tuple(value) for key, value in (activity_subjects or {}).items()}
        self._home: dict[str, str] = {}

    # ---- which edges -------------------------------------------------------------------------
    def edges(self, filters: MapFilters) -> list[_Edge]:
        """The catalogued flows that pass the filters, then one onward edge per (processor,
        sub-processor) pair, built from the onward transfers that pass them."""
        by_flow: dict[str, list[Transfer]] = {}
        for transfer in self.transfers:
            by_flow.setdefault(transfer.flow_id, []).append(transfer)
        edges = [
            _Edge(
                flow.source, flow.target, tuple(flow.data.get("categories", ())), flow.data.get("activity_id"),
                transfers=by_flow.get(flow.flow_id, []), flow_id=flow.flow_id,
                mechanism=flow.data.get("mechanism", ""), encrypted=flow.data.get("encrypted", True),
            )
            for flow in graph_flows(self.graph)
        ]
        edges = [edge for edge in edges if self.keep(edge, filters)]
        onward: dict[tuple[str, str], _Edge] = {}
        for transfer in self.transfers:
            if not transfer.via or transfer.exporter not in self.graph.graph or transfer.importer not in self.graph.graph:
                continue
            step = _Edge(transfer.exporter, transfer.importer, transfer.data_categories, transfer.activity_id, transfers=[transfer])
            if not self.keep(step, filters):
                continue
            edge = onward.setdefault((step.source, step.target), _Edge(step.source, step.target, (), None))
            edge.categories = tuple(sorted({*edge.categories, *step.categories}))
            edge.transfers.append(transfer)
        return edges + [onward[pair] for pair in sorted(onward)]

    def subjects_of(self, edge: _Edge) -> set[str]:
        """Data subjects of the activity the flow serves; for a flow without one, of the activities its source serves."""
        if edge.activity_id is not None:
            return set(self.activity_subjects.get(edge.activity_id, ()))
        return {
            subject
            for links in self.graph.activities.values() if edge.source in links.systems
            for subject in self.activity_subjects.get(links.id, ())
        }

    def role_matches(self, wanted: str, key: str) -> bool:
        node = self.graph.node(key)
        kind, _, role = wanted.rpartition(":")
        return (not kind or node["kind"] == kind) and node.get("role") == role

    def keep(self, edge: _Edge, filters: MapFilters) -> bool:
        if filters.activity is not None and edge.activity_id != filters.activity:
            return False
        if filters.category is not None and not _category_matches(filters.category, edge.categories):
            return False
        if filters.subject is not None and not any(Taxonomy.covers(filters.subject, s) for s in self.subjects_of(edge)):
            return False
        if filters.system is not None and filters.system not in (edge.source, edge.target):
            return False
        if filters.role is not None and not (self.role_matches(filters.role, edge.source) or self.role_matches(filters.role, edge.target)):
            return False
        if filters.country is not None:
            countries = {*self.graph.node(edge.source)["countries"], *self.graph.node(edge.target)["countries"]}
            countries |= {c for t in edge.transfers for c in (t.origin, t.destination)}
            if filters.country not in countries:
                return False
        return True

    # ---- where nodes go ----------------------------------------------------------------------
    def home_country(self, key: str) -> str:
        if key not in self._home:
            self._home[key] = _home_country(self.graph, key)
        return self._home[key]

    def home_location(self, key: str) -> str | None:
        locations = self.graph.node(key).get("locations", ())
        return locations[0] if locations else None

    def country_label(self, code: str) -> str:
        if not code:
            return "Country not recorded"
        return f"{self.jurisdictions.country_name(code)} ({code})"

    def group(self, key: str, level: MapLevel) -> str:
        """The drawn node a catalogue node falls into at a level (itself at DETAIL)."""
        if level == MapLevel.DETAIL:
            return key
        country = self.home_country(key) or "-"
        if level == MapLevel.COUNTRY:
            return f"group:{country}"
        if self.graph.node(key)["kind"] == NodeKind.PARTY:
            return f"group:{country}:~parties"
        return f"group:{country}:{self.home_location(key) or '~none'}"

    # ---- drawing -----------------------------------------------------------------------------
    def node_attrs(self, key: str) -> tuple[str, dict[str, str]]:
        node = self.graph.node(key)
        if node["kind"] == NodeKind.PARTY:
            role_label = _enum_label(PartyRole, node.get("role") or "")
            others = [c for c in node["countries"] if c != node.get("country")]
            lines = [node["label"], role_label]
            if others:
                lines.append("also processes in " + ", ".join(sorted(others)))
            return _label(*lines), dict(PARTY_SHAPE)
        lines = [node["label"]]
        extra_locations = node.get("locations", ())[1:]
        if extra_locations:
            places = [self.graph.node(node_key(NodeKind.LOCATION, location)) for location in extra_locations]
            lines += ["also hosted in:", *(f"{place['label']} ({place['country']})" for place in places)]
        if node.get("role") == "processor":
            lines.append("(we are processor)")
        return _label(*lines), dict(SYSTEM_SHAPE)

    def group_attrs(self, group: str, members: list[str], internal: int) -> tuple[str, dict[str, str]]:
        """An aggregated node: what it stands for and how many systems, parties and flows inside it."""
        parts = group.split(":")
        country = "" if parts[1] == "-" else parts[1]
        systems = sum(self.graph.node(key)["kind"] == NodeKind.SYSTEM for key in members)
        parties = len(members) - systems
        if len(parts) == 2:
            title = self.country_label(country)
        elif parts[2] == "~parties":
            title = f"Parties in {self.country_label(country)}"
        elif parts[2] == "~none":
            title = "Systems with no data centre recorded"
        else:
            title = self.graph.node(node_key(NodeKind.LOCATION, parts[2]))["label"]
        counts = ", ".join(text for text in (_plural(systems, "system", "systems"), _plural(parties, "party", "parties")) if text)
        lines = [title, counts]
        if internal:
            lines.append(_plural(internal, "flow", "flows") + " inside")
        return _label(*lines), dict(AGGREGATE_SHAPE)

    def edge_attrs(self, edge: _Edge) -> dict[str, str]:
        status = edge.status
        lines = _short_categories(self.taxonomy, edge.categories)
        if edge.onward:
            lines = ["onward transfer", *lines]
        if not edge.encrypted:
            lines.append("not encrypted in transit")
        tooltip = [edge.flow_id or f"onward: {self.graph.node(edge.source)['id']} to {self.graph.node(edge.target)['id']}", status.label]
        if edge.mechanism:
            tooltip.append(f"by {_enum_label(FlowMechanism, edge.mechanism)}")
        tooltip.extend(sorted({f"under {_enum_label(TransferMechanism, t.mechanism)}" for t in edge.transfers if t.mechanism}))
        gaps = sorted({regime.label for t in edge.transfers for regime in t.gap_under})
        if gaps:
            tooltip.append("gap under " + ", ".join(gaps))
        attrs = {
            "label": _label(*lines),
            "tooltip": _label(*tooltip),
            "color": status.colour,
            "fontcolor": status.colour,
            "penwidth": "1" if status == FlowStatus.DOMESTIC else "2",
        }
        if edge.onward:
            attrs["style"] = "dashed"
        return attrs

    def merged_attrs(self, drawn: _Drawn) -> dict[str, str]:
        """Several flows between two groups as one edge: their count, categories and worst colour."""
        if len(drawn.members) == 1 and not drawn.source.startswith("group:") and not drawn.target.startswith("group:"):
            return self.edge_attrs(drawn.members[0])
        status = drawn.status
        count = len(drawn.members)
        categories = {c for edge in drawn.members for c in edge.categories}
        lines = [_plural(count, "flow", "flows"), *_short_categories(self.taxonomy, categories)]
        gaps = sum(edge.status == FlowStatus.GAP for edge in drawn.members)
        tooltip = [_plural(count, "flow", "flows"), f"worst: {status.label}"]
        if gaps:
            tooltip.append(f"{gaps} with a gap")
        attrs = {
            "label": _label(*lines),
            "tooltip": _label(*tooltip),
            "color": status.colour,
            "fontcolor": status.colour,
            "penwidth": str(min(6, 1 + round(math.log2(count), 1))) if status == FlowStatus.DOMESTIC else str(min(7, 2 + round(math.log2(count), 1))),
        }
        if all(edge.onward for edge in drawn.members):
            attrs["style"] = "dashed"
        return attrs

    # ---- scope, grouping, budget -------------------------------------------------------------
    def scope(self, filters: MapFilters, focus: str | None, depth: int | None, drill_country: str | None) -> tuple[list[_Edge], set[str]]:
        """The catalogue edges and nodes the map covers, before any grouping."""
        edges = self.edges(filters)
        if focus is not None:
            hood = {focus} | self.graph.descendants(focus, depth) | self.graph.ancestors(focus, depth)
            edges = [edge for edge in edges if edge.source in hood and edge.target in hood]
            keys = {focus} | {key for edge in edges for key in (edge.source, edge.target)}
        elif filters.active:
            keys = {key for edge in edges for key in (edge.source, edge.target)}
        else:
            keys = set(self.graph.nodes_of(NodeKind.SYSTEM)) | set(self.graph.nodes_of(NodeKind.PARTY))
        if drill_country is not None:
            edges = [edge for edge in edges if drill_country in (self.home_country(edge.source), self.home_country(edge.target))]
            keys = {key for key in keys if self.home_country(key) == drill_country}
            keys |= {key for edge in edges for key in (edge.source, edge.target)}
        return edges, keys

    def grouping(self, keys: set[str], level: MapLevel, drill_country: str | None) -> dict[str, str]:
        """Catalogue node -> drawn node; under a drill-down, nodes outside the country are grouped by country."""
        if drill_country is None:
            return {key: self.group(key, level) for key in keys}
        return {
            key: self.group(key, level) if self.home_country(key) == drill_country else self.group(key, MapLevel.COUNTRY)
            for key in keys
        }

    @staticmethod
    def merge(edges: list[_Edge], groups: dict[str, str], level: MapLevel, drill_country: str | None) -> tuple[list[_Drawn], dict[str, int]]:
        """Drawn edges (parallel edges between two grouped nodes merged) and the flows inside each group."""
        if level == MapLevel.DETAIL and drill_country is None:
            return [_Drawn(edge.source, edge.target, [edge]) for edge in edges], {}
        merged: dict[tuple[str, str], _Drawn] = {}
        internal: dict[str, int] = {}
        for edge in edges:
            source, target = groups[edge.source], groups[edge.target]
            if source == target and source.startswith("group:"):
                internal[source] = internal.get(source, 0) + 1
                continue
            if source == edge.source and target == edge.target and not (source.startswith("group:") or target.startswith("group:")):
                merged[(source, target, edge.flow_id or "")] = _Drawn(source, target, [edge])  # detail inside a drill-down
                continue
            merged.setdefault((source, target), _Drawn(source, target, [])).members.append(edge)
        return [merged[pair] for pair in sorted(merged)], internal

    def build(self, filters: MapFilters, *, budget: int | None, focus: str | None, depth: int | None, drill_country: str | None) -> FlowMap:
        edges, keys = self.scope(filters, focus, depth, drill_country)
        levels = [MapLevel.DETAIL, MapLevel.LOCATION] if drill_country is not None else list(MapLevel)
        if focus is not None and drill_country is None:
            levels = [MapLevel.DETAIL, MapLevel.COUNTRY]
        for level in levels:
            groups = self.grouping(keys, level, drill_country)
            drawn, internal = self.merge(edges, groups, level, drill_country)
            nodes = set(groups.values())
            if budget is None or (len(drawn) <= budget and len(nodes) <= NODES_PER_EDGE * budget):
                break
        left_out = 0
        if budget is not None and len(drawn) > budget:
            ranked = sorted(drawn, key=lambda d: (-d.status.severity, -len(d.members), d.source, d.target))
            keep = {id(d) for d in ranked[:budget]}
            left_out = len(drawn) - budget
            drawn = [d for d in drawn if id(d) in keep]
        countries = tuple(sorted({self.home_country(key) for key in keys} - {""}))
        info = FlowMapInfo(
            level=level, budget=budget, edges_total=len(edges), edges_drawn=len(drawn), nodes_drawn=len(set(groups.values())),
            edges_left_out=left_out, countries=countries, focus=focus, depth=depth, drill_country=drill_country,
        )
        return FlowMap(self.draw(groups, drawn, internal, focus), info)

    def draw(self, groups: dict[str, str], drawn: list[_Drawn], internal: dict[str, int], focus: str | None) -> graphviz.Digraph:
        members: dict[str, list[str]] = {}
        for key, group in groups.items():
            members.setdefault(group, []).append(key)
        ids = _dot_ids(members)

        dot = graphviz.Digraph("flow_map", comment="Personal-data flow map")
        dot.attr(rankdir="LR", compound="true", fontname=FONT, newrank="true")
        dot.attr("node", fontname=FONT, fontsize="11")
        dot.attr("edge", fontname=FONT, fontsize="9")

        def place(target, key: str) -> None:
            if key.startswith("group:"):
                label, attrs = self.group_attrs(key, sorted(members[key]), internal.get(key, 0))
            else:
                label, attrs = self.node_attrs(key)
                if key == focus:
                    attrs = {**attrs, **FOCUS_SHAPE}
            target.node(ids[key], label=label, **attrs)

        by_country: dict[str, dict[str | None, list[str]]] = {}
        country_nodes: list[str] = []
        for key in sorted(members):
            if key.startswith("group:") and key.count(":") == 1:
                country_nodes.append(key)  # a whole country: the node is its own cluster
                continue
            if key.startswith("group:"):
                country = key.split(":")[1]
                country = "" if country == "-" else country
                location = None
            else:
                country = self.home_country(key)
                location = self.home_location(key) if self.graph.node(key)["kind"] == NodeKind.SYSTEM else None
            by_country.setdefault(country, {}).setdefault(location, []).append(key)

        for key in country_nodes:
            place(dot, key)
        for country in sorted(by_country):
            with dot.subgraph(name=_cluster_id("country", country or "unknown")) as country_cluster:
                country_cluster.attr(label=_label(self.country_label(country)), style="rounded", color="grey40", fontsize="13")
                groups_here = by_country[country]
                for key in groups_here.get(None, []):
                    place(country_cluster, key)
                for location in sorted(loc for loc in groups_here if loc is not None):
                    place_node = self.graph.node(node_key(NodeKind.LOCATION, location))
                    detail = ", ".join(part for part in (place_node.get("provider"), place_node.get("city")) if part)
                    with country_cluster.subgraph(name=_cluster_id("location", location)) as location_cluster:
                        location_cluster.attr(label=_label(place_node["label"], detail), style="dashed", color="grey60", fontsize="10")
                        for key in groups_here[location]:
                            place(location_cluster, key)

        for edge in drawn:
            dot.edge(ids[edge.source], ids[edge.target], **self.merged_attrs(edge))

        self.legend(dot, aggregated=any(key.startswith("group:") for key in members))
        return dot

    @staticmethod
    def legend(dot: graphviz.Digraph, aggregated: bool = False) -> None:
        """Colour and shape key, kept in its own cluster so it never mixes with the catalogue."""
        with dot.subgraph(name="cluster_legend") as legend:
            legend.attr(label="Legend", style="rounded", color="grey70", fontsize="11")
            legend.node("legend_system", label="Our system", **SYSTEM_SHAPE)
            legend.node("legend_party", label="Party outside our systems", **PARTY_SHAPE)
            if aggregated:
                legend.node("legend_group", label="Group of systems and parties (edges carry a flow count)", **AGGREGATE_SHAPE)
            for status in FlowStatus:
                start, end = f"legend_{status.value}_from", f"legend_{status.value}_to"
                legend.node(start, label="", shape="point", width="0.05")
                legend.node(end, label="", shape="point", width="0.05")
                legend.edge(start, end, label=status.label, color=status.colour, fontcolor=status.colour, penwidth="2")
            legend.node("legend_onward_from", label="", shape="point", width="0.05")
            legend.node("legend_onward_to", label="", shape="point", width="0.05")
            legend.edge("legend_onward_from", "legend_onward_to", label="Onward transfer to a sub-processor", style="dashed")


def home_countries(graph: CatalogGraph) -> dict[str, str]:
    """System or party key -> the country whose cluster it is drawn in ('' when none is recorded)."""
    return {key: _home_country(graph, key) for kind in (NodeKind.SYSTEM, NodeKind.PARTY) for key in graph.nodes_of(kind)}


def resolve_focus(graph: CatalogGraph, focus: str) -> str:
    """A focus node key from a key (``system:crm``) or a system or party id; KeyError when unknown."""
    if focus in graph.graph and graph.node(focus)["kind"] in (NodeKind.SYSTEM, NodeKind.PARTY):
        return focus
    for kind in (NodeKind.SYSTEM, NodeKind.PARTY):
        key = node_key(kind, focus)
        if key in graph.graph:
            return key
    raise KeyError(f"no system or party '{focus}'")


def build_flow_map(
    graph: CatalogGraph,
    transfers: list[Transfer],
    *,
    activity: str | None = None,
    category: str | None = None,
    country: str | None = None,
    subject: str | None = None,
    system: str | None = None,
    role: str | None = None,
    activity_subjects: Mapping[str, Iterable[str]] | None = None,
    budget: int | None = DEFAULT_BUDGET,
    focus: str | None = None,
    depth: int | None = 1,
    drill_country: str | None = None,
) -> FlowMap:
    """The flow map: ``FlowMap(digraph, info)``; ``.source`` is the DOT text (no Graphviz binary needed).

    Filters narrow the flows drawn (and then only the systems and parties they touch are shown):
    ``activity`` an activity id, ``category`` a data category key (broader and narrower keys
    match), ``country`` an ISO alpha-2 code either end of the flow is in, ``subject`` a data
    subject key (flows serving an activity that declares it; ``activity_subjects`` maps activity
    ids to their subject keys), ``system`` a system or party at either end, ``role`` the role of
    either end (``system:processor``, ``party:sub_processor``, or a bare role).

    ``focus`` draws one system's (or party's) neighbourhood: what it sends to and receives from,
    up to ``depth`` hops (None: all). ``drill_country`` draws one country's systems and parties
    and their flows, the other ends grouped by country.

    When more than ``budget`` edges (or twice as many nodes) would be drawn, systems are grouped by data centre,
    then everything by country, parallel flows merged into one edge with their count; if even that
    is over, the least severe grouped edges are left out. ``info`` says which; None: no budget.
    """
    jurisdictions = load_jurisdictions()
    if country is not None:
        country = jurisdictions.normalise_country(country)
    if drill_country is not None:
        drill_country = jurisdictions.normalise_country(drill_country)
    if system is not None:
        system = resolve_focus(graph, system)
    if focus is not None:
        focus = resolve_focus(graph, focus)
    if budget is not None and budget < 1:
        raise ValueError("budget must be at least 1 edge")
    filters = MapFilters(activity=activity, category=category, country=country, subject=subject, system=system, role=role)
    builder = _MapBuilder(graph, transfers, activity_subjects)
    return builder.build(filters, budget=budget, focus=focus, depth=depth, drill_country=drill_country)


__all__ = [
    "DEFAULT_BUDGET",
    "MAX_EDGE_CATEGORIES",
    "FlowMap",
    "FlowMapInfo",
    "FlowStatus",
    "MapFilters",
    "MapLevel",
    "build_flow_map",
    "graph_flows",
    "home_countries",
    "resolve_focus",
    "transfer_status",
    "worst_status",
]
