"""The ``dbt`` source: a project's models, sources, seeds and snapshots from ``target/manifest.json``.

Each dataset node becomes a dataset of one of our systems (``--system``, the warehouse), named by
its relation (``database.schema.alias``, or ``schema.alias``), with its columns as fields.
``parent_map`` gives dataset-level flows inside the warehouse (tests and other non-dataset nodes
are left out; ephemeral models are looked through). Exposures (dashboards, applications) become
flows to the system or party an ``--exposure-map`` names; the others are listed in a warning.

dbt has no standard PII marker, so the meta keys are configurable (``contains_pii``, ``gdpr.pii``
...), read from both ``meta`` and ``config.meta`` (dbt 1.10 moved column meta under ``config``),
as are tags. Markers become category suggestions (recogniser ``dbt:meta`` / ``dbt:tag``) for a
person to confirm, never categories asserted on the field. Manifests of dbt 1.5 onward
(``dbt_schema_version`` v9 to v12) are read; others are refused before anything else is read.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import select

from catalog.apply import Loc
from catalog.collector import collector_paused
from catalog.models import Party
from catalog.specs import CatalogSpec
from catalog.store import Catalog
from catalog.suggest import nearest
from catalog.taxonomy import TaxonomyKind, load_taxonomy
from ingest.base import IngestReport, Source, SourceConfig, apply_and_report
from ingest.errors import IngestError, LocatedError, format_field_path, validation_problems
from ingest.openlineage import (
    DEFAULT_MAX_BYTES,
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REF_LENGTH,
    MAX_TYPE_LENGTH,
    NAMED_CATEGORY_SCORE,
    FieldSuggestions,
    category_for_word,
    clip,
    current_systems,
    load_category_map,
    marker_categories,
    parse_json,
    read_limited,
    short_id,
    split_commas,
    load_small_yaml,
    system_entry,
    validated_spec,
)
from catalog.specs.common import slug
from ingest.tabular import scoped_source
from ingest.yaml_source import YamlDocument

SOURCE_NAME = "dbt"
SUPPORTED_SCHEMA_VERSIONS = range(9, 13)  # v9 (dbt 1.5) to v12 (dbt 1.8 and later)
SCHEMA_VERSION = re.compile(r"/manifest/v(\d+)(?:\.json)?$")
DATASET_TYPES = ("model", "seed", "snapshot")
DEFAULT_PII_KEYS = ("contains_pii", "has_pii", "pii", "sensitive", "gdpr.pii")
DEFAULT_CATEGORY_KEYS = ("category", "categories", "data_category", "data_categories")
MAX_EVIDENCE_LENGTH = 200


Meta = dict[str, Any] | None
Tags = list[str] | str | None  # dbt config accepts one tag as a string


def _tags(tags: Tags, config_tags: Tags) -> list[str]:
    """Tags from both places they may be, as one list."""
    if not tags and not config_tags:
        return []
    return [tag for value in (tags, config_tags) if value for tag in ([value] if isinstance(value, str) else value)]


def _meta(meta: Meta, config_meta: Meta) -> dict[str, Any]:
    """Meta from both places it may be; ``config.meta`` wins. Only read, so one place's own mapping
    is returned as it is rather than copied (called per column)."""
    if not config_meta:
        return meta or {}
    return {**meta, **config_meta} if meta else config_meta


class _Lenient(BaseModel):
    """Manifest parts: what this source reads is type-checked; everything else is ignored.
    Optional parts are plain ``X | None`` (no Python validators): a manifest has many columns."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)


class _ColumnConfig(_Lenient):
    meta: Meta = None
    tags: Tags = None


class _Column(_Lenient):
    name: str | None = None
    description: str | None = None
    data_type: str | None = None
    meta: Meta = None
    tags: Tags = None
    config: _ColumnConfig | None = None


class _NodeConfig(_Lenient):
    meta: Meta = None
    tags: Tags = None
    materialized: str | None = None


class _DependsOn(_Lenient):
    nodes: list[str] | None = None


class _Node(_Lenient):
    """A model, seed, snapshot or source."""

    resource_type: str
    name: str = Field(min_length=1)
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    alias: str | None = None
    identifier: str | None = None  # sources
    description: str | None = None
    columns: dict[str, _Column] | None = None
    meta: Meta = None
    tags: Tags = None
    config: _NodeConfig | None = None
    depends_on: _DependsOn | None = None

    @property
    def materialized(self) -> str | None:
        return self.config.materialized if self.config else None

    @property
    def parents(self) -> list[str]:
        return (self.depends_on.nodes or []) if self.depends_on else []

    @property
    def relation(self) -> str | None:
        """``database.schema.alias`` (or ``schema.alias``): what the warehouse calls the table."""
        table = self.identifier or self.alias or self.name
        if self.materialized == "ephemeral" or not self.schema_:
            return None
        return ".".join(part for part in (self.database, self.schema_, table) if part)


class _Exposure(_Lenient):
    name: str = Field(min_length=1)
    type: str | None = None
    label: str | None = None
    depends_on: _DependsOn | None = None


class _Metadata(_Lenient):
    dbt_schema_version: str
    project_name: str | None = None


class _Manifest(_Lenient):
    metadata: _Metadata
    nodes: dict[str, Any] | None = None  # each dataset node is validated on its own, located by its id
    sources: dict[str, Any] | None = None
    exposures: dict[str, Any] | None = None
    parent_map: dict[str, list[str]] | None = None


def schema_version(data: Any, file: str) -> int:
    """The manifest's schema version; IngestError naming the version found when it is not v9-v12."""
    metadata = data.get("metadata") if isinstance(data, dict) else None
    declared = metadata.get("dbt_schema_version") if isinstance(metadata, dict) else None
    if not isinstance(declared, str):
        raise IngestError([LocatedError("not a dbt manifest: metadata.dbt_schema_version is missing", file, field_path="metadata.dbt_schema_version")])
    match = SCHEMA_VERSION.search(declared.strip())
    if not match:
        raise IngestError([LocatedError(f"not a dbt manifest schema: '{declared[:120]}'", file, field_path="metadata.dbt_schema_version")])
    version = int(match.group(1))
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        first, last = SUPPORTED_SCHEMA_VERSIONS[0], SUPPORTED_SCHEMA_VERSIONS[-1]
        raise IngestError([LocatedError(
            f"dbt manifest schema v{version} is not supported: this source reads v{first} to v{last} (dbt 1.5 onward)"
            + ("; regenerate the manifest with dbt 1.5 or later" if version < first else ""),
            file, field_path="metadata.dbt_schema_version",
        )])
    return version


def _problems(error: ValidationError, model: type[BaseModel], file: str, prefix: Loc = ()) -> list[LocatedError]:
    return [
        LocatedError(p.message, file, field_path=format_field_path((*prefix, *p.loc)), suggestion=p.suggestion)
        for p in validation_problems(error, model)
    ]


def _lookup(meta: dict[str, Any], key: str) -> tuple[bool, Any]:
    """A meta key, literal (``"gdpr.pii"``) or nested (``gdpr: {pii: ...}``): (found, value)."""
    if key in meta:
        return True, meta[key]
    current: Any = meta
    for part in key.split("."):
        if not isinstance(current, dict) or part not in current:
            return False, None
        current = current[part]
    return True, current


@dataclass
class ExposureMap:
    """The ``--exposure-map`` file: exposure name (or unique id) -> system or party id, and where
    each entry is, so mistakes in it are reported against it."""

    targets: dict[str, str] = field(default_factory=dict)
    document: YamlDocument | None = None

    def at(self, key: str, message: str, suggestion: str | None = None) -> LocatedError:
        if self.document is None:
            return LocatedError(message, field_path=key, suggestion=suggestion)
        return LocatedError(message, self.document.file, self.document.line_of((key,)), field_path=key, suggestion=suggestion)


@dataclass
class DbtOptions:
    system: str
    pii_keys: tuple[str, ...] = DEFAULT_PII_KEYS
    category_keys: tuple[str, ...] = DEFAULT_CATEGORY_KEYS
    category_map: dict[str, str] = field(default_factory=dict)
    exposure_map: ExposureMap = field(default_factory=ExposureMap)


@dataclass
class _DatasetDraft:
    name: str
    ref: str
    description: str
    fields: dict[str, dict] = field(default_factory=dict)


class _ManifestReader:
    """Turns a validated manifest into datasets, flows, suggestions and warnings."""

    def __init__(self, manifest: _Manifest, file: str, options: DbtOptions, source: str):
        self.manifest, self.file, self.options, self.source = manifest, file, options, source
        self.nodes: dict[str, _Node] = {}
        self.errors: list[LocatedError] = []
        self.warnings: list[LocatedError] = []
        self.suggestions = FieldSuggestions(source)
        self.datasets: dict[str, _DatasetDraft] = {}
        self.dataset_of: dict[str, str] = {}  # unique_id -> dataset name
        self.node_markers: list[str] = []
        self.unknown_words: dict[str, set[str]] = {}
        self.long_names: list[str] = []
        self.pii_tags = {key.lower() for key in options.pii_keys}
        self.categories_of: dict[tuple[type, Any], tuple[list[tuple[str, float]], list[str]]] = {}  # see _categories
        self.category_of_word: dict[str, str | None] = {}
        self.keys_in: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}  # see _keys_in

    def read_nodes(self) -> None:
        for section, entries in (("nodes", self.manifest.nodes), ("sources", self.manifest.sources)):
            for unique_id, raw in (entries or {}).items():
                if section == "nodes" and (not isinstance(raw, dict) or raw.get("resource_type") not in DATASET_TYPES):
                    continue  # tests, analyses, operations, semantic models: not datasets
                try:
                    self.nodes[unique_id] = _Node.model_validate(raw)
                except ValidationError as error:
                    self.errors.extend(_problems(error, _Node, self.file, (section, unique_id)))

    def build_datasets(self) -> None:
        for unique_id, node in self.nodes.items():
            relation = node.relation
            if relation is None:
                continue  # ephemeral: no table, looked through for lineage
            if len(relation) > MAX_NAME_LENGTH:
                self.long_names.append(unique_id)
                continue
            self.dataset_of[unique_id] = relation
            draft = self.datasets.setdefault(relation, _DatasetDraft(relation, clip(f"{self.file} {unique_id}", MAX_REF_LENGTH), clip(node.description, MAX_DESCRIPTION_LENGTH) or ""))
            config = node.config or _NodeConfig()
            if self._markers(_meta(node.meta, config.meta), _tags(node.tags, config.tags), None, unique_id):
                self.node_markers.append(relation)
            fields = draft.fields
            for key, column in (node.columns or {}).items():
                name = column.name or key
                if not name or len(name) > MAX_NAME_LENGTH:
                    self.long_names.append(f"{unique_id}.{name[:40]}")
                    continue
                if name in fields:
                    continue
                entry = fields[name] = {"name": name}
                if column.data_type:
                    entry["data_type"] = clip(column.data_type, MAX_TYPE_LENGTH)
                if column.description:
                    entry["description"] = clip(column.description, MAX_DESCRIPTION_LENGTH)
                config = column.config or _ColumnConfig()
                if column.meta or column.tags or config.meta or config.tags:  # most columns have none: nothing to merge
                    self._markers(_meta(column.meta, config.meta), _tags(column.tags, config.tags), (self.options.system, relation, name), f"{unique_id}.{name}")

    def _markers(self, meta: dict[str, Any], tags: Iterable[str], target: tuple[str, str, str] | None, where: str) -> bool:
        """Record the suggestions a node's or column's meta and tags make; True when any marker says PII."""
        if not meta and not tags:
            return False
        found: list[tuple[str, float, str, dict]] = []
        pii_keys, category_keys = self._keys_in(meta) if meta else ((), ())
        for key in pii_keys:
            present, value = _lookup(meta, key)
            if present:
                categories, unknown = self._categories(value)
                found += [(category, score, "dbt:meta", {"meta": key, "value": _evidence(value)}) for category, score in categories]
                for word in unknown:
                    self.unknown_words.setdefault(word, set()).add(where)
        for key in category_keys:
            present, value = _lookup(meta, key)
            for word in (value if isinstance(value, list) else [value]) if present else []:
                if not isinstance(word, str):
                    continue
                if word not in self.category_of_word:  # worked out once per word: columns share a few
                    self.category_of_word[word] = category_for_word(word, self.options.category_map)
                category = self.category_of_word[word]
                if category is None:
                    self.unknown_words.setdefault(word, set()).add(where)
                else:
                    found.append((category, NAMED_CATEGORY_SCORE, "dbt:meta", {"meta": key, "value": _evidence(word)}))
        for tag in dict.fromkeys(tags):
            if isinstance(tag, str) and tag.lower() in self.pii_tags:
                found += [(category, score, "dbt:tag", {"tag": tag}) for category, score in self._categories(True)[0]]
        if target is not None:
            for category, score, recogniser, evidence in found:
                self.suggestions.add(target, category, score, recogniser, evidence)
        return bool(found)

    def _keys_in(self, meta: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The marker and category keys ``meta`` may hold, judged by its own keys once per set of them
        (columns share a few): a column then looks up the one key it has, not every key configured."""
        names = tuple(meta)
        if names not in self.keys_in:
            def held(keys: tuple[str, ...]) -> tuple[str, ...]:
                return tuple(key for key in keys if key in meta or key.split(".")[0] in meta)
            self.keys_in[names] = held(self.options.pii_keys), held(self.options.category_keys)
        return self.keys_in[names]

    def _categories(self, value: Any) -> tuple[list[tuple[str, float]], list[str]]:
        """``marker_categories`` of a marker's value, worked out once per distinct value: most columns
        share a few (the caller only reads the lists)."""
        if isinstance(value, (list, dict)):  # not hashable; rare
            return marker_categories(value, self.options.category_map)
        key = (type(value), value)
        if key not in self.categories_of:
            self.categories_of[key] = marker_categories(value, self.options.category_map)
        return self.categories_of[key]

    def direct_parents(self, unique_id: str) -> list[str]:
        parent_map = self.manifest.parent_map
        if parent_map is not None:
            return parent_map.get(unique_id, [])
        return self.nodes[unique_id].parents if unique_id in self.nodes else []

    def parents(self, unique_id: str) -> set[str]:
        """Dataset parents of a node, looking through ephemeral models (tests are never parents)."""
        found: set[str] = set()
        seen: set[str] = set()
        pending = list(self.direct_parents(unique_id))
        while pending:
            parent = pending.pop()
            if parent in seen:
                continue
            seen.add(parent)
            if parent in self.dataset_of:
                found.add(parent)
            elif parent in self.nodes:  # an ephemeral model: its own parents are ours
                pending.extend(self.direct_parents(parent))
        return found

    def flows(self) -> list[dict]:
        flows: dict[str, dict] = {}
        system = self.options.system
        for child, child_name in self.dataset_of.items():
            for parent in self.parents(child):
                parent_name = self.dataset_of[parent]
                if parent_name == child_name:
                    continue
                ident = short_id("dbt", self.source, parent_name, child_name)
                flows[ident] = {
                    "id": ident, "from": system, "to": system, "from_dataset": parent_name, "to_dataset": child_name,
                    "mechanism": "batch_export", "description": clip(f"dbt {self.nodes[child].resource_type} {child}", MAX_DESCRIPTION_LENGTH),
                }
        return [flows[ident] for ident in sorted(flows)]

    def exposure_flows(self, known_systems: dict[str, str], known_parties: dict[str, dict]) -> tuple[list[dict], set[str], set[str]]:
        """Flows to what the exposure map names; the systems and parties they reach. A map entry
        that names no exposure, or no system or party, is an error located in the map."""
        flows: dict[str, dict] = {}
        reached_systems, reached_parties, unmapped = set(), set(), []
        exposure_map = self.options.exposure_map
        used: set[str] = set()
        names: list[str] = []
        for unique_id, raw in (self.manifest.exposures or {}).items():
            names.append(raw.get("name") if isinstance(raw, dict) and isinstance(raw.get("name"), str) else unique_id)
            try:
                exposure = _Exposure.model_validate(raw)
            except ValidationError as error:
                self.errors.extend(_problems(error, _Exposure, self.file, ("exposures", unique_id)))
                continue
            key = unique_id if unique_id in exposure_map.targets else exposure.name
            target = exposure_map.targets.get(key)
            if target is None:
                unmapped.append(exposure.name)
                continue
            used.update(name for name in (unique_id, exposure.name) if name in exposure_map.targets)
            if target not in known_systems and target not in known_parties:
                self.errors.append(exposure_map.at(
                    key, f"exposure '{exposure.name}' maps to '{target}', which is neither a system nor a party in the catalogue",
                    nearest(target, [*known_systems, *known_parties]),
                ))
                continue
            (reached_systems if target in known_systems else reached_parties).add(target)
            sources = set()
            for node in (exposure.depends_on.nodes or []) if exposure.depends_on else []:
                sources |= {node} if node in self.dataset_of else self.parents(node) if node in self.nodes else set()
            for node in sorted(sources):
                dataset = self.dataset_of[node]
                ident = short_id("dbt", self.source, dataset, unique_id)
                flows[ident] = {
                    "id": ident, "from": self.options.system, "to": target, "from_dataset": dataset,
                    "description": clip(f"dbt exposure {exposure.label or exposure.name}" + (f" ({exposure.type})" if exposure.type else ""), MAX_DESCRIPTION_LENGTH),
                }
        for key in exposure_map.targets:
            if key not in used:
                self.errors.append(exposure_map.at(
                    key, f"no exposure '{key}' in {self.file}" + (f" (exposures: {', '.join(sorted(names)[:10])})" if names else " (it has no exposures)"),
                    nearest(key, [*names, *(self.manifest.exposures or {})]),
                ))
        if unmapped:
            self.warnings.append(LocatedError(
                f"{len(unmapped)} exposure(s) need a system or party id in --exposure-map: {', '.join(sorted(unmapped))}", self.file,
            ))
        return [flows[ident] for ident in sorted(flows)], reached_systems, reached_parties

    def notes(self) -> list[LocatedError]:
        taxonomy = load_taxonomy()
        notes = list(self.warnings)
        for word, places in sorted(self.unknown_words.items()):
            notes.append(LocatedError(
                f"meta value '{word}' names no data category (add it to --category-map); at {', '.join(sorted(places)[:3])}"
                + (f" and {len(places) - 3} more" if len(places) > 3 else ""),
                self.file, suggestion=taxonomy.suggest(TaxonomyKind.DATA_CATEGORY, word),
            ))
        if self.node_markers:
            notes.append(LocatedError(
                f"PII markers on whole models name no column, and categories are suggested per column: {', '.join(sorted(self.node_markers))}", self.file,
            ))
        if self.long_names:
            notes.append(LocatedError(f"{len(self.long_names)} name(s) longer than {MAX_NAME_LENGTH} characters skipped: {', '.join(self.long_names[:5])}", self.file))
        return notes


def _evidence(value: Any) -> Any:
    """A marker's value as evidence: metadata, never sampled data; long values cut."""
    return value if isinstance(value, (bool, int, float)) or value is None else clip(str(value), MAX_EVIDENCE_LENGTH)


def current_parties(catalog: Catalog) -> dict[str, dict]:
    """The catalogue's current parties with the attributes PartySpec requires (passed back unchanged)."""
    with catalog.session() as session:
        rows = session.exec(select(Party).where(Party.retired_run_id.is_(None))).all()
        return {row.id: {"id": row.id, "name": row.name, "role": row.role, "country": row.country} for row in rows}


def load_exposure_map(path: Path | None, max_bytes: int = DEFAULT_MAX_BYTES) -> ExposureMap:
    """A YAML mapping from exposure names (or unique ids) to system or party ids."""
    if path is None:
        return ExposureMap()
    document = load_small_yaml(path, max_bytes)
    if document.data is None:
        return ExposureMap(document=document)
    if not isinstance(document.data, dict) or not all(isinstance(v, str) for v in document.data.values()):
        raise IngestError([LocatedError("an exposure map is a mapping from exposure names to system or party ids", document.file, 1)])
    return ExposureMap({str(key): value.strip() for key, value in document.data.items()}, document)


def project_scope(manifest: _Manifest, nodes: Iterable[str]) -> str:
    """The dbt project name (or the package of its first node): runs of other projects never retire it."""
    name = manifest.metadata.project_name or next((uid.split(".")[1] for uid in nodes if uid.count(".") >= 2), "")
    return slug(name) or "default"


def load_dbt(
    path: Path, options: DbtOptions, known_systems: dict[str, str], known_parties: dict[str, dict], *, max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[CatalogSpec, str, dict[Loc, str], list[LocatedError], FieldSuggestions]:
    """Read a manifest into a spec, the scoped source name, refs, warnings and suggestions."""
    with collector_paused():
        return _load_dbt(path, options, known_systems, known_parties, max_bytes)


def _load_dbt(
    path: Path, options: DbtOptions, known_systems: dict[str, str], known_parties: dict[str, dict], max_bytes: int,
) -> tuple[CatalogSpec, str, dict[Loc, str], list[LocatedError], FieldSuggestions]:
    shown = str(path)
    if options.system not in known_systems:
        raise IngestError([LocatedError(
            f"system '{options.system}' is not in the catalogue; declare it in a manifest first", field_path="system",
            suggestion=nearest(options.system, known_systems),
        )])
    data = parse_json(read_limited(Path(path), shown, max_bytes), shown)
    schema_version(data, shown)
    try:
        manifest = _Manifest.model_validate(data)
    except ValidationError as error:
        raise IngestError(_problems(error, _Manifest, shown)) from None
    source = scoped_source(SOURCE_NAME, project_scope(manifest, [*(manifest.nodes or {}), *(manifest.sources or {})]))
    reader = _ManifestReader(manifest, shown, options, source)
    reader.read_nodes()
    if reader.errors:
        raise IngestError(reader.errors)
    reader.build_datasets()
    flows = reader.flows()
    exposure_flows, reached_systems, reached_parties = reader.exposure_flows(known_systems, known_parties)
    if reader.errors:
        raise IngestError(reader.errors)
    drafts = [reader.datasets[name] for name in sorted(reader.datasets)]
    datasets = [
        {"name": draft.name, **({"description": draft.description} if draft.description else {}), "fields": list(draft.fields.values())}
        for draft in drafts
    ]
    systems = [system_entry(options.system, known_systems[options.system], datasets)]
    systems += [system_entry(ident, known_systems[ident], []) for ident in sorted(reached_systems - {options.system})]
    refs: dict[Loc, str] = {("systems", 0, "datasets", index): draft.ref for index, draft in enumerate(drafts)}
    spec = validated_spec({
        "systems": systems, "parties": [known_parties[ident] for ident in sorted(reached_parties)], "flows": flows + exposure_flows,
    })
    return spec, source, refs, reader.notes(), reader.suggestions


class DbtSource(Source):
    """The warehouse as dbt describes it: tables, columns, their lineage and who reads them."""

    name = SOURCE_NAME
    description = "dbt target/manifest.json (dbt 1.5 onward): models, sources, seeds and snapshots with columns, lineage and exposures."

    class Config(SourceConfig):
        manifest: Path = Field(description="The dbt manifest, usually target/manifest.json.")
        system: str = Field(description="Id of the system (the warehouse) the project's tables belong to.")
        pii_keys: list[str] = Field(default=list(DEFAULT_PII_KEYS), description="Meta keys (dots for nesting, e.g. gdpr.pii) and tags that mark personal data.")
        category_keys: list[str] = Field(default=list(DEFAULT_CATEGORY_KEYS), description="Meta keys whose value names a data category.")
        category_map: Path | None = Field(default=None, description="YAML file mapping meta values to data category keys (email: user.contact.email).")
        exposure_map: Path | None = Field(default=None, description="YAML file mapping exposure names to the system or party id that receives the data.")
        max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0, description="Refuse a manifest larger than this many bytes, before parsing.")

        _commas = field_validator("pii_keys", "category_keys", mode="before")(split_commas)

    def run(self, catalog: Catalog, config: Config, actor: str = "") -> IngestReport:
        started = time.monotonic()
        with collector_paused():
            return self._run(catalog, config, actor, started)

    def _run(self, catalog: Catalog, config: Config, actor: str, started: float) -> IngestReport:
        options = DbtOptions(
            system=config.system, pii_keys=tuple(config.pii_keys), category_keys=tuple(config.category_keys),
            category_map=load_category_map(config.category_map, config.max_bytes),
            exposure_map=load_exposure_map(config.exposure_map, config.max_bytes),
        )
        spec, source, refs, warnings, suggestions = load_dbt(
            config.manifest, options, current_systems(catalog), current_parties(catalog), max_bytes=config.max_bytes,
        )
        return apply_and_report(
            catalog, spec, source=source, target=str(config.manifest), actor=actor, source_refs=refs,
            warnings=warnings, complete=True, started=started, after_apply=suggestions.write, allow_empty=config.allow_empty,
            anchors=len(spec.systems) + len(spec.parties),  # the catalogue's own, named as homes and flow ends
        )


def ingest_dbt(catalog: Catalog, manifest: Path | str, system: str, actor: str = "", **options: Any) -> IngestReport:
    """Run the source with ``options`` as its Config takes them (pii_keys=..., exposure_map=...)."""
    config = DbtSource.Config(manifest=Path(manifest), system=system, **options)
    return DbtSource().run(catalog, config, actor)
