"""The data-flow map: the catalogue's flows drawn as a Graphviz digraph (DOT source only).

Our systems are clustered by country and, inside each country, by the data centre or region that
hosts them; parties sit in the cluster of the country that receives the data. Each flow is an edge
labelled with the data categories it carries and coloured by its worst transfer status, so a
restricted transfer with no mechanism on record stands out in red. Onward transfers from a
processor to its sub-processors are drawn dashed.

The dashboard and ``ropa export map`` share this builder. Catalogue text always goes through
:func:`_label` (escaped, never an HTML-like label), and everything is emitted in sorted order so
the same catalogue always gives byte-identical DOT.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import graphviz

from catalog.graph import CatalogGraph, NodeKind, node_key
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
    return any(Taxonomy.covers(wanted, key) or Taxonomy.covers(key, wanted) for key in carried)


def _short_categories(taxonomy: Taxonomy, keys: Iterable[str]) -> list[str]:
    labels = sorted({taxonomy.label(TaxonomyKind.DATA_CATEGORY, key) for key in keys})
    if len(labels) > MAX_EDGE_CATEGORIES:
        shown = MAX_EDGE_CATEGORIES - 1
        labels = [*labels[:shown], f"+{len(labels) - shown} more"]
    return labels


class _MapBuilder:
    def __init__(self, graph: CatalogGraph, transfers: list[Transfer]):
        self.graph = graph
        self.transfers = transfers
        self.jurisdictions = load_jurisdictions()
        self.taxonomy = load_taxonomy()

    # ---- which edges -------------------------------------------------------------------------
    def edges(self, activity: str | None, category: str | None, country: str | None) -> list[_Edge]:
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
            for flow in self.graph.flows()
        ]
        edges = [edge for edge in edges if self.keep(edge, activity, category, country)]
        onward: dict[tuple[str, str], _Edge] = {}
        for transfer in self.transfers:
            if not transfer.via or transfer.exporter not in self.graph.graph or transfer.importer not in self.graph.graph:
                continue
            step = _Edge(transfer.exporter, transfer.importer, transfer.data_categories, transfer.activity_id, transfers=[transfer])
            if not self.keep(step, activity, category, country):
                continue
            edge = onward.setdefault((step.source, step.target), _Edge(step.source, step.target, (), None))
            edge.categories = tuple(sorted({*edge.categories, *step.categories}))
            edge.transfers.append(transfer)
        return edges + [onward[pair] for pair in sorted(onward)]

    def keep(self, edge: _Edge, activity: str | None, category: str | None, country: str | None) -> bool:
        if activity is not None and edge.activity_id != activity:
            return False
        if category is not None and not _category_matches(category, edge.categories):
            return False
        if country is not None:
            countries = {*self.graph.node(edge.source)["countries"], *self.graph.node(edge.target)["countries"]}
            countries |= {c for t in edge.transfers for c in (t.origin, t.destination)}
            if country not in countries:
                return False
        return True

    # ---- where nodes go ----------------------------------------------------------------------
    def home_country(self, key: str) -> str:
        node = self.graph.node(key)
        if node["kind"] == NodeKind.PARTY:
            return node.get("country") or ""
        locations = node.get("locations", ())
        if locations:
            return self.graph.node(node_key(NodeKind.LOCATION, locations[0]))["country"]
        return node["countries"][0] if node["countries"] else ""

    def home_location(self, key: str) -> str | None:
        locations = self.graph.node(key).get("locations", ())
        return locations[0] if locations else None

    def country_label(self, code: str) -> str:
        if not code:
            return "Country not recorded"
        return f"{self.jurisdictions.country_name(code)} ({code})"

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

    def edge_attrs(self, edge: _Edge) -> dict[str, str]:
        status = worst_status(edge.transfers)
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

    def build(self, activity: str | None, category: str | None, country: str | None) -> graphviz.Digraph:
        filtered = any(value is not None for value in (activity, category, country))
        edges = self.edges(activity, category, country)
        if filtered:
            keys = {key for edge in edges for key in (edge.source, edge.target)}
        else:
            keys = set(self.graph.nodes_of(NodeKind.SYSTEM)) | set(self.graph.nodes_of(NodeKind.PARTY))
        ids = _dot_ids(keys)

        dot = graphviz.Digraph("flow_map", comment="Personal-data flow map")
        dot.attr(rankdir="LR", compound="true", fontname=FONT, newrank="true")
        dot.attr("node", fontname=FONT, fontsize="11")
        dot.attr("edge", fontname=FONT, fontsize="9")

        by_country: dict[str, dict[str | None, list[str]]] = {}
        for key in sorted(keys):
            location = self.home_location(key) if self.graph.node(key)["kind"] == NodeKind.SYSTEM else None
            by_country.setdefault(self.home_country(key), {}).setdefault(location, []).append(key)

        for country in sorted(by_country):
            with dot.subgraph(name=_cluster_id("country", country or "unknown")) as country_cluster:
                country_cluster.attr(label=_label(self.country_label(country)), style="rounded", color="grey40", fontsize="13")
                groups = by_country[country]
                for key in groups.get(None, []):
                    label, attrs = self.node_attrs(key)
                    country_cluster.node(ids[key], label=label, **attrs)
                for location in sorted(loc for loc in groups if loc is not None):
                    place = self.graph.node(node_key(NodeKind.LOCATION, location))
                    detail = ", ".join(part for part in (place.get("provider"), place.get("city")) if part)
                    with country_cluster.subgraph(name=_cluster_id("location", location)) as location_cluster:
                        location_cluster.attr(label=_label(place["label"], detail), style="dashed", color="grey60", fontsize="10")
                        for key in groups[location]:
                            label, attrs = self.node_attrs(key)
                            location_cluster.node(ids[key], label=label, **attrs)

        for edge in edges:
            dot.edge(ids[edge.source], ids[edge.target], **self.edge_attrs(edge))

        self.legend(dot)
        return dot

    @staticmethod
    def legend(dot: graphviz.Digraph) -> None:
        """Colour and shape key, kept in its own cluster so it never mixes with the catalogue."""
        with dot.subgraph(name="cluster_legend") as legend:
            legend.attr(label="Legend", style="rounded", color="grey70", fontsize="11")
            legend.node("legend_system", label="Our system", **SYSTEM_SHAPE)
            legend.node("legend_party", label="Party outside our systems", **PARTY_SHAPE)
            for status in FlowStatus:
                start, end = f"legend_{status.value}_from", f"legend_{status.value}_to"
                legend.node(start, label="", shape="point", width="0.05")
                legend.node(end, label="", shape="point", width="0.05")
                legend.edge(start, end, label=status.label, color=status.colour, fontcolor=status.colour, penwidth="2")
            legend.node("legend_onward_from", label="", shape="point", width="0.05")
            legend.node("legend_onward_to", label="", shape="point", width="0.05")
            legend.edge("legend_onward_from", "legend_onward_to", label="Onward transfer to a sub-processor", style="dashed")


def build_flow_map(
    graph: CatalogGraph,
    transfers: list[Transfer],
    *,
    activity: str | None = None,
    category: str | None = None,
    country: str | None = None,
) -> graphviz.Digraph:
    """The flow map as a Graphviz digraph; ``.source`` is the DOT text (no Graphviz binary needed).

    Filters narrow the flows drawn (and then only the systems and parties they touch are shown):
    ``activity`` an activity id, ``category`` a data category key (broader and narrower keys
    match), ``country`` an ISO alpha-2 code either end of the flow is in.
    """
    if country is not None:
        country = load_jurisdictions().normalise_country(country)
    return _MapBuilder(graph, transfers).build(activity, category, country)


__all__ = ["FlowStatus", "build_flow_map", "transfer_status", "worst_status", "MAX_EDGE_CATEGORIES"]
