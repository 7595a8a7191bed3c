"""The ``manifest`` source: the catalogue as code, in YAML files kept next to the systems they describe.

A manifest path is one file or a directory read recursively (``*.yml`` and ``*.yaml``, sorted,
hidden files and directories such as ``.github`` skipped). One file may also be the catalogue JSON
of ``ropa export json`` (JSON is YAML; its ``schema_version`` is checked): the restore. Each file's top level may hold
``organisation``, ``locations``, ``systems``, ``parties``, ``activities`` and ``flows``; lists from
all files are merged in file order and validated as one ``CatalogSpec``. Every error of every file
is reported with its file, line and field path before anything is written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_origin

from pydantic import Field, ValidationError

from catalog.apply import Loc
from catalog.collector import collector_paused
from catalog.specs import DOCUMENT_SCHEMA_VERSION, SCHEMA_VERSION_KEY, CatalogSpec, check_references
from catalog.store import Catalog
from ingest.base import IngestReport, Source, SourceConfig, apply_and_report
from catalog.suggest import nearest
from ingest.errors import IngestError, LocatedError, format_field_path, printable, resolve_path, validation_problems
from ingest.tabular import MAX_FILE_BYTES, check_file
from ingest.yaml_source import YamlDocument, load_yaml

SOURCE_NAME = "manifest"
MANIFEST_SUFFIXES = (".yml", ".yaml")
ORGANISATION = "organisation"
#: The list sections of CatalogSpec, merged across files.
LIST_SECTIONS = tuple(name for name, info in CatalogSpec.model_fields.items() if get_origin(info.annotation) is list)
SECTIONS = (ORGANISATION, *LIST_SECTIONS)


def manifest_files(path: Path) -> list[Path]:
    """The files a manifest path stands for; IngestError when there are none."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise IngestError([LocatedError(f"no such file or directory: {path}")])
    files = sorted(
        candidate for candidate in path.rglob("*")
        if candidate.suffix in MANIFEST_SUFFIXES and candidate.is_file()
        and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
    )
    if not files:
        raise IngestError([LocatedError(f"no *.yml or *.yaml files in {path}")])
    return files


def _shown_name(file: Path, root: Path) -> str:
    """Names in messages are relative to the manifest directory (``systems/crm.yml``), printable as
    LocatedError keeps them: errors are put in file order by this name."""
    return printable(file.relative_to(root).as_posix() if root.is_dir() else str(file))


def _in_file(origins: dict[Loc, tuple[YamlDocument, Loc]], loc: Loc) -> tuple[YamlDocument, Loc, int] | None:
    """The file a merged path came from, the path of its entry there, and how many leading parts
    of ``loc`` that entry path stands for (``("systems", 7, "name")`` -> file, ``("systems", 2)``, 2)."""
    key = loc[:2] if len(loc) >= 2 and isinstance(loc[1], int) else loc[:1]
    origin = origins.get(key)
    return None if origin is None else (origin[0], origin[1], len(key))


class _SourceRefs(Mapping[Loc, str]):
    """``file:line`` of each path in the merged data, worked out when asked: apply asks for one
    per entry it writes, while the files hold a line for every key and value."""

    def __init__(self, origins: dict[Loc, tuple[YamlDocument, Loc]]):
        self._origins = origins

    def get(self, loc: Loc, default: str | None = None) -> str | None:
        """What apply asks for each entry it writes (without the KeyError of a missing path)."""
        found = _in_file(self._origins, loc)
        if found is None:
            return default
        document, entry_path, rest = found
        line = document.lines.get((*entry_path, *loc[rest:]))
        return default if line is None else f"{document.file}:{line}"

    def __getitem__(self, loc: Loc) -> str:
        ref = self.get(loc)
        if ref is None:
            raise KeyError(loc)
        return ref

    def __iter__(self) -> Iterator[Loc]:
        for key, (document, path_in_file) in self._origins.items():
            for path in document.lines:
                if path[:len(path_in_file)] == path_in_file:
                    yield (*key, *path[len(path_in_file):])

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class _MergedManifests:
    """The sections of every file merged in file order, remembering where each entry came from."""

    data: dict[str, Any] = field(default_factory=lambda: {section: [] for section in LIST_SECTIONS})
    origins: dict[Loc, tuple[YamlDocument, Loc]] = field(default_factory=dict)  # merged entry -> (file, path in file)
    errors: list[LocatedError] = field(default_factory=list)

    def add(self, document: YamlDocument) -> None:
        """Merge one file's sections, reporting what cannot be merged."""
        if document.data is None:  # an empty file
            return
        if not isinstance(document.data, dict):
            self.errors.append(LocatedError(
                f"the top level must be a mapping with any of: {', '.join(SECTIONS)}", document.file, document.line_of(()),
            ))
            return
        offsets: dict[str, int] = {}
        for section, value in document.data.items():
            where = document.line_of((section,))
            if section == SCHEMA_VERSION_KEY:  # a catalogue JSON written by `ropa export json`: the restore
                if value != DOCUMENT_SCHEMA_VERSION:
                    self.errors.append(LocatedError(
                        f"schema_version {value!r} is not one this version reads ({DOCUMENT_SCHEMA_VERSION}): the file comes from a newer release",
                        document.file, where, field_path=SCHEMA_VERSION_KEY,
                    ))
            elif section not in SECTIONS:
                self.errors.append(LocatedError(f"unknown section '{section}'", document.file, where, field_path=str(section), suggestion=nearest(section, SECTIONS)))
            elif value is None:  # 'systems:' with every entry commented out
                continue
            elif section == ORGANISATION:
                self._add_organisation(document, value)
            elif not isinstance(value, list):
                self.errors.append(LocatedError(f"'{section}' must be a list of entries", document.file, where, field_path=section))
            else:
                offsets[section] = len(self.data[section])
                for index in range(len(value)):
                    self.origins[(section, offsets[section] + index)] = (document, (section, index))
                self.data[section].extend(value)

    def _add_organisation(self, document: YamlDocument, value: Any) -> None:
        declared = self.origins.get((ORGANISATION,))
        if declared is not None:
            first, _ = declared
            self.errors.append(LocatedError(
                f"organisation is already declared in {first.file}:{first.line_of((ORGANISATION,))}; a catalogue has one organisation",
                document.file, document.line_of((ORGANISATION,)), field_path=ORGANISATION,
            ))
            return
        self.origins[(ORGANISATION,)] = (document, (ORGANISATION,))
        self.data[ORGANISATION] = value

    def locate(self, loc: Loc, message: str, suggestion: str | None) -> LocatedError:
        """An error at a merged path, located in the file and line it came from.

        The line is looked up with the keys as the input wrote them; the field path shows the
        manifest (alias) names.
        """
        shown = resolve_path(CatalogSpec, loc).loc
        found = _in_file(self.origins, loc)
        if found is None:
            return LocatedError(message, field_path=format_field_path(shown), suggestion=suggestion)
        document, path_in_file, rest = found
        return LocatedError(
            message, document.file, document.line_of((*path_in_file, *loc[rest:])),
            field_path=format_field_path((*path_in_file, *shown[rest:])), suggestion=suggestion,
        )


def load_manifests(path: Path | str, max_bytes: int = MAX_FILE_BYTES) -> tuple[CatalogSpec, Mapping[Loc, str]]:
    """Read and validate a manifest file or directory: the spec and ``{path in spec: "file:line"}``.

    Raises IngestError with every problem of every file: size over ``max_bytes``, YAML, unknown
    keys and values, then (once the entries are valid) references between them.
    """
    with collector_paused():
        return _load_manifests(Path(path), max_bytes)


def _load_manifests(path: Path, max_bytes: int) -> tuple[CatalogSpec, Mapping[Loc, str]]:
    files = manifest_files(path)
    merged = _MergedManifests()
    for file in files:
        shown = _shown_name(file, path)
        try:
            check_file(file, max_bytes, shown)
            merged.add(load_yaml(file, shown))
        except IngestError as error:
            merged.errors.extend(error.errors)
    spec: CatalogSpec | None = None
    try:
        spec = CatalogSpec.model_validate(merged.data)
    except ValidationError as error:
        merged.errors.extend(merged.locate(p.loc, p.message, p.suggestion) for p in validation_problems(error, CatalogSpec))
    if spec is not None and not merged.errors:
        merged.errors.extend(merged.locate(p.loc, p.message, p.suggestion) for p in check_references(spec))
    if merged.errors:
        order = {_shown_name(file, path): index for index, file in enumerate(files)}
        raise IngestError(sorted(merged.errors, key=lambda e: (order.get(e.file or "", -1), e.line or 0)))
    assert spec is not None
    return spec, _SourceRefs(merged.origins)


def ingest_manifests(
    catalog: Catalog, path: Path | str, actor: str = "", *, allow_empty: bool = False, max_bytes: int = MAX_FILE_BYTES,
) -> IngestReport:
    """Ingest a manifest file or directory as one run; IngestError (nothing written) on any problem.

    The manifests are the whole catalogue as code: what earlier manifest runs asserted and this
    one does not is retired, so an input with no entries is refused unless ``allow_empty``.
    """
    started = time.monotonic()
    with collector_paused():
        spec, source_refs = load_manifests(path, max_bytes)
        return apply_and_report(
            catalog, spec, source=SOURCE_NAME, target=str(path), actor=actor, source_refs=source_refs, started=started,
            allow_empty=allow_empty,
        )


def manifest_json_schema() -> dict[str, Any]:
    """JSON Schema of one manifest file, for editors (``ropa schema``)."""
    schema = CatalogSpec.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "ROPA catalogue manifest",
        "description": "One manifest file: any of organisation, locations, systems, parties, activities and flows. "
        "Lists from all files of a directory are merged.",
    }


class ManifestSource(Source):
    """Catalog-as-code: the catalogue as YAML files in a repository."""

    name = SOURCE_NAME
    description = "YAML manifest files (catalog-as-code): a file, or a directory read recursively."

    class Config(SourceConfig):
        path: Path = Field(description="A manifest file, or a directory read recursively for *.yml and *.yaml files: the whole catalogue as code, since a run retires what earlier manifest runs asserted and this one does not.")
        max_bytes: int = Field(default=MAX_FILE_BYTES, gt=0, description="Refuse any file larger than this many bytes, before parsing.")

    def run(self, catalog: Catalog, config: Config, actor: str = "") -> IngestReport:
        return ingest_manifests(catalog, config.path, actor, allow_empty=config.allow_empty, max_bytes=config.max_bytes)
