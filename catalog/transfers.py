"""International transfers, derived from the flow graph rather than typed in.

Every flow whose destination country differs from its origin's is a transfer; so is every onward
step from a receiving processor to its sub-processors (a UK controller -> an Irish processor -> its
US sub-processor is a transfer too), and the hosting of a system by a provider abroad (the provider
holds all of the system's data). Remote access from a third country is a flow like any other, so it
is a transfer as well (EDPB Guidelines 05/2021). Data moves from where the exporter holds it to where
the importer holds it: the countries are paired as the catalogue places them, not each origin with
every destination. A recipient an activity declares that no flow, onward chain or hosting reaches is
listed once, as a gap in the map rather than a data path. Each transfer is assessed under UK GDPR and
EU GDPR side by side; a restricted transfer with no mechanism on record covering it is a gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import networkx as nx

from catalog.graph import CatalogGraph, FlowEdge, NodeKind, node_key
from catalog.jurisdictions import Jurisdictions, Regime, TransferAssessment, TransferStatus, load_jurisdictions
from catalog.vocab import TransferMechanism

#: How data moves in a transfer that no catalogued flow describes (``Transfer.flow_mechanism``).
HOSTING = "hosting"
UNDOCUMENTED = "undocumented_recipient"
DERIVED_MECHANISMS: dict[str, str] = {
    HOSTING: "Hosting (the provider holds the system's data)",
    UNDOCUMENTED: "Recipient with no documented flow",
}


def as_mechanism(value: str | None) -> TransferMechanism | None:
    """The mechanism a stored value names; None for none or an unknown value (a record is read, not rejected)."""
    try:
        return TransferMechanism(value) if value else None
    except ValueError:
        return None


def mechanism_covers(mechanism: TransferMechanism, regime: Regime) -> bool:
    """Whether one mechanism covers a regime. The UK Addendum is appended to the EU SCCs (Decision
    (EU) 2021/914), so a contract recorded as the Addendum holds both: EU GDPR through the SCCs,
    UK GDPR through the Addendum (a party records one mechanism; its module is checked by the
    role rule, ROPA-A46-005, when one is recorded)."""
    return Regime(regime).value in mechanism.regimes


def covered_regimes(mechanisms: Iterable[str | None]) -> tuple[Regime, ...]:
    """Regimes the mechanisms on record cover between them, in Regime order."""
    known = [m for m in map(as_mechanism, mechanisms) if m is not None]
    return tuple(regime for regime in Regime if any(mechanism_covers(m, regime) for m in known))


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
    mechanisms: tuple[str, ...] = ()
    """Every mechanism on record (the flow's and the importer's); ``mechanism`` is the first."""
    host: str | None = None
    """When the importer is our own system at a provider's site: the provider (a party key) that
    holds the data there, whose mechanism and certifications count."""

    def assessment(self, regime: Regime | str) -> TransferAssessment:
        return self.uk if Regime(regime) == Regime.UK_GDPR else self.eu

    @property
    def is_onward(self) -> bool:
        return bool(self.via)

    @property
    def is_undocumented(self) -> bool:
        """A recipient the activity declares that no flow reaches: a gap in the map, not a data path."""
        return self.flow_mechanism == UNDOCUMENTED

    @property
    def on_record(self) -> tuple[str, ...]:
        return self.mechanisms or ((self.mechanism,) if self.mechanism else ())

    @cached_property
    def restricted_under(self) -> tuple[Regime, ...]:
        """Regimes (of those the organisation keeps) under which this is a restricted transfer."""
        return tuple(Regime(r) for r in self.regimes if self.assessment(r).status == TransferStatus.RESTRICTED)

    @cached_property
    def covered_under(self) -> tuple[Regime, ...]:
        """Regimes whose restricted transfers the mechanisms on record cover (an IDTA alone covers
        UK GDPR only)."""
        return covered_regimes(self.on_record)

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
            "flow_mechanism": self.flow_mechanism, "undocumented": self.is_undocumented, "onward_via": list(self.via),
            "mechanism": self.mechanism, "mechanisms": list(self.on_record), "assessment_ref": self.assessment_ref, "host": self.host,
            "uk_gdpr": {"status": self.uk.status.value, "note": self.uk.note},
            "eu_gdpr": {"status": self.eu.status.value, "note": self.eu.note},
            "restricted_under": [r.value for r in self.restricted_under],
            "gap_under": [r.value for r in self.gap_under],
            "gap": self.has_gap,
        }


def _pairs(origins: Iterable[str], destinations: Iterable[str], *, co_located: bool = False) -> list[tuple[str, str]]:
    """(origin, destination) pairs that cross a border. With ``co_located`` (both ends placed by the
    catalogue's locations) data held where the importer also is stays there, so that origin pairs
    with nothing; otherwise each origin may reach each of the importer's countries."""
    destinations = tuple(dict.fromkeys(destinations))
    return [
        (origin, destination)
        for origin in dict.fromkeys(origins)
        if not (co_located and origin in destinations)
        for destination in destinations if destination != origin
    ]


def _name_key(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _names_match(provider: str, name: str) -> bool:
    """'Amazon Web Services' is 'Amazon Web Services EMEA SARL': equal, or one starts the other at a word."""
    return provider == name or name.startswith(provider + " ") or provider.startswith(name + " ")


def hosting_providers(graph: CatalogGraph) -> dict[str, str]:
    """Location key -> the party that operates the site, from the location's provider: its party
    id or name, or the start of the name. Our own sites (the organisation's name) and providers
    that match no party, or several, are left out."""
    organisation = _name_key(graph.organisation.name) if graph.organisation else None
    parties = [(key, _name_key(graph.node(key)["id"]), _name_key(graph.node(key)["label"])) for key in graph.nodes_of(NodeKind.PARTY)]
    providers: dict[str, str] = {}
    for location in graph.nodes_of(NodeKind.LOCATION):
        provider = _name_key(graph.node(location).get("provider") or "")
        if not provider or (organisation and _names_match(provider, organisation)):
            continue
        found = [key for key, ident, name in parties if provider in (ident, name)]
        found = found or [key for key, _, name in parties if _names_match(provider, name)]
        if len(found) == 1:
            providers[location] = found[0]
    return providers


class _Deriver:
    def __init__(self, graph: CatalogGraph, jurisdictions: Jurisdictions):
        self.graph, self.jurisdictions = graph, jurisdictions
        self.regimes = graph.regimes
        self.territories = {regime: jurisdictions.territory(regime) for regime in Regime}
        self.home = graph.organisation.country if graph.organisation else None
        # The organisation is subject to every regime it keeps its record under (established in
        # its territory, or within Article 3(2)), wherever it holds the data: EDPB Guidelines
        # 05/2021 count a move by an exporter subject to the GDPR to a third country as a transfer.
        self.home_subject = self.subject_in(self.home) | frozenset(Regime(regime) for regime in self.regimes)
        self.providers = hosting_providers(graph)
        self.reached: dict[str, set[str]] = {}  # our system -> destinations flows already bring its data to
        self.transfers: list[Transfer] = []

    def subject_in(self, *countries: str | None) -> frozenset[Regime]:
        """Regimes whose territory holds one of the countries: an exporter established there, or
        data that has been there, stays subject to them (Article 44: onward transfers too)."""
        return frozenset(r for r, territory in self.territories.items() if any(c in territory for c in countries))

    def role_of(self, key: str) -> str:
        node = self.graph.node(key)
        return node["role"] if node["kind"] == NodeKind.PARTY else ("system" if node["kind"] == NodeKind.SYSTEM else node["kind"])

    def party_record(self, key: str) -> tuple[tuple[str, ...], str | None]:
        node = self.graph.node(key)
        if node["kind"] != NodeKind.PARTY:
            return (), None
        return ((node["transfer_mechanism"],) if node.get("transfer_mechanism") else ()), node.get("transfer_assessment_ref")

    def sites(self, system: str) -> list[tuple[str, str]]:
        """(country, provider) of each of the system's sites that a party operates."""
        found = []
        for location_id in self.graph.node(system).get("locations", ()):
            location = node_key(NodeKind.LOCATION, location_id)
            if party := self.providers.get(location):
                found.append((self.graph.node(location)["country"], party))
        return found

    def hosts(self, system: str) -> dict[str, str]:
        """Country -> the provider operating the system's site there (the first by site id)."""
        found: dict[str, str] = {}
        for country, party in self.sites(system):
            found.setdefault(country, party)
        return found

    def add(
        self, flow_id: str, exporter: str, importer: str, pairs: list[tuple[str, str]], *, exporter_role: str,
        mechanisms: Iterable[str], assessment_ref: str | None, subject: frozenset[Regime], categories: Iterable[str],
        activity_id: str | None, flow_mechanism: str, via: tuple[str, ...] = (), exporter_name: str | None = None,
        host: str | None = None,
    ) -> None:
        importer_node = self.graph.node(importer)
        certs = frozenset(self.graph.node(host or importer).get("certifications", ()))
        mechanisms = tuple(dict.fromkeys(m for m in mechanisms if m))
        for origin, destination in pairs:
            self.transfers.append(Transfer(
                flow_id=flow_id, exporter=exporter, exporter_name=exporter_name or self.graph.node(exporter)["label"],
                exporter_role=exporter_role, importer=importer, importer_name=importer_node["label"], importer_role=self.role_of(importer),
                origin=origin, destination=destination, data_categories=tuple(categories), activity_id=activity_id,
                flow_mechanism=flow_mechanism, mechanism=mechanisms[0] if mechanisms else None, assessment_ref=assessment_ref,
                uk=self.jurisdictions.assess(Regime.UK_GDPR, origin, destination, certs, subject=Regime.UK_GDPR in subject),
                eu=self.jurisdictions.assess(Regime.EU_GDPR, origin, destination, certs, subject=Regime.EU_GDPR in subject),
                regimes=self.regimes, via=via, mechanisms=mechanisms, host=host,
            ))

    def flow(self, edge: FlowEdge) -> None:
        """A catalogued flow from one of our systems, from where it holds the data to where the
        importer does. Into our own system at a provider's site, the provider's mechanism and
        certifications count; the sub-processors of a receiving party, or of that provider, follow."""
        source, target = self.graph.node(edge.source), self.graph.node(edge.target)
        common = dict(
            exporter_role=source.get("role", "controller"), subject=self.home_subject, categories=edge.data.get("categories", ()),
            activity_id=edge.data.get("activity_id"), flow_mechanism=edge.data.get("mechanism", ""),
        )
        if target["kind"] != NodeKind.PARTY:
            hosts, moves = self.hosts(edge.target), _pairs(source["countries"], target["countries"], co_located=True)
            for destination in target["countries"]:
                pairs = [pair for pair in moves if pair[1] == destination]
                host = hosts.get(destination)
                mechanisms, ref = self.party_record(host) if host else ((), None)
                self.add(
                    edge.flow_id, edge.source, edge.target, pairs, mechanisms=(edge.data.get("transfer_mechanism"), *mechanisms),
                    assessment_ref=edge.data.get("transfer_assessment_ref") or ref, host=host, **common,
                )
                if pairs:
                    self.reached.setdefault(edge.target, set()).add(destination)
                if pairs and host:
                    subject = self.home_subject | self.subject_in(*source["countries"], self.graph.node(host).get("country"))
                    self.onward(edge.flow_id, edge.data, host, (destination,), subject, (host,))
            return
        mechanisms, ref = self.party_record(edge.target)
        self.add(
            edge.flow_id, edge.source, edge.target, _pairs(source["countries"], target["countries"]),
            mechanisms=(edge.data.get("transfer_mechanism"), *mechanisms), assessment_ref=edge.data.get("transfer_assessment_ref") or ref, **common,
        )
        subject = self.home_subject | self.subject_in(*source["countries"], target.get("country"))
        self.onward(edge.flow_id, edge.data, edge.target, target["countries"], subject, (edge.target,))

    def hosting(self, system: str) -> None:
        """Each provider that operates sites hosting one of our systems holds all its data: the
        organisation hands it over at home, and the provider holds it at those sites and in the
        other countries it declares it processes our data in (not its registered seat). Where a
        flow into the system already brings data to a country, that flow's transfer stands for it."""
        node = self.graph.node(system)
        by_party: dict[str, list[str]] = {}
        for country, party in self.sites(system):
            by_party.setdefault(party, []).append(country)
        for party, countries in sorted(by_party.items()):
            reached = self.reached.get(system, set())
            held = tuple(c for c in dict.fromkeys([*countries, *self.graph.node(party)["countries"][1:]]) if c not in reached)
            shown = _pairs([self.home], held)
            mechanisms, ref = self.party_record(party)
            flow_id = f"{node['id']}@{self.graph.node(party)['id']}"
            data = {"categories": tuple(sorted(self.graph.categories_held(system))), "mechanism": HOSTING, "activity_id": None}
            self.add(
                flow_id, system, party, shown, exporter_role=node.get("role", "controller"),
                mechanisms=mechanisms, assessment_ref=ref, subject=self.home_subject, categories=data["categories"],
                activity_id=None, flow_mechanism=HOSTING,
            )
            subject = self.home_subject | self.subject_in(self.graph.node(party).get("country"))
            self.onward(flow_id, data, party, held, subject, (party,))

    def onward(self, flow_id: str, data: dict, parent: str, held: Iterable[str], subject: frozenset[Regime], via: tuple[str, ...]) -> None:
        """Follow the sub-processor chain below a receiving party, one level at a time, from where
        the parent holds the data; the regimes the data was subject to go with it."""
        engagement = self.graph.engagement
        held = tuple(held)
        for child in sorted(engagement.successors(parent)) if parent in engagement else []:
            if child in via:
                continue  # a cycle in the chain: stop rather than loop
            node = self.graph.node(child)
            mechanisms, ref = self.party_record(child)
            self.add(
                f"{flow_id}>{node['id']}", parent, child, _pairs(held, node["countries"]), exporter_role=self.graph.node(parent)["role"],
                mechanisms=mechanisms, assessment_ref=ref, subject=subject, categories=data.get("categories", ()),
                activity_id=data.get("activity_id"), flow_mechanism=data.get("mechanism", ""), via=via,
            )
            self.onward(flow_id, data, child, node["countries"], subject | self.subject_in(*held, node.get("country")), (*via, child))

    def undocumented(self) -> None:
        """One entry per (activity, recipient) that nothing documented reaches: no flow from the
        activity's systems or made for the activity, nor the onward chain below its importer, nor
        the hosting of a system. Exported by the organisation (no system is known to send it) with
        the activity's declared categories, so that the map's gap shows, not an invented data path."""
        flows = self.graph.flow_view()
        for_activity: dict[str, set[str]] = {}
        for edge in self.graph.flows():
            if edge.data.get("activity_id"):
                for_activity.setdefault(edge.data["activity_id"], set()).add(edge.target)
        chain = nx.DiGraph(self.graph.engagement.edges)  # who engaged whom, and who hosts which system
        chain.add_edges_from((system, party) for system in self.graph.nodes_of(NodeKind.SYSTEM) for _, party in self.sites(system))
        below: dict[str, set[str]] = {}
        organisation = self.graph.organisation
        activity_rows = self.graph.rows.activities
        for activity in self.graph.activities.values():
            first = {*activity.systems, *for_activity.get(activity.id, ())}
            first |= {target for system in activity.systems if system in flows for target in flows.successors(system)}
            reached = set(first)
            for key in first:
                if key not in below:
                    below[key] = nx.descendants(chain, key) if key in chain else set()
                reached |= below[key]
            for recipient in activity.recipients:
                if recipient in reached:
                    continue
                origins = [self.home] if self.home else sorted({c for s in activity.systems for c in self.graph.node(s)["countries"]})
                mechanisms, ref = self.party_record(recipient)
                row = activity_rows.get(activity.id)
                self.add(
                    f"{activity.id}~{self.graph.node(recipient)['id']}",
                    f"organisation:{organisation.id}" if organisation else f"activity:{activity.id}", recipient,
                    _pairs(origins, self.graph.node(recipient)["countries"]),
                    exporter_name=organisation.name if organisation else activity.name, exporter_role=activity.role,
                    mechanisms=mechanisms, assessment_ref=ref, subject=self.home_subject,
                    categories=tuple(row.data_categories or ()) if row else (), activity_id=activity.id, flow_mechanism=UNDOCUMENTED,
                )


def derive_transfers(graph: CatalogGraph, jurisdictions: Jurisdictions | None = None) -> list[Transfer]:
    """All transfers in the graph, sorted by flow id, origin and destination."""
    deriver = _Deriver(graph, jurisdictions or load_jurisdictions())
    for edge in graph.flows():
        deriver.flow(edge)
    if deriver.home:
        for system in graph.nodes_of(NodeKind.SYSTEM):
            deriver.hosting(system)
    deriver.undocumented()
    return sorted(deriver.transfers, key=lambda t: (t.flow_id, t.origin, t.destination))
