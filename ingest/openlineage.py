"""The ``openlineage`` source: datasets, flows and field lineage from OpenLineage RunEvents.

Events are read from a file or a directory (recursive, sorted; ``*.json``, ``*.jsonl``,
``*.ndjson``), each file a JSON object, a JSON array of events, or newline-delimited JSON. Dataset
namespaces (``postgres://crm-db:5432``) map to our system ids through a YAML mapping file::

    name: production                     # scope of this input (default: the file's stem)
    namespaces: {"postgres://crm-db:5432": crm, "s3://lake": data-lake}
    prefixes: {"snowflake://acme": warehouse}   # longest matching prefix wins

Systems must already be in the catalogue (from manifests): this source asserts datasets, fields,
flows between datasets and field lineage under them, never a system's own attributes. Runs that
FAILed or were ABORTed contribute nothing; COMPLETE events do, and START/RUNNING events when their
datasets carry facets. PII tags become category suggestions for a person to confirm.

The helpers at the top (size-limited reading, JSON with positions, category words, suggestions
written after apply) are shared with :mod:`ingest.dbt`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import from_json
from sqlmodel import Session, select

from catalog.apply import ApplyResult, Loc
from catalog.models import CategorySuggestion, DataField, Dataset, System
from catalog.snapshot import read_values
from catalog.specs import CatalogSpec
from catalog.store import Catalog, mask_url
from catalog.suggest import nearest
from catalog.suggestions import SuggestionInput, record_field_suggestions
from catalog.taxonomy import Taxonomy, TaxonomyKind, UnknownTaxonomyKey, load_taxonomy
from ingest.base import IngestReport, Source, SourceConfig, apply_and_report
from ingest.errors import IngestError, LocatedError, format_field_path, validation_problems
from catalog.specs.common import slug
from ingest.tabular import MAX_FILE_BYTES, check_file, scoped_source, taxonomy_key_for
from ingest.yaml_source import YamlDocument, load_yaml

SOURCE_NAME = "openlineage"
EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson")
NDJSON_SUFFIXES = (".jsonl", ".ndjson")
DEFAULT_MAX_BYTES = MAX_FILE_BYTES
MAX_NAME_LENGTH = 300  # Dataset.name and DataField.name
MAX_TYPE_LENGTH = 100  # DataField.data_type
MAX_DESCRIPTION_LENGTH = 4000
MAX_TRANSFORMATION_LENGTH = 200
MAX_REF_LENGTH = 500  # source_ref
#: Category suggested when a marker says "personal data" without saying which kind.
GENERIC_PERSONAL_DATA = "user"
NAMED_CATEGORY_SCORE, GENERIC_CATEGORY_SCORE = 0.9, 0.5
FALSE_WORDS = frozenset({"false", "no", "n", "0", "none", "off", "not_pii", "non_pii"})
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on", "pii", "sensitive", "personal"})
DEFAULT_PII_TAG_KEYS = ("pii", "sensitive", "gdpr")


# ---- shared helpers (also used by ingest.dbt) -------------------------------------------------


def read_limited(path: Path, shown: str, max_bytes: int) -> str:
    """The file's text, refused before reading when larger than ``max_bytes`` (hostile input)."""
    check_file(path, max_bytes, shown)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IngestError([LocatedError(f"not UTF-8 text ({error.reason} at byte {error.start})", shown)]) from None
    except OSError as error:
        raise IngestError([LocatedError(f"cannot read file: {error.strerror}", shown)]) from None


def json_problem(error: Exception, file: str, line: int | None = None) -> LocatedError:
    """A JSON parse failure as a located error; ``line`` is where the document starts (NDJSON)."""
    if isinstance(error, json.JSONDecodeError):
        return LocatedError(f"malformed JSON: {error.msg}", file, (line or 1) - 1 + error.lineno, error.colno)
    if isinstance(error, RecursionError):
        return LocatedError("malformed JSON: nested too deeply", file, line)
    return LocatedError(f"malformed JSON: {error}", file, line)


def parse_json(text: str, file: str) -> Any:
    """Parse a JSON document; IngestError located at the parser's line and column.

    pydantic's parser takes half the time of ``json`` on a large manifest and gives the same values;
    what it refuses is parsed again by ``json``, which accepts what only it does (lone surrogates,
    deep nesting) and locates the rest."""
    try:
        return from_json(text)
    except (ValueError, TypeError):
        pass
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError; so is an over-long integer
        raise IngestError([json_problem(error, file)]) from None


def split_commas(value: Any) -> Any:
    """A list option given as ``a,b,c`` (one command-line value) is the list ``[a, b, c]``."""
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list) and all(isinstance(item, str) for item in items):
        return [part.strip() for item in items for part in item.split(",") if part.strip()]
    return value


def short_id(prefix: str, *parts: str) -> str:
    """A deterministic id from the parts that make an entry unique, e.g. ``ol-3f2a9c0d41be``."""
    return f"{prefix}-{hashlib.sha1(chr(0).join(parts).encode()).hexdigest()[:12]}"


def clip(text: str | None, limit: int) -> str | None:
    """Text cut to a column's width (with an ellipsis), so a long description never fails a run."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 3] + "..."


def current_systems(catalog: Catalog) -> dict[str, str]:
    """Id -> name of the systems now in the catalogue (retired ones are unknown)."""
    with catalog.session() as session:
        return dict(session.exec(select(System.id, System.name).where(System.retired_run_id.is_(None))).all())


def system_entry(system_id: str, name: str, datasets: list[dict]) -> dict:
    """A system asserted only for what it holds. SystemSpec requires ``name``, so the catalogue's own
    name is passed back: equal values are no conflict, and no other system attribute is set."""
    return {"id": system_id, "name": name, "datasets": datasets}


def category_for_word(text: str, category_map: dict[str, str] | None = None) -> str | None:
    """The data category a marker names: a mapped word, a taxonomy key or label, or a key's last
    segment (``email`` -> ``user.contact.email``); None when it names none (no fuzzy guess)."""
    word = text.strip()
    if not word:
        return None
    found = (category_map or {}).get(word.lower()) or taxonomy_key_for(TaxonomyKind.DATA_CATEGORY, word)
    if found:
        return found
    leaf = word.lower().replace(" ", "_").replace("-", "_")
    return _most_general_by_leaf(load_taxonomy()).get(leaf)


@cache
def _most_general_by_leaf(taxonomy: Taxonomy) -> dict[str, str]:
    """Last key segment -> the most general data category key ending in it (fewest dots, then
    alphabetical), worked out once per taxonomy: markers are looked up per column."""
    found: dict[str, str] = {}
    for key in taxonomy.entries(TaxonomyKind.DATA_CATEGORY):
        leaf = key.rsplit(".", 1)[-1]
        if leaf not in found or (key.count("."), key) < (found[leaf].count("."), found[leaf]):
            found[leaf] = key
    return found


def marker_categories(value: Any, category_map: dict[str, str] | None = None) -> tuple[list[tuple[str, float]], list[str]]:
    """What a PII marker's value says: ``(category, score)`` pairs and the words naming no category.

    ``true``/``yes`` (or no value) say "personal data" without a kind: the generic category, less
    confident; a word or key names a category; ``false``/``no`` say it is not personal data.
    """
    if isinstance(value, (list, tuple)):
        found: list[tuple[str, float]] = []
        unknown: list[str] = []
        for item in value:
            more, missing = marker_categories(item, category_map)
            found += [pair for pair in more if pair not in found]
            unknown += missing
        return found, unknown
    if value is None or value is True:
        return [(GENERIC_PERSONAL_DATA, GENERIC_CATEGORY_SCORE)], []
    if value is False or isinstance(value, dict):
        return [], []
    if isinstance(value, (int, float)):
        return ([(GENERIC_PERSONAL_DATA, GENERIC_CATEGORY_SCORE)] if value else []), []
    word = str(value).strip()
    if word.lower() in FALSE_WORDS and word:
        return [], []
    if not word or word.lower() in TRUE_WORDS:
        return [(GENERIC_PERSONAL_DATA, GENERIC_CATEGORY_SCORE)], []
    named = category_for_word(word, category_map)
    if named:
        return [(named, NAMED_CATEGORY_SCORE)], []
    return [(GENERIC_PERSONAL_DATA, GENERIC_CATEGORY_SCORE)], [word]


def load_category_map(path: Path | None, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, str]:
    """A YAML mapping from marker words to taxonomy keys (``email: user.contact.email``), keys checked."""
    if path is None:
        return {}
    document = load_small_yaml(path, max_bytes)
    data = document.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise IngestError([LocatedError("a category map is a mapping from words to data category keys", document.file, 1)])
    errors, mapping = [], {}
    taxonomy = load_taxonomy()
    for word, key in data.items():
        where = document.line_of((word,))
        if not isinstance(key, str):
            errors.append(LocatedError("the category must be a data category key", document.file, where, field_path=str(word)))
            continue
        try:
            mapping[str(word).strip().lower()] = taxonomy.check(TaxonomyKind.DATA_CATEGORY, key.strip())
        except UnknownTaxonomyKey as error:
            errors.append(LocatedError(f"unknown data category '{key}'", document.file, where, field_path=str(word), suggestion=error.suggestion))
    if errors:
        raise IngestError(errors)
    return mapping


def load_small_yaml(path: Path, max_bytes: int) -> YamlDocument:
    """A configuration YAML file, size-checked before parsing and read with the safe loader."""
    check_file(path, max_bytes, str(path))
    return load_yaml(path)


def validated_spec(data: dict) -> CatalogSpec:
    """The spec a source built; anything the input slipped past the source's own checks is an
    IngestError (with the spec path), never a crash."""
    try:
        return CatalogSpec.model_validate(data)
    except ValidationError as error:
        raise IngestError(
            LocatedError(p.message, field_path=format_field_path(p.loc), suggestion=p.suggestion)
            for p in validation_problems(error, CatalogSpec)
        ) from None


FieldKey = tuple[str, str, str]  # (system id, dataset name, field name)


@dataclass
class FieldSuggestions:
    """Categories suggested for fields by one run, written after apply in the same transaction."""

    source: str
    wanted: dict[FieldKey, dict[str, SuggestionInput]] = field(default_factory=dict)

    def add(self, key: FieldKey, category: str, score: float, recogniser: str, evidence: dict) -> None:
        """Keep the most confident suggestion per field and category."""
        existing = self.wanted.setdefault(key, {}).get(category)
        if existing is None or score > existing.score:
            self.wanted[key][category] = SuggestionInput(category, score, recogniser, evidence)

    def write(self, session: Session, result: ApplyResult) -> None:
        """``after_apply`` hook: record this run's suggestions and retire this source's stale ones."""
        systems = sorted({system for system, _, _ in self.wanted})
        ids: dict[FieldKey, int] = {}
        if systems:
            statement = (
                select(Dataset.system_id, Dataset.name, DataField.name, DataField.id).join(Dataset, DataField.dataset_id == Dataset.id)
                .where(Dataset.system_id.in_(systems), Dataset.retired_run_id.is_(None), DataField.retired_run_id.is_(None))
            )
            ids = {(system, dataset, name): ident for system, dataset, name, ident in read_values(session, statement, shared=True)}
        stale = set(session.exec(select(CategorySuggestion.field_id).where(
            CategorySuggestion.source == self.source, CategorySuggestion.status == "suggested", CategorySuggestion.retired_run_id.is_(None),
        )).all())
        produced: dict[int, tuple[FieldKey, list[SuggestionInput]]] = {}
        for key, by_category in self.wanted.items():
            if key in ids:
                produced[ids[key]] = (key, [by_category[category] for category in sorted(by_category)])
        by_field = {field_id: [] for field_id in stale - set(produced)} | {field_id: items for field_id, (_key, items) in produced.items()}
        counts_by_field = record_field_suggestions(session, run_id=result.run.id, source=self.source, by_field=by_field)
        for field_id, (key, items) in sorted(produced.items()):
            counts = counts_by_field[field_id]
            if counts.added:
                result.changes.append(f"suggested {', '.join(i.category for i in items)} for field {'.'.join(key)}")


# ---- the event format -------------------------------------------------------------------------


class _Lenient(BaseModel):
    """Event parts: the keys this source reads are type-checked; every other key is ignored.
    Text is stripped as the catalogue's specs strip it, so names compare as they will be stored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)


class _SchemaField(_Lenient):
    name: str = Field(min_length=1)
    type: str | None = None
    description: str | None = None
    fields: list[_SchemaField] = Field(default_factory=list)


class _SchemaFacet(_Lenient):
    fields: list[_SchemaField] = Field(default_factory=list)


class _Transformation(_Lenient):
    type: str | None = None
    subtype: str | None = None
    description: str | None = None
    masking: bool = False


class _InputField(_Lenient):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    field: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    transformations: list[_Transformation] = Field(default_factory=list)


class _OutputColumn(_Lenient):
    inputFields: list[_InputField] = Field(default_factory=list)
    transformationType: str | None = None  # deprecated, before transformations[]
    transformationDescription: str | None = None


class _ColumnLineageFacet(_Lenient):
    fields: dict[str, _OutputColumn] = Field(default_factory=dict)


class _Tag(_Lenient):
    key: str
    value: str | bool | int | float | None = None
    source: str | None = None
    field: str | None = None


class _TagsFacet(_Lenient):
    tags: list[_Tag] = Field(default_factory=list)


class _DatasetFacets(_Lenient):
    model_config = ConfigDict(extra="allow", populate_by_name=True, str_strip_whitespace=True)  # other facets count for START/RUNNING events

    schema_: _SchemaFacet | None = Field(default=None, alias="schema")
    columnLineage: _ColumnLineageFacet | None = None
    tags: _TagsFacet | None = None


class _Dataset(_Lenient):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    facets: _DatasetFacets = Field(default_factory=_DatasetFacets)

    @field_validator("facets", mode="before")
    @classmethod
    def _no_facets(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def has_facets(self) -> bool:
        return bool(self.facets.model_fields_set or self.facets.model_extra)


class _Run(_Lenient):
    runId: str = Field(min_length=1)


class _Job(_Lenient):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)


#: The RunEvent eventType values of the OpenLineage spec (read in any case).
EventType = Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]


class _RunEvent(_Lenient):
    eventType: EventType | None = None
    eventTime: datetime
    run: _Run
    job: _Job
    inputs: list[_Dataset] = Field(default_factory=list)
    outputs: list[_Dataset] = Field(default_factory=list)

    @field_validator("eventTime", mode="before")
    @classmethod
    def _iso_time(cls, value: Any) -> datetime:
        """An ISO 8601 string (not a number: the spec says date-time); naive times are taken as UTC."""
        if not isinstance(value, str):
            raise ValueError("eventTime must be an ISO 8601 date-time string")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"eventTime {value[:40]!r} is not an ISO 8601 date-time") from None  # repr: a lone surrogate cannot be reported as it is
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    @field_validator("inputs", "outputs", mode="before")
    @classmethod
    def _no_datasets(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("eventType", mode="before")
    @classmethod
    def _upper_case(cls, value: Any) -> Any:
        """Any case is read ('complete'); a value that is none of the spec's is an error with the
        nearest one ('COMPLETED'), not an event quietly skipped."""
        return value.strip().upper() if isinstance(value, str) else value


@dataclass(frozen=True)
class EventPosition:
    """Where an event is: file, and the line (NDJSON) or the array index."""

    file: str
    line: int | None = None
    index: int | None = None

    def error(self, message: str, loc: Loc = (), suggestion: str | None = None) -> LocatedError:
        path = format_field_path(loc)
        if self.index is not None:
            path = f"[{self.index}]" + (f".{path}" if path and not path.startswith("[") else path)
        return LocatedError(message, self.file, self.line, field_path=path, suggestion=suggestion)

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        return f"{self.file}[{self.index}]" if self.index is not None else self.file


@dataclass(frozen=True)
class ReadEvent:
    position: EventPosition
    order: int
    event: _RunEvent


@dataclass
class EventBatch:
    """The events of every file, and what could not be read."""

    events: list[ReadEvent] = field(default_factory=list)
    invalid: list[LocatedError] = field(default_factory=list)


def event_files(path: Path) -> tuple[list[Path], Path]:
    """The event files a path stands for (and the root names are shown relative to)."""
    if path.is_file():
        return [path], path.parent
    if not path.is_dir():
        raise IngestError([LocatedError(f"no such file or directory: {path}")])
    files = sorted(
        candidate for candidate in path.rglob("*")
        if candidate.suffix.lower() in EVENT_SUFFIXES and candidate.is_file()
        and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
    )
    if not files:
        raise IngestError([LocatedError(f"no *.json, *.jsonl or *.ndjson files in {path}")])
    return files, path


def _documents(text: str, shown: str, ndjson: bool) -> Iterator[tuple[EventPosition, Any] | LocatedError]:
    """Each event document with its position, or the error that stopped reading it."""
    if not ndjson:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            if error.msg != "Extra data" or not _first_line_is_json(text):  # else newline-delimited JSON in a .json file
                yield json_problem(error, shown)
                return
            ndjson = True
        except (ValueError, RecursionError) as error:
            yield json_problem(error, shown)
            return
    if ndjson:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    yield EventPosition(shown, line=number), json.loads(line)
                except (ValueError, RecursionError) as error:
                    yield json_problem(error, shown, number)
        return
    if isinstance(data, list):
        for index, item in enumerate(data):
            yield EventPosition(shown, index=index), item
    else:
        yield EventPosition(shown), data


def _first_line_is_json(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


def read_events(path: Path, max_bytes: int) -> EventBatch:
    """Every RunEvent under ``path``, validated; malformed ones are collected with their positions."""
    files, root = event_files(path)
    batch = EventBatch()
    for file in files:
        shown = file.relative_to(root).as_posix()
        text = read_limited(file, shown, max_bytes)
        for item in _documents(text, shown, file.suffix.lower() in NDJSON_SUFFIXES):
            if isinstance(item, LocatedError):
                batch.invalid.append(item)
                continue
            position, document = item
            if not isinstance(document, dict):
                batch.invalid.append(position.error(f"an event must be a JSON object, not {type(document).__name__}"))
                continue
            try:
                event = _RunEvent.model_validate(document)
            except ValidationError as error:
                batch.invalid.extend(position.error(p.message, p.loc, p.suggestion) for p in validation_problems(error, _RunEvent))
                continue
            batch.events.append(ReadEvent(position, len(batch.events), event))
    return batch


# ---- namespace mapping -------------------------------------------------------------------------


class NamespaceMappingSpec(BaseModel):
    """The mapping file: which of our systems each dataset namespace is."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=80, description="Scope of this input in provenance.")
    namespaces: dict[str, str] = Field(default_factory=dict, description="Exact namespace -> system id.")
    prefixes: dict[str, str] = Field(default_factory=dict, description="Namespace prefix -> system id; the longest match wins.")


@dataclass(frozen=True)
class NamespaceMapping:
    scope: str
    namespaces: dict[str, str]
    prefixes: dict[str, str]
    document: YamlDocument | None = None

    def system_for(self, namespace: str) -> tuple[str, Loc] | None:
        """The system id a namespace maps to and the mapping entry that says so."""
        if namespace in self.namespaces:
            return self.namespaces[namespace], ("namespaces", namespace)
        matches = [prefix for prefix in self.prefixes if namespace.startswith(prefix)]
        if not matches:
            return None
        prefix = max(matches, key=len)
        return self.prefixes[prefix], ("prefixes", prefix)

    def locate(self, entry: Loc, message: str, suggestion: str | None = None) -> LocatedError:
        """An error at a mapping entry; a namespace's credentials, if any, are masked."""
        shown = format_field_path(tuple(mask_url(part) if isinstance(part, str) else part for part in entry))
        if self.document is None:
            return LocatedError(message, field_path=shown, suggestion=suggestion)
        return LocatedError(message, self.document.file, self.document.line_of(entry), field_path=shown, suggestion=suggestion)


def load_mapping(path: Path | None, max_bytes: int = DEFAULT_MAX_BYTES) -> NamespaceMapping:
    """The namespace mapping (an empty one, scope "default", without a file)."""
    if path is None:
        return NamespaceMapping("default", {}, {})
    document = load_small_yaml(path, max_bytes)
    try:
        spec = NamespaceMappingSpec.model_validate(document.data or {})
    except ValidationError as error:
        raise IngestError(
            LocatedError(p.message, document.file, document.line_of(p.loc), field_path=format_field_path(p.loc), suggestion=p.suggestion)
            for p in validation_problems(error, NamespaceMappingSpec)
        ) from None
    scope = spec.name or slug(path.stem) or "default"
    return NamespaceMapping(scope, spec.namespaces, spec.prefixes, document)


# ---- from events to a spec -----------------------------------------------------------------------

CONTRIBUTING, STARTED = "COMPLETE", ("START", "RUNNING")
FAILED = ("FAIL", "ABORT")


def flatten_schema(fields: Iterable[_SchemaField], prefix: str = "") -> Iterator[tuple[str, _SchemaField]]:
    """Nested schema fields as dotted names (``address.city``), parents before children."""
    for item in fields:
        name = f"{prefix}{item.name}"
        yield name, item
        yield from flatten_schema(item.fields, f"{name}.")


def transformation_text(column: _OutputColumn, source: _InputField) -> tuple[str | None, bool]:
    """``TYPE/SUBTYPE`` of each transformation (or the deprecated transformationType) and masking."""
    texts = ["/".join(p for p in (t.type, t.subtype) if p) for t in source.transformations]
    texts = [t for t in texts if t] or [t for t in (column.transformationType or column.transformationDescription,) if t]
    masking = any(t.masking for t in source.transformations)
    return clip(", ".join(dict.fromkeys(texts)), MAX_TRANSFORMATION_LENGTH) or None, masking


@dataclass
class _DatasetDraft:
    system: str
    name: str
    ref: str
    schema: list[tuple[str, _SchemaField]] = field(default_factory=list)
    schema_time: tuple = ()
    referenced: set[str] = field(default_factory=set)
    masked: dict[str, bool] = field(default_factory=dict)  # lineage targets: pseudonymised or not

    def entry(self) -> dict:
        fields: dict[str, dict] = {}
        for name, item in self.schema:
            if len(name) <= MAX_NAME_LENGTH:
                fields[name] = {"name": name} | ({"data_type": clip(item.type, MAX_TYPE_LENGTH)} if item.type else {}) | (
                    {"description": clip(item.description, MAX_DESCRIPTION_LENGTH)} if item.description else {}
                )
        for name in sorted(self.referenced - set(fields)):
            fields[name] = {"name": name}
        for name, masked in self.masked.items():
            fields[name]["pseudonymised"] = masked
        return {"name": self.name, "fields": list(fields.values())}


@dataclass
class _Lineage:
    ref: str
    transformations: list[str] = field(default_factory=list)
    masking: bool = False


class _SpecBuilder:
    """Turns contributing events into systems' datasets, flows and field lineage."""

    def __init__(self, mapping: NamespaceMapping, known_systems: dict[str, str], source: str, pii_keys: Iterable[str]):
        self.mapping, self.known, self.source = mapping, known_systems, source
        self.pii_keys = {key.lower() for key in pii_keys}
        self.datasets: dict[tuple[str, str], _DatasetDraft] = {}
        self.flows: dict[str, dict] = {}
        self.flow_refs: dict[str, str] = {}
        self.lineage: dict[tuple[FieldKey, FieldKey], _Lineage] = {}
        self.unmapped: dict[str, set[str]] = defaultdict(set)
        self.unknown: dict[Loc, str] = {}
        self.unknown_tag_values: dict[tuple[str, str], list[EventPosition]] = {}  # (key, value) -> where
        self.suggestions = FieldSuggestions(source)
        self.long_fields: set[str] = set()
        self.dataset_tags: set[str] = set()

    def system_of(self, namespace: str, name: str) -> str | None:
        found = self.mapping.system_for(namespace)
        if found is None:
            self.unmapped[namespace].add(name)
            return None
        system, entry = found
        if system not in self.known:
            self.unknown.setdefault(entry, system)
            return None
        return system

    def dataset(self, namespace: str, name: str, ref: str) -> _DatasetDraft | None:
        system = self.system_of(namespace, name)
        if system is None:
            return None
        return self.datasets.setdefault((system, name), _DatasetDraft(system, name, ref))

    def add(self, read: ReadEvent) -> None:
        event, ref = read.event, str(read.position)
        when = (read.event.eventTime, read.order)
        drafts: dict[int, _DatasetDraft | None] = {}
        for dataset in [*event.inputs, *event.outputs]:
            draft = drafts[id(dataset)] = self.dataset(dataset.namespace, dataset.name, ref)
            if draft is None:
                continue
            if dataset.facets.schema_ is not None and when >= draft.schema_time:
                draft.schema, draft.schema_time = list(flatten_schema(dataset.facets.schema_.fields)), when
                self.long_fields.update(f"{draft.system}.{draft.name}.{n[:40]}..." for n, _ in draft.schema if len(n) > MAX_NAME_LENGTH)
            if dataset.facets.tags is not None:
                self.add_tags(draft, dataset.facets.tags, read.position)
        for source in event.inputs:
            for target in event.outputs:
                self.add_flow(event, source, drafts[id(source)], target, drafts[id(target)], ref)
        for target in event.outputs:
            if drafts[id(target)] is not None and target.facets.columnLineage is not None:
                self.add_column_lineage(drafts[id(target)], target.facets.columnLineage, ref)

    def add_flow(self, event: _RunEvent, source: _Dataset, source_draft, target: _Dataset, target_draft, ref: str) -> None:
        if source_draft is None or target_draft is None or source_draft is target_draft:
            return  # an unmapped end, or a job rewriting the dataset it reads
        job = f"{event.job.namespace}/{event.job.name}"
        ident = short_id("ol", job, f"{source.namespace}/{source.name}", f"{target.namespace}/{target.name}")
        self.flow_refs.setdefault(ident, ref)
        self.flows[ident] = {
            "id": ident, "from": source_draft.system, "to": target_draft.system,
            "from_dataset": source_draft.name, "to_dataset": target_draft.name, "mechanism": "batch_export",
            "description": clip(f"OpenLineage job {mask_url(job)}", MAX_DESCRIPTION_LENGTH),
        }

    def add_column_lineage(self, target: _DatasetDraft, facet: _ColumnLineageFacet, ref: str) -> None:
        for column, lineage in facet.fields.items():
            if not column or len(column) > MAX_NAME_LENGTH:
                continue
            for source_field in lineage.inputFields:
                source = self.dataset(source_field.namespace, source_field.name, ref)
                if source is None:
                    continue
                source.referenced.add(source_field.field)
                target.referenced.add(column)
                key = ((source.system, source.name, source_field.field), (target.system, target.name, column))
                if key[0] == key[1]:
                    continue  # a column rewritten from itself
                text, masking = transformation_text(lineage, source_field)
                edge = self.lineage.setdefault(key, _Lineage(ref))
                if text and text not in edge.transformations:
                    edge.transformations.append(text)
                edge.masking |= masking
                target.masked[column] = target.masked.get(column, False) or masking

    def add_tags(self, draft: _DatasetDraft, facet: _TagsFacet, position: EventPosition) -> None:
        """PII tags (a PII key, or a value that is a category key) become suggestions for their field."""
        taxonomy = load_taxonomy()
        for tag in facet.tags:
            value = "" if tag.value is None else str(tag.value).strip()
            if tag.key.strip().lower() in self.pii_keys:
                found, unknown = marker_categories(tag.value)
                for word in unknown:
                    self.unknown_tag_values.setdefault((tag.key, word), []).append(position)
            elif value in taxonomy.entries(TaxonomyKind.DATA_CATEGORY):
                found = [(value, NAMED_CATEGORY_SCORE)]
            else:
                continue  # not a PII tag
            if not found:
                continue
            if not tag.field:
                self.dataset_tags.add(f"{draft.system}.{draft.name} ({tag.key}={value})")
                continue
            if len(tag.field) > MAX_NAME_LENGTH:
                continue
            draft.referenced.add(tag.field)
            evidence = {"tag": {"key": tag.key, "value": value, **({"source": tag.source} if tag.source else {})}}
            for category, score in found:
                self.suggestions.add((draft.system, draft.name, tag.field), category, score, "openlineage:tag", evidence)

    def problems(self) -> list[LocatedError]:
        """Mapped systems the catalogue does not have: the run cannot write under them."""
        return [
            self.mapping.locate(entry, f"namespace maps to system '{system}', which is not in the catalogue", nearest(system, self.known))
            for entry, system in sorted(self.unknown.items(), key=lambda item: str(item[0]))
        ]

    def notes(self) -> list[LocatedError]:
        """Warnings: tag values naming no category, unmapped namespaces (datasets skipped), tags without a field, long names."""
        notes = []
        for (key, word), positions in sorted(self.unknown_tag_values.items()):
            more = f" (and {len(positions) - 1} more event(s))" if len(positions) > 1 else ""
            notes.append(positions[0].error(
                f"tag {key}={word} names no data category: suggesting '{GENERIC_PERSONAL_DATA}'{more}",
                suggestion=load_taxonomy().suggest(TaxonomyKind.DATA_CATEGORY, word),
            ))
        known_namespaces = [*self.mapping.namespaces, *self.mapping.prefixes]
        for namespace, names in sorted(self.unmapped.items()):
            notes.append(LocatedError(
                f"namespace '{mask_url(namespace)}' maps to no system: {len(names)} dataset(s) skipped; add it to the mapping file",
                suggestion=_masked(nearest(namespace, known_namespaces)),
            ))
        if self.dataset_tags:
            notes.append(LocatedError(
                f"PII tag(s) on whole datasets name no field, and categories are suggested per field: {', '.join(sorted(self.dataset_tags))}",
            ))
        if self.long_fields:
            notes.append(LocatedError(f"{len(self.long_fields)} field name(s) longer than {MAX_NAME_LENGTH} characters skipped: {', '.join(sorted(self.long_fields)[:5])}"))
        return notes

    def spec(self) -> tuple[CatalogSpec, dict[Loc, str]]:
        refs: dict[Loc, str] = {}
        by_system: dict[str, list[_DatasetDraft]] = defaultdict(list)
        for draft in self.datasets.values():
            by_system[draft.system].append(draft)
        systems = []
        for s_index, system in enumerate(sorted(by_system)):
            drafts = sorted(by_system[system], key=lambda d: d.name)
            for d_index, draft in enumerate(drafts):
                refs[("systems", s_index, "datasets", d_index)] = clip(draft.ref, MAX_REF_LENGTH)
            systems.append(system_entry(system, self.known[system], [draft.entry() for draft in drafts]))
        flows = [self.flows[ident] for ident in sorted(self.flows)]
        for index, flow in enumerate(flows):
            refs[("flows", index)] = clip(self.flow_refs[flow["id"]], MAX_REF_LENGTH)
        lineage = []
        for index, ((source, target), edge) in enumerate(sorted(self.lineage.items())):
            refs[("field_lineage", index)] = clip(edge.ref, MAX_REF_LENGTH)
            lineage.append({
                "from": dict(zip(("system", "dataset", "field"), source)), "to": dict(zip(("system", "dataset", "field"), target)),
                **({"transformation": clip(", ".join(edge.transformations), MAX_TRANSFORMATION_LENGTH)} if edge.transformations else {}),
                "masking": edge.masking,
            })
        return validated_spec({"systems": systems, "flows": flows, "field_lineage": lineage}), refs


def _contributing(events: list[ReadEvent]) -> tuple[list[ReadEvent], Counter]:
    """Events that say what a run read and wrote: COMPLETE, or START/RUNNING with dataset facets,
    of runs that did not FAIL or ABORT. Returns them in time order and the counts skipped by reason."""
    failed_runs = {read.event.run.runId for read in events if (read.event.eventType or "").upper() in FAILED}
    skipped: Counter = Counter()
    kept = []
    for read in events:
        kind = (read.event.eventType or "").upper()
        if kind in FAILED:
            skipped[kind] += 1
        elif read.event.run.runId in failed_runs:
            skipped["of failed runs"] += 1
        elif kind == CONTRIBUTING or (kind in STARTED and any(d.has_facets for d in [*read.event.inputs, *read.event.outputs])):
            kept.append(read)
        else:
            skipped[kind or "without eventType"] += 1
    return sorted(kept, key=lambda read: (read.event.eventTime, read.order)), skipped


def _masked(namespace: str | None) -> str | None:
    return mask_url(namespace) if namespace else None


def load_openlineage(
    path: Path, mapping: NamespaceMapping, known_systems: dict[str, str], *, skip_invalid: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES, pii_keys: Iterable[str] = DEFAULT_PII_TAG_KEYS,
) -> tuple[CatalogSpec, dict[Loc, str], list[LocatedError], FieldSuggestions]:
    """Read events into a spec, its source refs, warnings and category suggestions; IngestError on problems."""
    batch = read_events(Path(path), max_bytes)
    if batch.invalid and not skip_invalid:
        raise IngestError(batch.invalid)
    warnings = [LocatedError(f"skipped: {error.message}", error.file, error.line, error.column, error.field_path) for error in batch.invalid]
    events, skipped = _contributing(batch.events)
    if skipped:
        warnings.append(LocatedError("events skipped: " + ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))))
    builder = _SpecBuilder(mapping, known_systems, scoped_source(SOURCE_NAME, mapping.scope), pii_keys)
    for read in events:
        builder.add(read)
    problems = builder.problems()
    if problems:
        raise IngestError(problems)
    spec, refs = builder.spec()
    return spec, refs, warnings + builder.notes(), builder.suggestions


class OpenLineageSource(Source):
    """Lineage as jobs report it: which datasets each run read and wrote, column by column."""

    name = SOURCE_NAME
    description = "OpenLineage RunEvents (JSON, JSON array or NDJSON; a file or a directory): datasets, flows, field lineage."

    class Config(SourceConfig):
        path: Path = Field(description="An event file (*.json, *.jsonl, *.ndjson) or a directory read recursively.")
        mapping: Path | None = Field(default=None, description="YAML file mapping dataset namespaces to system ids (namespaces:, prefixes:, name:).")
        skip_invalid: bool = Field(default=False, description="Skip malformed events with a warning instead of failing the run.")
        pii_tag_keys: list[str] = Field(default=list(DEFAULT_PII_TAG_KEYS), description="Tag keys that mark personal data (tags facet).")
        max_bytes: int = Field(default=DEFAULT_MAX_BYTES, gt=0, description="Refuse any file larger than this many bytes, before parsing.")

        _commas = field_validator("pii_tag_keys", mode="before")(split_commas)

    def run(self, catalog: Catalog, config: Config, actor: str = "") -> IngestReport:
        started = time.monotonic()
        mapping = load_mapping(config.mapping, config.max_bytes)
        spec, refs, warnings, suggestions = load_openlineage(
            config.path, mapping, current_systems(catalog), skip_invalid=config.skip_invalid,
            max_bytes=config.max_bytes, pii_keys=config.pii_tag_keys,
        )
        return apply_and_report(
            catalog, spec, source=suggestions.source, target=str(config.path), actor=actor, source_refs=refs,
            warnings=warnings, complete=True, started=started, after_apply=suggestions.write, allow_empty=config.allow_empty,
            anchors=len(spec.systems),  # the catalogue's own, named as the datasets' homes
        )


def ingest_openlineage(catalog: Catalog, path: Path | str, actor: str = "", **options: Any) -> IngestReport:
    """Run the source with ``options`` as its Config takes them (mapping=..., skip_invalid=...)."""
    config = OpenLineageSource.Config(path=Path(path), **options)
    return OpenLineageSource().run(catalog, config, actor)
