"""The ``fides`` source: fideslang resource files (systems, datasets, privacy declarations).

Fides keeps a data map as YAML resources: top-level lists ``organization``, ``system`` and
``dataset`` (``data_category``, ``data_use`` and ``data_subject`` define taxonomy keys). Systems
become our systems; the datasets a system's privacy declarations reference become its datasets,
one per collection, with the fields that carry data categories (nested fields flattened with
dots); each privacy declaration becomes a processing activity; egress and ingress between systems
become flows. Data categories in Fides are declared by people, but Fides is not a manual source
here: they are asserted facts of ``fides:<organisation>``, overridable from a manifest.

Fides has no locations or countries, so every system is reported as still needing one. Files are
read with the project's safe YAML loader and checked with small pydantic models of the keys used
(fideslang's own models require keys, such as ``system_type``, that hand-written files omit), so
every problem is reported with its file and line. Keys are checked against fideslang's models:
one fideslang defines but this source does not read is ignored, and any other is an error with
the nearest key (fideslang itself silently drops it, so a misspelt ``privacy_declaration`` would
otherwise lose every declaration). Likewise a top-level resource type fideslang does not know is
an error, and one it knows but this source does not import (``policy``) a warning.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

import fideslang
import fideslang.models
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.apply import Loc
from catalog.specs import CatalogSpec
from catalog.store import Catalog
from catalog.suggest import nearest
from catalog.taxonomy import TaxonomyKind, UnknownTaxonomyKey, load_taxonomy
from ingest.base import IngestReport, Source, SourceConfig, apply_and_report
from ingest.errors import IngestError, LocatedError, format_field_path, resolve_path, validation_problems
from ingest.manifest import manifest_files
from catalog.specs.common import slug, unique_id
from ingest.tabular import MAX_FILE_BYTES, article9_conditions_in, check_file, lawful_bases_in, scoped_source
from ingest.yaml_source import YamlDocument, load_yaml

SOURCE_NAME = "fides"
DEFAULT_ORGANIZATION = "default_organization"
IMPORTED_SECTIONS = ("organization", "system", "dataset")
TAXONOMY_SECTIONS = {"data_category": TaxonomyKind.DATA_CATEGORY, "data_use": TaxonomyKind.DATA_USE, "data_subject": TaxonomyKind.DATA_SUBJECT}
PROCESSOR_RESPONSIBILITIES = {"processor", "sub-processor"}


# ------------------------------------------------------------------------------------------------
# The fideslang keys this source reads (others are ignored)
# ------------------------------------------------------------------------------------------------


class _Fides(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    #: The fideslang model of this part of a resource: the keys it defines are the keys allowed.
    fideslang_model: ClassVar[type[BaseModel]]
    #: Keys fideslang still accepts though they are no field of its model (deprecated, dropped with its own warning).
    fideslang_deprecated: ClassVar[tuple[str, ...]] = ()


class FidesFlow(_Fides):
    fideslang_model = fideslang.models.DataFlow

    fides_key: str
    type: Literal["system", "dataset", "user"] = "system"
    data_categories: list[str] | None = None


class FidesDeclaration(_Fides):
    fideslang_model = fideslang.models.PrivacyDeclaration
    fideslang_deprecated = ("cookies",)

    name: str | None = None
    data_categories: list[str] = Field(default_factory=list)
    data_use: str
    data_subjects: list[str] = Field(default_factory=list)
    dataset_references: list[str] | None = None
    legal_basis_for_processing: str | None = None
    special_category_legal_basis: str | None = None
    retention_period: str | None = None
    third_parties: str | list[str] | None = None
    egress: list[str | FidesFlow] | None = None
    ingress: list[str | FidesFlow] | None = None


class FidesSystem(_Fides):
    fideslang_model = fideslang.models.System
    fideslang_deprecated = ("cookies",)

    fides_key: str
    organization_fides_key: str | None = None
    name: str | None = None
    description: str | None = None
    system_type: str | None = None
    egress: list[FidesFlow] | None = None
    ingress: list[FidesFlow] | None = None
    responsibility: list[Literal["Controller", "Processor", "Sub-Processor"]] = Field(default_factory=list)
    dpo: str | None = None
    joint_controller_info: str | None = None
    data_security_practices: str | None = None
    dataset_references: list[str] = Field(default_factory=list)
    privacy_declarations: list[FidesDeclaration] = Field(default_factory=list)


class FidesField(_Fides):
    fideslang_model = fideslang.models.DatasetField

    name: str
    description: str | None = None
    data_categories: list[str] | None = None
    fields: list[FidesField] | None = None


class FidesCollection(_Fides):
    fideslang_model = fideslang.models.DatasetCollection

    name: str
    description: str | None = None
    fields: list[FidesField] = Field(default_factory=list)


class FidesDataset(_Fides):
    fideslang_model = fideslang.models.Dataset

    fides_key: str
    name: str | None = None
    description: str | None = None
    collections: list[FidesCollection] = Field(default_factory=list)


class FidesOrganization(_Fides):
    fideslang_model = fideslang.models.Organization

    fides_key: str
    name: str | None = None


_MODELS: dict[str, type[_Fides]] = {"organization": FidesOrganization, "system": FidesSystem, "dataset": FidesDataset}
#: Every top-level resource type fideslang reads (its own parser refuses any other).
FIDESLANG_SECTIONS = tuple(fideslang.model_list)


@cache
def known_keys(model: type[_Fides]) -> tuple[str, ...]:
    """The keys a resource part may hold: fideslang's (names and aliases) and this source's own."""
    keys = {key for owner in (model, model.fideslang_model) for name, info in owner.model_fields.items() for key in (name, info.alias) if key}
    return tuple(sorted(keys | set(model.fideslang_deprecated)))


def unknown_keys(model: type[_Fides], value: Any, path: Loc = ()) -> Iterator[tuple[Loc, str | None]]:
    """``(path, nearest known key)`` of every key neither fideslang nor this source defines, in
    ``value`` and the parts nested in it that this source reads."""
    if not isinstance(value, dict):
        return
    keys = known_keys(model)
    for key, item in value.items():
        if key not in keys:
            yield (*path, key), nearest(str(key), keys)
            continue
        nested = resolve_path(model, (key,)).model
        if nested is None or not issubclass(nested, _Fides):
            continue
        for index, part in enumerate(item) if isinstance(item, list) else [(None, item)]:
            yield from unknown_keys(nested, part, (*path, key) if index is None else (*path, key, index))


# ------------------------------------------------------------------------------------------------
# Reading the files
# ------------------------------------------------------------------------------------------------


@dataclass
class _Resource:
    """One parsed resource and where it is."""

    document: YamlDocument
    path: Loc  # (section, index) in its file
    value: Any

    def at(self, message: str, sub: Loc = (), suggestion: str | None = None) -> LocatedError:
        return LocatedError(message, self.document.file, self.document.line_of((*self.path, *sub)), field_path=format_field_path((*self.path, *sub)), suggestion=suggestion)

    @property
    def ref(self) -> str:
        return self.ref_of(())

    def ref_of(self, sub: Loc) -> str:
        """``file:line`` of a place inside the resource, for source_ref."""
        return f"{self.document.file}:{self.document.line_of((*self.path, *sub))}"


@dataclass
class _Resources:
    organizations: list[_Resource] = field(default_factory=list)
    systems: list[_Resource] = field(default_factory=list)
    datasets: list[_Resource] = field(default_factory=list)
    defined_keys: dict[TaxonomyKind, set[str]] = field(default_factory=lambda: {kind: set() for kind in TaxonomyKind})
    errors: list[LocatedError] = field(default_factory=list)
    warnings: list[LocatedError] = field(default_factory=list)

    def add(self, document: YamlDocument) -> None:
        if document.data is None:
            return
        if not isinstance(document.data, dict):
            self.errors.append(LocatedError(f"the top level must be a mapping of resource lists ({', '.join(IMPORTED_SECTIONS)})", document.file, document.line_of(())))
            return
        for section, items in document.data.items():
            line = document.line_of((section,))
            if section in TAXONOMY_SECTIONS:
                self._taxonomy(document, section, items)
                continue
            if section not in FIDESLANG_SECTIONS:
                self.errors.append(LocatedError(
                    f"unknown resource type '{section}'", document.file, line, field_path=str(section), suggestion=nearest(str(section), FIDESLANG_SECTIONS),
                ))
                continue
            if section not in _MODELS:
                self.warnings.append(LocatedError(f"'{section}' resources are not imported (this source reads {', '.join(IMPORTED_SECTIONS)})", document.file, line, field_path=str(section)))
                continue
            if items is None:
                continue
            if not isinstance(items, list):
                self.errors.append(LocatedError(f"'{section}' must be a list of resources", document.file, line, field_path=str(section)))
                continue
            for index, item in enumerate(items):
                self._resource(document, section, index, item)

    def _resource(self, document: YamlDocument, section: str, index: int, item: Any) -> None:
        model = _MODELS[section]
        misspelt = [
            LocatedError(f"unknown key '{loc[-1]}'", document.file, document.line_of(loc), field_path=format_field_path(loc), suggestion=suggestion)
            for loc, suggestion in unknown_keys(model, item, (section, index))
        ]
        self.errors.extend(misspelt)
        try:
            value = model.model_validate(item)
        except ValidationError as error:
            for problem in validation_problems(error, model):
                loc = (section, index, *problem.loc)
                self.errors.append(LocatedError(problem.message, document.file, document.line_of(loc), field_path=format_field_path(loc), suggestion=problem.suggestion))
            return
        if misspelt:
            return
        {"organization": self.organizations, "system": self.systems, "dataset": self.datasets}[section].append(_Resource(document, (section, index), value))

    def _taxonomy(self, document: YamlDocument, section: str, items: Any) -> None:
        """Keys a file defines: checked against the catalogue's taxonomy later, not imported."""
        kind = TAXONOMY_SECTIONS[section]
        if not isinstance(items, list | None):
            self.errors.append(LocatedError(f"'{section}' must be a list of entries", document.file, document.line_of((section,)), field_path=section))
            return
        for index, item in enumerate(items or []):
            if isinstance(item, dict) and isinstance(item.get("fides_key"), str):
                self.defined_keys[kind].add(item["fides_key"])
            else:
                self.errors.append(LocatedError("a taxonomy entry needs a fides_key", document.file, document.line_of((section, index)), field_path=format_field_path((section, index))))
        self.warnings.append(LocatedError(
            f"'{section}' entries are not imported: the catalogue's taxonomy is fideslang's default plus the project extension; keys are checked against it",
            document.file, document.line_of((section,)), field_path=section,
        ))


def _shown(file: Path, root: Path) -> str:
    return file.relative_to(root).as_posix() if root.is_dir() else file.name


def read_resources(path: Path, max_bytes: int = MAX_FILE_BYTES) -> _Resources:
    """Every resource of a file or directory; IngestError on unreadable, oversized or invalid files."""
    path = Path(path)
    resources = _Resources()
    for file in manifest_files(path):
        shown = _shown(file, path)
        try:
            check_file(file, max_bytes, shown)
            resources.add(load_yaml(file, shown))
        except IngestError as error:
            resources.errors.extend(error.errors)
    return resources


# ------------------------------------------------------------------------------------------------
# Mapping to the catalogue
# ------------------------------------------------------------------------------------------------


def _flatten(fields: Iterable[FidesField], prefix: str = "") -> list[tuple[str, FidesField]]:
    """Fields with data categories, nested ones named with dots (``address.city``)."""
    flat: list[tuple[str, FidesField]] = []
    for item in fields:
        name = f"{prefix}{item.name}"
        if item.data_categories:
            flat.append((name, item))
        flat.extend(_flatten(item.fields or (), f"{name}."))
    return flat


class _Mapper:
    """Builds the spec from the resources, collecting errors and warnings with their places."""

    def __init__(self, resources: _Resources):
        self.resources = resources
        self.errors, self.warnings = resources.errors, resources.warnings
        self.taxonomy = load_taxonomy()
        self.system_ids: dict[str, str] = {}  # fides_key -> catalogue id
        self.datasets = {resource.value.fides_key: resource for resource in resources.datasets}
        self.dataset_owners: dict[str, list[str]] = {}  # dataset fides_key -> system ids referencing it
        self.refs: dict[Loc, str] = {}

    def check_key(self, resource: _Resource, kind: TaxonomyKind, key: str, sub: Loc) -> None:
        try:
            self.taxonomy.check(kind, key)
        except UnknownTaxonomyKey as error:
            defined = " (defined in the input's own taxonomy; add it to catalog/data/taxonomy_extension.yaml to use it)" if key in self.resources.defined_keys[kind] else ""
            self.errors.append(resource.at(f"unknown {kind.label} '{key}'{defined}", sub, error.suggestion))

    def map_ids(self) -> None:
        taken: dict[str, str] = {}
        for resource in self.resources.systems:
            key = resource.value.fides_key
            ident = slug(key)
            if not ident:
                self.errors.append(resource.at(f"fides_key '{key}' has no letters or digits to make an id from", ("fides_key",)))
                continue
            if ident in taken and taken[ident] != key:
                self.errors.append(resource.at(f"fides_key '{key}' and '{taken[ident]}' both become id '{ident}'", ("fides_key",)))
                continue
            if key in self.system_ids:
                self.errors.append(resource.at(f"system '{key}' is declared twice", ("fides_key",)))
                continue
            taken[ident] = key
            self.system_ids[key] = ident
            if ident != key:
                self.warnings.append(resource.at(f"system '{key}' is recorded with id '{ident}' (ids are lower case letters, digits, '-' and '_')", ("fides_key",)))

    def system_ref(self, resource: _Resource, key: str, sub: Loc) -> str | None:
        ident = self.system_ids.get(key)
        if ident is None:
            self.errors.append(resource.at(f"unknown system '{key}'", sub, nearest(key, self.system_ids)))
        return ident

    def datasets_of(self, resource: _Resource, system_id: str) -> list[dict]:
        """The datasets a system references (system-level and in its declarations), one per collection."""
        system: FidesSystem = resource.value
        references: list[tuple[str, Loc]] = [(key, ("dataset_references", index)) for index, key in enumerate(system.dataset_references)]
        for d_index, declaration in enumerate(system.privacy_declarations):
            references += [(key, ("privacy_declarations", d_index, "dataset_references", index)) for index, key in enumerate(declaration.dataset_references or ())]
        specs: list[dict] = []
        seen: set[str] = set()
        for key, sub in references:
            if key in seen:
                continue
            seen.add(key)
            dataset = self.datasets.get(key)
            if dataset is None:
                self.errors.append(resource.at(f"unknown dataset '{key}'", sub, nearest(key, self.datasets)))
                continue
            self.dataset_owners.setdefault(key, []).append(system_id)
            specs.extend(self.collections(dataset))
        return specs

    def collections(self, resource: _Resource) -> list[dict]:
        dataset: FidesDataset = resource.value
        specs = []
        for c_index, collection in enumerate(dataset.collections):
            fields = []
            for name, item in _flatten(collection.fields):
                for key in item.data_categories or ():
                    self.check_key(resource, TaxonomyKind.DATA_CATEGORY, key, ("collections", c_index, "fields"))
                fields.append({"name": name, "categories": list(dict.fromkeys(item.data_categories or ())), **({"description": item.description} if item.description else {})})
            spec = {"name": f"{dataset.fides_key}.{collection.name}", "fields": fields}
            if collection.description:
                spec["description"] = collection.description
            specs.append(spec)
        return specs

    def activity(self, resource: _Resource, system_id: str, index: int, declaration: FidesDeclaration, taken: set[str]) -> dict:
        system: FidesSystem = resource.value
        sub: Loc = ("privacy_declarations", index)
        self.check_key(resource, TaxonomyKind.DATA_USE, declaration.data_use, (*sub, "data_use"))
        for key_index, key in enumerate(declaration.data_categories):
            self.check_key(resource, TaxonomyKind.DATA_CATEGORY, key, (*sub, "data_categories", key_index))
        for key_index, key in enumerate(declaration.data_subjects):
            self.check_key(resource, TaxonomyKind.DATA_SUBJECT, key, (*sub, "data_subjects", key_index))
        use_label = self.taxonomy.label(TaxonomyKind.DATA_USE, declaration.data_use)
        data: dict[str, Any] = {
            "id": unique_id(slug(f"{system_id}-{declaration.data_use}"), taken),
            "name": declaration.name or f"{system.name or system.fides_key}: {use_label}",
            "purposes": [declaration.data_use],
            "systems": [system_id],
        }
        if declaration.data_categories:
            data["data_categories"] = list(dict.fromkeys(declaration.data_categories))
        if declaration.data_subjects:
            data["data_subjects"] = list(dict.fromkeys(declaration.data_subjects))
        if declaration.legal_basis_for_processing:
            match = lawful_bases_in(declaration.legal_basis_for_processing)
            if len(match.values) == 1:
                data["lawful_basis"] = match.values[0]
            else:
                self.errors.append(resource.at(f"unknown legal_basis_for_processing '{declaration.legal_basis_for_processing}'", (*sub, "legal_basis_for_processing"), match.suggestion))
        if declaration.special_category_legal_basis:
            match = article9_conditions_in(declaration.special_category_legal_basis)
            if len(match.values) == 1:
                data["article9_condition"] = match.values[0]
            else:
                self.errors.append(resource.at(f"unknown special_category_legal_basis '{declaration.special_category_legal_basis}'", (*sub, "special_category_legal_basis"), match.suggestion))
        if declaration.retention_period:
            data["retention"] = declaration.retention_period
        if declaration.third_parties:
            named = declaration.third_parties if isinstance(declaration.third_parties, str) else ", ".join(declaration.third_parties)
            self.warnings.append(resource.at(f"third parties '{named}' are not linked: record them as parties (and flows) in a manifest", (*sub, "third_parties")))
        return data


@dataclass
class _Flows:
    """Flows between systems, merged when both ends (or system and declaration) declare them."""

    by_ends: dict[tuple[str, str], dict] = field(default_factory=dict)

    def add(self, source: str, target: str, categories: Iterable[str], activity: str | None, ref: str) -> None:
        if source == target:
            return
        flow = self.by_ends.setdefault((source, target), {"id": f"{source}-to-{target}"[:200], "from": source, "to": target, "categories": [], "ref": ref})
        flow["categories"] = list(dict.fromkeys([*flow["categories"], *categories]))
        if activity and "activity" not in flow:
            flow["activity"] = activity


def build_spec(resources: _Resources) -> tuple[CatalogSpec, dict[Loc, str], list[LocatedError]]:
    """The catalogue spec the resources describe; IngestError listing every problem, located."""
    mapper = _Mapper(resources)
    mapper.map_ids()
    current = [(resource, mapper.system_ids[resource.value.fides_key]) for resource in resources.systems if resource.value.fides_key in mapper.system_ids]
    systems = [_system(mapper, resource, ident) for resource, ident in current]  # first: datasets, so flows can find their owners
    activities: list[dict] = []
    activity_refs: list[str] = []
    activity_ids: set[str] = set()
    flows = _Flows()
    for resource, ident in current:
        system: FidesSystem = resource.value
        for d_index, declaration in enumerate(system.privacy_declarations):
            activity = mapper.activity(resource, ident, d_index, declaration, activity_ids)
            activity_refs.append(resource.ref_of(("privacy_declarations", d_index)))
            activities.append(activity)
            for direction in ("egress", "ingress"):
                for f_index, item in enumerate(getattr(declaration, direction) or ()):
                    flow = item if isinstance(item, FidesFlow) else FidesFlow(fides_key=item, type="system")
                    _declared_flow(mapper, flows, resource, ident, direction, flow, ("privacy_declarations", d_index, direction, f_index), activity["id"])
        for direction in ("egress", "ingress"):
            for f_index, flow in enumerate(getattr(system, direction) or ()):
                _declared_flow(mapper, flows, resource, ident, direction, flow, (direction, f_index), None)
    for key, resource in mapper.datasets.items():
        if key not in mapper.dataset_owners:
            mapper.warnings.append(resource.at(f"dataset '{key}' is referenced by no system's privacy declarations: not imported"))
    if mapper.errors:
        raise IngestError(mapper.errors)
    flow_list = list(flows.by_ends.values())
    refs: dict[Loc, str] = {("systems", index): resource.ref for index, (resource, _) in enumerate(current)}
    refs.update({("activities", index): ref for index, ref in enumerate(activity_refs)})
    refs.update({("flows", index): flow.pop("ref") for index, flow in enumerate(flow_list)})
    try:
        spec = CatalogSpec.model_validate({"systems": systems, "activities": activities, "flows": flow_list})
    except ValidationError as error:  # what the checks above did not catch, e.g. an over-long name
        raise IngestError(
            LocatedError(problem.message, *_file_and_line(refs.get(tuple(problem.loc[:2]))), field_path=format_field_path(problem.loc), suggestion=problem.suggestion)
            for problem in validation_problems(error, CatalogSpec)
        ) from None
    return spec, refs, mapper.warnings


def _file_and_line(ref: str | None) -> tuple[str | None, int | None]:
    if not ref:
        return None, None
    file, _, line = ref.rpartition(":")
    return file, int(line) if line.isdigit() else None


def _system(mapper: _Mapper, resource: _Resource, ident: str) -> dict:
    """SystemSpec data with only what Fides says, and the warnings for what it cannot say."""
    system: FidesSystem = resource.value
    spec: dict[str, Any] = {"id": ident, "name": system.name or system.fides_key}
    if system.description:
        spec["description"] = system.description
    responsibilities = {item.casefold() for item in system.responsibility}
    if responsibilities:
        spec["role"] = "controller" if "controller" in responsibilities else "processor"
    if system.data_security_practices:
        spec["security_measures"] = [system.data_security_practices]
    spec["datasets"] = mapper.datasets_of(resource, ident)
    mapper.warnings.append(resource.at(f"system '{ident}' has no location: Fides records none, so add hosted_in for it in a manifest"))
    if spec.get("role") == "processor":
        mapper.warnings.append(resource.at(
            f"system '{ident}' is a processor: its declarations are recorded as activities; name the client controller for them in a manifest", ("responsibility",),
        ))
    if system.joint_controller_info:
        mapper.warnings.append(resource.at("joint controller information is not linked: record the joint controller as a party in a manifest", ("joint_controller_info",)))
    return spec


def _declared_flow(mapper: _Mapper, flows: _Flows, resource: _Resource, system_id: str, direction: str, flow: FidesFlow, sub: Loc, activity: str | None) -> None:
    """One egress or ingress entry as a flow between systems; data to or from users is not a flow,
    and a flow to a dataset goes to the other systems that reference it."""
    for index, key in enumerate(flow.data_categories or ()):
        mapper.check_key(resource, TaxonomyKind.DATA_CATEGORY, key, (*sub, "data_categories", index))
    if flow.type == "user":
        return
    if flow.type == "dataset":
        if flow.fides_key not in mapper.datasets:
            mapper.errors.append(resource.at(f"unknown dataset '{flow.fides_key}'", (*sub, "fides_key"), nearest(flow.fides_key, mapper.datasets)))
        targets = [owner for owner in mapper.dataset_owners.get(flow.fides_key, []) if owner != system_id]
    else:
        target = mapper.system_ref(resource, flow.fides_key, (*sub, "fides_key"))
        targets = [target] if target else []
    for other in targets:
        source, target = (system_id, other) if direction == "egress" else (other, system_id)
        flows.add(source, target, flow.data_categories or (), activity, resource.ref_of(sub))


def organisation_scope(resources: _Resources, chosen: str | None) -> str:
    """The organisation whose data map this is: the one named, the only one declared, or Fides'
    default; systems of another organisation are left out with a warning."""
    declared = [resource.value.fides_key for resource in resources.organizations]
    if chosen is None and len(set(declared)) > 1:
        raise IngestError([resources.organizations[1].at(
            f"several organizations are declared ({', '.join(sorted(set(declared)))}): choose one with --organization",
        )])
    organisation = chosen or (declared[0] if declared else DEFAULT_ORGANIZATION)
    if chosen is not None and declared and chosen not in declared:
        raise IngestError([LocatedError(f"no organization '{chosen}' in the input", suggestion=nearest(chosen, declared))])
    kept = []
    for resource in resources.systems:
        owner = resource.value.organization_fides_key
        if owner is not None and owner != organisation:
            resources.warnings.append(resource.at(f"system of organization '{owner}', not '{organisation}': left out", ("organization_fides_key",)))
        else:
            kept.append(resource)
    resources.systems = kept
    return organisation


def load_fides(path: Path | str, *, organization: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> tuple[str, CatalogSpec, dict[Loc, str], list[LocatedError]]:
    """Read fideslang resources: (organisation key, spec, source refs, warnings); IngestError on any problem."""
    resources = read_resources(Path(path), max_bytes)
    if resources.errors:
        raise IngestError(resources.errors)
    organisation = organisation_scope(resources, organization)
    spec, refs, warnings = build_spec(resources)
    return organisation, spec, refs, warnings


def ingest_fides(
    catalog: Catalog, path: Path | str, *, organization: str | None = None, max_bytes: int = MAX_FILE_BYTES, actor: str = "",
    allow_empty: bool = False,
) -> IngestReport:
    """Ingest a Fides file or directory as one run of ``fides:<organisation>``; the input is the
    whole truth for that organisation, so systems removed from it are retired."""
    started = time.monotonic()
    organisation, spec, refs, warnings = load_fides(path, organization=organization, max_bytes=max_bytes)
    return apply_and_report(
        catalog, spec, source=scoped_source(SOURCE_NAME, slug(organisation) or DEFAULT_ORGANIZATION), target=str(path),
        actor=actor, source_refs=refs, warnings=warnings, complete=True, started=started, allow_empty=allow_empty,
    )


class FidesSource(Source):
    """Fides data map resources: systems, datasets and privacy declarations."""

    name = SOURCE_NAME
    description = "Fides (fideslang) resource YAML: systems, datasets and privacy declarations, from a file or a directory."

    class Config(SourceConfig):
        path: Path = Field(description="A fideslang resource file, or a directory read recursively for *.yml and *.yaml files.")
        organization: str | None = Field(default=None, description="fides_key of the organization to import when the input declares several.")
        max_bytes: int = Field(default=MAX_FILE_BYTES, gt=0, description="Refuse any file larger than this many bytes, before parsing.")

    def run(self, catalog: Catalog, config: Config, actor: str = "") -> IngestReport:
        return ingest_fides(
            catalog, config.path, organization=config.organization, max_bytes=config.max_bytes, actor=actor, allow_empty=config.allow_empty,
        )
