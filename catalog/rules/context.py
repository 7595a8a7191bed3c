"""Everything the rules and the DSAR map read, loaded from the store once.

The graph holds systems, parties, fields and flows; the rules also need activities, datasets and
the provenance of each entry (``source_ref``, to point a finding at the manifest line that made
it). Only current entries are read: retired rows are evidence, not part of the catalogue's state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter

from sqlmodel import Session

from catalog.graph import CatalogGraph, EdgeKind, NodeKind, node_key
from catalog.jurisdictions import Jurisdictions, load_jurisdictions
from catalog.models import (
    DataField,
    Dataset,
    Flow,
    Organisation,
    Party,
    ProcessingActivity,
    System,
)
from catalog.record import stated_keys
from catalog.taxonomy import Taxonomy, load_taxonomy
from catalog.transfer_assessment import TransferRequirements, assess_transfer
from catalog.transfers import Transfer, derive_transfers

#: Item kinds a finding or a DSAR row can name.
ITEM_ACTIVITY, ITEM_SYSTEM, ITEM_DATASET, ITEM_FIELD, ITEM_PARTY, ITEM_TRANSFER = (
    "activity", "system", "dataset", "field", "party", "transfer",
)


@dataclass
class CatalogFacts:
    """The current catalogue as plain rows plus the graph, keyed by id and sorted for stable output."""

    graph: CatalogGraph
    """The flow graph of the current entries."""
    organisation: Organisation | None
    """The organisation keeping the record, if catalogued."""
    activities: dict[str, ProcessingActivity]
    """Processing activities by id."""
    systems: dict[str, System]
    """Systems by id."""
    parties: dict[str, Party]
    """Parties by id."""
    datasets: dict[int, Dataset]
    """Datasets of current systems by id."""
    fields: dict[int, DataField]
    """Fields of current datasets by id."""
    flows: dict[str, Flow]
    """Flows between current ends by id."""
    activity_systems: dict[str, list[str]]
    """System ids of each activity."""
    activity_recipients: dict[str, list[str]]
    """Recipient party ids of each activity (Article 30(1)(d))."""
    taxonomy: Taxonomy = field(default_factory=load_taxonomy)
    """Data category, use and subject vocabulary."""
    session: Session | None = None
    """The session the facts were read in, for rules that read the run history."""
    jurisdictions: Jurisdictions = field(default_factory=load_jurisdictions)
    """Country and adequacy facts."""

    @classmethod
    def load(cls, session: Session, taxonomy: Taxonomy | None = None, jurisdictions: Jurisdictions | None = None) -> CatalogFacts:
        graph = CatalogGraph.load(session)
        rows = graph.rows
        systems = {row.id: row for row in sorted(rows.systems.values(), key=attrgetter("id"))}
        parties = {row.id: row for row in sorted(rows.parties.values(), key=attrgetter("id"))}
        activities = {row.id: row for row in sorted(rows.activities.values(), key=attrgetter("id"))}
        datasets = {row.id: row for row in sorted(rows.datasets.values(), key=attrgetter("system_id", "name"))}
        fields = {row.id: row for row in sorted(rows.fields.values(), key=attrgetter("dataset_id", "name"))}
        flows = dict(sorted(rows.flows.items()))
        activity_systems: dict[str, list[str]] = defaultdict(list)
        for link in sorted(rows.activity_systems, key=attrgetter("activity_id", "system_id")):
            if link.activity_id in activities and link.system_id in systems:
                activity_systems[link.activity_id].append(link.system_id)
        activity_recipients: dict[str, list[str]] = defaultdict(list)
        for link in sorted(rows.activity_recipients, key=attrgetter("activity_id", "party_id")):
            if link.activity_id in activities and link.party_id in parties:
                activity_recipients[link.activity_id].append(link.party_id)
        return cls(
            graph=graph, organisation=graph.organisation, activities=activities, systems=systems, parties=parties,
            datasets=datasets, fields=fields, flows=flows, activity_systems=dict(activity_systems),
            activity_recipients=dict(activity_recipients),
            taxonomy=taxonomy or load_taxonomy(), jurisdictions=jurisdictions or load_jurisdictions(), session=session,
        )

    # ---- derived --------------------------------------------------------------------------------
    @property
    def regimes(self) -> tuple[str, ...]:
        return self.graph.regimes

    @cached_property
    def transfers(self) -> list[Transfer]:
        return derive_transfers(self.graph, self.jurisdictions)

    @cached_property
    def assessed_transfers(self) -> list[TransferRequirements]:
        """Each transfer with what it needs under each regime, assessed once for all transfer rules."""
        return [assess_transfer(self.graph, transfer) for transfer in self.transfers]

    def field_path(self, field_id: int) -> str:
        """``system.dataset.field`` for a field id."""
        item = self.fields[field_id]
        dataset = self.datasets[item.dataset_id]
        return f"{dataset.system_id}.{dataset.name}.{item.name}"

    @cached_property
    def _datasets_by_system(self) -> dict[str, list[Dataset]]:
        grouped: dict[str, list[Dataset]] = defaultdict(list)
        for dataset in self.datasets.values():
            grouped[dataset.system_id].append(dataset)
        return grouped

    @cached_property
    def _fields_by_dataset(self) -> dict[int, list[DataField]]:
        grouped: dict[int, list[DataField]] = defaultdict(list)
        for item in self.fields.values():
            grouped[item.dataset_id].append(item)
        return grouped

    def system_datasets(self, system_id: str) -> list[Dataset]:
        return list(self._datasets_by_system.get(system_id, ()))

    def dataset_fields(self, dataset_id: int) -> list[DataField]:
        return list(self._fields_by_dataset.get(dataset_id, ()))

    @cached_property
    def _flows_by_activity(self) -> dict[str, list[Flow]]:
        grouped: dict[str, list[Flow]] = defaultdict(list)
        for flow in self.flows.values():
            if flow.activity_id:
                grouped[flow.activity_id].append(flow)
        return grouped

    def activity_flows(self, activity_id: str) -> list[Flow]:
        return list(self._flows_by_activity.get(activity_id, ()))

    @cached_property
    def lineage_targets(self) -> dict[str, tuple[str, ...]]:
        """Each field key that field lineage writes, with the transformations that write it (read once)."""
        targets: dict[str, list[str]] = defaultdict(list)
        for _, target, data in self.graph.graph.edges(data=True):
            if data["kind"] == EdgeKind.FLOWS_TO and "flow_id" not in data:
                targets[target].append(data.get("transformation") or "")
        return {key: tuple(values) for key, values in targets.items()}

    @cached_property
    def _system_categories(self) -> dict[str, frozenset[str]]:
        return {system_id: frozenset(self.graph.categories_held(node_key(NodeKind.SYSTEM, system_id))) for system_id in self.systems}

    def system_categories(self, system_id: str) -> frozenset[str]:
        """Categories on the fields of a system (computed once per system)."""
        return self._system_categories.get(system_id, frozenset())

    def _carried(self, activity_id: str) -> set[str]:
        return {key for flow in self.activity_flows(activity_id) for key in flow.data_categories or ()}

    def held_categories(self, activity_id: str) -> set[str]:
        """Every category on the fields of the activity's systems, whichever purpose put it there."""
        return set().union(*(self.system_categories(system_id) for system_id in self.activity_systems.get(activity_id, ())))

    def activity_categories(self, activity_id: str) -> set[str]:
        """Every category the activity can reach: declared, held in its systems, carried by its flows.
        For finding data (the DSAR map), where missing a place is worse than naming too many; the
        record, and the rules that compare something with it, use :meth:`stated_categories`."""
        return set(self.activities[activity_id].data_categories or ()) | self.held_categories(activity_id) | self._carried(activity_id)

    def stated_categories(self, activity_id: str) -> set[str]:
        """The categories the record states for the activity (:func:`catalog.record.stated_keys`):
        declared plus carried by its flows; its systems' only when it declares none."""
        declared = self.activities[activity_id].data_categories or ()
        return stated_keys(declared, self._carried(activity_id), lambda: self.held_categories(activity_id))[0]

    def _held_subjects(self, activity_id: str) -> set[str]:
        return {
            subject for system_id in self.activity_systems.get(activity_id, ())
            for dataset in self.system_datasets(system_id) for subject in dataset.data_subjects or ()
        }

    def activity_subjects(self, activity_id: str) -> set[str]:
        """Every data subject the activity can reach: declared plus those of its systems' datasets."""
        return set(self.activities[activity_id].data_subjects or ()) | self._held_subjects(activity_id)

    def stated_subjects(self, activity_id: str) -> set[str]:
        """The data subjects the record states: declared, else those of its systems' datasets."""
        return stated_keys(self.activities[activity_id].data_subjects or (), (), lambda: self._held_subjects(activity_id))[0]
