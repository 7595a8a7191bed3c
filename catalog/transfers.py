"""International transfers, derived from the flow graph rather than typed in.

Every flow whose destination country differs from its origin's is a transfer, so is a disclosure
to a recipient an activity declares when no flow records it (the activity's systems are the origin),
and so is every onward step from a receiving processor to its sub-processors (a UK controller -> an Irish processor
-> its US sub-processor is a transfer too). Remote access from a third country is a flow like any
other, so it is a transfer as well (EDPB Guidelines 05/2021). Each transfer is assessed under UK
GDPR and EU GDPR side by side; a restricted transfer with no mechanism on record is a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from catalog.graph import CatalogGraph, FlowEdge, NodeKind
from catalog.jurisdictions import Jurisdictions, Regime, TransferAssessment, TransferStatus, load_jurisdictions
from catalog.vocab import TransferMechanism


@dataclass(frozen=True)
class Transfer:
    """One movement of personal data from one country to another, assessed under both regimes.
    The regime answers are cached on first use: pages and the record ask them of every transfer."""

    flow_id: str
    exporter: str
    exporter_name: str
    exporter_role: str
    importer: str
    importer_name: str
    importer_role: str
    origin: str
    destination: str
    data_categories: tuple[str, ...]
    activity_id: str | None
    flow_mechanism: str
    mechanism: str | None
    assessment_ref: str | None
    uk: TransferAssessment
    eu: TransferAssessment
    regimes: tuple[str, ...] = ("uk_gdpr",)
    via: tuple[str, ...] = ()

    def assessment(self, regime: Regime | str) -> TransferAssessment:
        return self.uk if Regime(regime) == Regime.UK_GDPR else self.eu

    @property
    def is_onward(self) -> bool:
        return bool(self.via)

    @cached_property
    def restricted_under(self) -> tuple[Regime, ...]:
        """Regimes (of those the organisation keeps) under which this is a restricted transfer."""
        return tuple(Regime(r) for r in self.regimes if self.assessment(r).status == TransferStatus.RESTRICTED)

    @cached_property
    def covered_under(self) -> tuple[Regime, ...]:
        """Regimes whose restricted transfers the mechanism on record covers (an IDTA covers UK GDPR only)."""
        if not self.mechanism:
            return ()
        return tuple(Regime(r) for r in sorted(TransferMechanism(self.mechanism).regimes))

    @cached_property
    def gap_under(self) -> tuple[Regime, ...]:
        """Regimes under which the transfer is restricted and no mechanism on record covers it."""
        return tuple(r for r in self.restricted_under if r not in self.covered_under)

    @property
    def has_gap(self) -> bool:
        return bool(self.gap_under)

    def as_dict(self) -> dict:
        """Plain data for JSON output and tables."""
        return {
            "flow_id": self.flow_id,
            "exporter": self.exporter, "exporter_name": self.exporter_name, "exporter_role": self.exporter_role,
            "importer": self.importer, "importer_name": self.importer_name, "importer_role": self.importer_role,
            "origin": self.origin, "destination": self.destination,
            "data_categories": list(self.data_categories), "activity_id": self.activity_id,
            "flow_mechanism": self.flow_mechanism, "onward_via": list(self.via),
            "mechanism": self.mechanism, "assessment_ref": self.assessment_ref,
            "uk_gdpr": {"status": self.uk.status.value, "note": self.uk.note},
            "eu_gdpr": {"status": self.eu.status.value, "note": self.eu.note},
            "restricted_under": [r.value for r in self.restricted_under],
            "gap_under": [r.value for r in self.gap_under],
            "gap": self.has_gap,
        }


class _Deriver:
    def __init__(self, graph: CatalogGraph, jurisdictions: Jurisdictions, certifications: dict[str, frozenset[str]], mechanisms: dict[str, tuple[str | None, str | None]]):
        self.graph, self.jurisdictions = graph, jurisdictions
        self.certifications, self.mechanisms = certifications, mechanisms
        self.regimes = graph.regimes
        self.transfers: list[Transfer] = []

    def role_of(self, key: str) -> str:
        node = self.graph.node(key)
        return node["role"] if node["kind"] == NodeKind.PARTY else ("system" if node["kind"] == NodeKind.SYSTEM else node["kind"])

    def add(self, flow_id: str, exporter: str, importer: str, data: dict, *, exporter_role: str, mechanism, assessment_ref, via=()) -> None:
        certs = self.certifications.get(importer, frozenset())
        for origin in self.graph.node(exporter)["countries"]:
            for destination in self.graph.node(importer)["countries"]:
                if origin == destination:
                    continue
                self.transfers.append(Transfer(
                    flow_id=flow_id, exporter=exporter, exporter_name=self.graph.node(exporter)["label"], exporter_role=exporter_role,
                    importer=importer, importer_name=self.graph.node(importer)["label"], importer_role=self.role_of(importer),
                    origin=origin, destination=destination, data_categories=tuple(data.get("categories", ())),
                    activity_id=data.get("activity_id"), flow_mechanism=data.get("mechanism", ""),
                    mechanism=mechanism, assessment_ref=assessment_ref,
                    uk=self.jurisdictions.assess(Regime.UK_GDPR, origin, destination, certs),
                    eu=self.jurisdictions.assess(Regime.EU_GDPR, origin, destination, certs),
                    regimes=self.regimes, via=tuple(via),
                ))

    def flow(self, edge: FlowEdge) -> None:
        exporter_role = self.graph.node(edge.source).get("role", "controller")
        party_mechanism, party_ref = self.mechanisms.get(edge.target, (None, None))
        self.add(
            edge.flow_id, edge.source, edge.target, edge.data, exporter_role=exporter_role,
            mechanism=edge.data.get("transfer_mechanism") or party_mechanism,
            assessment_ref=edge.data.get("transfer_assessment_ref") or party_ref,
        )
        if self.graph.node(edge.target)["kind"] == NodeKind.PARTY:
            self.onward(edge, edge.target, (edge.target,))

    def onward(self, edge: FlowEdge, parent: str, via: tuple[str, ...]) -> None:
        """Follow the sub-processor chain below a receiving party, one level at a time."""
        engagement = self.graph.engagement
        children = sorted(engagement.successors(parent)) if parent in engagement else []
        for child in children:
            if child in via:
                continue  # a cycle in the chain: stop rather than loop
            mechanism, ref = self.mechanisms.get(child, (None, None))
            self.add(
                f"{edge.flow_id}>{self.graph.node(child)['id']}", parent, child, edge.data,
                exporter_role=self.graph.node(parent)["role"], mechanism=mechanism, assessment_ref=ref, via=via,
            )
            self.onward(edge, child, (*via, child))


def _undocumented_disclosures(graph: CatalogGraph, flows: list[FlowEdge]) -> list[FlowEdge]:
    """Recipients an activity declares that no flow from its systems reaches, as disclosure edges.

    One of the activity's systems stands as the exporter, so each disclosure is assessed once:
    one with the activity's role (a processor activity discloses from a processor system), hosted
    in the organisation's country when there is one; its id is ``activity~party``.
    """
    reached = {(edge.source, edge.target) for edge in flows}
    home = graph.organisation.country if graph.organisation else None

    def exporter_rank(activity, system: str) -> tuple:
        node = graph.node(system)
        return (node.get("role") != activity.role, home not in node["countries"], system)

    disclosures = []
    for activity in graph.activities.values():
        if not activity.systems:
            continue
        exporter = min(activity.systems, key=lambda system: exporter_rank(activity, system))
        for recipient in activity.recipients:
            if any((system, recipient) in reached for system in activity.systems):
                continue
            disclosures.append(FlowEdge(exporter, recipient, {
                "flow_id": f"{activity.id}~{graph.node(recipient)['id']}", "categories": (),
                "mechanism": "disclosure", "activity_id": activity.id,
                "transfer_mechanism": None, "transfer_assessment_ref": None,
            }))
    return disclosures


def derive_transfers(graph: CatalogGraph, jurisdictions: Jurisdictions | None = None) -> list[Transfer]:
    """All transfers in the graph, sorted by flow id, origin and destination."""
    jurisdictions = jurisdictions or load_jurisdictions()
    certifications: dict[str, frozenset[str]] = {}
    mechanisms: dict[str, tuple[str | None, str | None]] = {}
    for key in graph.nodes_of(NodeKind.PARTY):
        node = graph.node(key)
        certifications[key] = frozenset(node.get("certifications", ()))
        mechanisms[key] = (node.get("transfer_mechanism"), node.get("transfer_assessment_ref"))
    deriver = _Deriver(graph, jurisdictions, certifications, mechanisms)
    flows = graph.flows()
    for edge in flows:
        deriver.flow(edge)
    for edge in _undocumented_disclosures(graph, flows):
        deriver.flow(edge)
    return sorted(deriver.transfers, key=lambda t: (t.flow_id, t.origin, t.destination))
