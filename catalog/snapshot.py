"""The catalogue as spec documents: the shape of manifest YAML, one document per top-level entry.

Used for the change history (each change stores the entry's document before and after), for
reproducing the catalogue as it was at an earlier time, and for the JSON export. Documents
validate as :class:`catalog.specs.CatalogSpec` entries, so a snapshot round-trips.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from catalog.models import (
    ActivityRecipient,
    ActivitySystem,
    DataField,
    Dataset,
    Flow,
    Location,
    Organisation,
    Party,
    ProcessingActivity,
    System,
    SystemLocation,
)
from catalog.specs import ActivitySpec, FlowSpec, LocationSpec, OrganisationSpec, PartySpec, SystemSpec
from catalog.specs.system import DatasetSpec, FieldSpec

#: Section of CatalogSpec for each kind of top-level entry.
SECTIONS = {"organisation": "organisation", "location": "locations", "system": "systems", "party": "parties", "activity": "activities", "flow": "flows"}

EntryKey = tuple[str, str]


def _document(spec_class, row, rename: dict[str, str] | None = None, **extra) -> dict[str, Any]:
    """Columns of ``row`` that the spec knows, under the spec's YAML aliases, plus ``extra``."""
    rename = rename or {}
    values = {}
    for name, field in spec_class.model_fields.items():
        column = rename.get(name, name)
        if name in extra:
            values[field.alias or name] = extra[name]
        elif hasattr(row, column):
            values[field.alias or name] = getattr(row, column)
    return values


def _not_retired(model):
    return select(model).where(model.retired_run_id.is_(None))


def _system_documents(session: Session, ids: Iterable[str] | None) -> dict[EntryKey, dict]:
    statement = _not_retired(System)
    if ids is not None:
        statement = statement.where(System.id.in_(list(ids)))
    systems = session.exec(statement.order_by(System.id)).all()
    wanted = [s.id for s in systems]
    hosting: dict[str, list[str]] = {}
    for link in session.exec(select(SystemLocation).where(SystemLocation.system_id.in_(wanted))).all():
        hosting.setdefault(link.system_id, []).append(link.location_id)
    datasets: dict[str, list[Dataset]] = {}
    for dataset in session.exec(_not_retired(Dataset).where(Dataset.system_id.in_(wanted)).order_by(Dataset.name)).all():
        datasets.setdefault(dataset.system_id, []).append(dataset)
    dataset_ids = [d.id for group in datasets.values() for d in group]
    fields: dict[int, list[DataField]] = {}
    for item in session.exec(_not_retired(DataField).where(DataField.dataset_id.in_(dataset_ids)).order_by(DataField.name)).all():
        fields.setdefault(item.dataset_id, []).append(item)
    documents = {}
    for system in systems:
        dataset_docs = [
            _document(DatasetSpec, dataset, fields=[_document(FieldSpec, item) for item in fields.get(dataset.id, [])])
            for dataset in datasets.get(system.id, [])
        ]
        documents[("system", system.id)] = _document(SystemSpec, system, hosted_in=sorted(hosting.get(system.id, [])), datasets=dataset_docs)
    return documents


def _links(session: Session, model, column: str, ids: list[str]) -> dict[str, list[str]]:
    links: dict[str, list[str]] = {}
    for link in session.exec(select(model).where(model.activity_id.in_(ids))).all():
        links.setdefault(link.activity_id, []).append(getattr(link, column))
    return {key: sorted(values) for key, values in links.items()}


def entry_documents(session: Session, keys: Iterable[EntryKey] | None = None) -> dict[EntryKey, dict]:
    """Documents of current entries; all of them, or only ``keys`` (kind, id)."""
    wanted: dict[str, list[str]] | None = None
    if keys is not None:
        wanted = {}
        for kind, ident in keys:
            wanted.setdefault(kind, []).append(ident)

    def rows(model, kind):
        statement = _not_retired(model)
        if wanted is not None:
            if kind not in wanted:
                return []
            statement = statement.where(model.id.in_(wanted[kind]))
        return session.exec(statement.order_by(model.id)).all()

    documents: dict[EntryKey, dict] = {}
    for row in rows(Organisation, "organisation"):
        documents[("organisation", row.id)] = _document(OrganisationSpec, row)
    for row in rows(Location, "location"):
        documents[("location", row.id)] = _document(LocationSpec, row)
    for row in rows(Party, "party"):
        documents[("party", row.id)] = _document(PartySpec, row, {"parent": "parent_id"})
    if wanted is None or "system" in wanted:
        documents.update(_system_documents(session, None if wanted is None else wanted["system"]))
    activities = rows(ProcessingActivity, "activity")
    ids = [a.id for a in activities]
    systems, recipients = _links(session, ActivitySystem, "system_id", ids), _links(session, ActivityRecipient, "party_id", ids)
    for row in activities:
        documents[("activity", row.id)] = _document(
            ActivitySpec, row, {"controller": "controller_id", "joint_controller": "joint_controller_id"},
            systems=systems.get(row.id, []), recipients=recipients.get(row.id, []),
        )
    for row in rows(Flow, "flow"):
        documents[("flow", row.id)] = _document(
            FlowSpec, row, {"activity": "activity_id"}, from_system=row.source_system_id,
            to=row.target_system_id or row.target_party_id,
        )
    return documents


def catalog_document(documents: dict[EntryKey, dict]) -> dict[str, Any]:
    """Documents grouped into one CatalogSpec-shaped mapping, in a stable order."""
    result: dict[str, Any] = {"organisation": None, **{section: [] for kind, section in SECTIONS.items() if kind != "organisation"}}
    for (kind, _ident), document in sorted(documents.items()):
        if kind == "organisation":
            result["organisation"] = document
        else:
            result[SECTIONS[kind]].append(document)
    return result
