"""The ingest sources this installation offers, and why any of them cannot load.

Each source lives in its own module and is listed here once, entry-point style, as
``name: "module:Class"``. Modules are imported when the registry is asked, so a source whose
optional driver is missing shows up as :class:`SourceUnavailable` with the import error instead of
breaking every other source.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from catalog.store import Catalog
from ingest.base import IngestReport, Source, SourceConfig, option_fields
from catalog.suggest import nearest
from ingest.errors import IngestError, LocatedError, format_field_path, validation_problems

#: Every ingest source: name -> "module:Class". Adding a source is one line here.
SOURCE_MODULES: dict[str, str] = {
    "manifest": "ingest.manifest:ManifestSource",
    "database": "ingest.database:DatabaseSource",
    "fides": "ingest.fides:FidesSource",
    "ropa-sheet": "ingest.ropa_sheet:RopaSheetSource",
    "subprocessors": "ingest.subprocessors:SubprocessorsSource",
    "openlineage": "ingest.openlineage:OpenLineageSource",
    "dbt": "ingest.dbt:DbtSource",
}


class InvalidOptions(IngestError):
    """The options given do not fit the source's Config (a usage error); nothing ran."""


@dataclass(frozen=True)
class SourceOption:
    """One option of a source, from its Config field."""

    name: str
    type: str
    required: bool
    default: Any
    description: str


@dataclass(frozen=True)
class AvailableSource:
    """A source that loaded, with the options its Config takes."""

    name: str
    description: str
    options: tuple[SourceOption, ...]
    source_class: type[Source]


@dataclass(frozen=True)
class SourceUnavailable:
    """A source whose module could not be imported (usually an optional driver), and why."""

    name: str
    target: str
    reason: str


def _type_name(annotation: Any) -> str:
    return annotation.__name__ if isinstance(annotation, type) else str(annotation).replace("typing.", "")


def _option(name: str, info: FieldInfo) -> SourceOption:
    required = info.is_required()
    default = None if required or info.default_factory is not None else info.default
    return SourceOption(name, _type_name(info.annotation), required, default, info.description or "")


def source_options(config: type[SourceConfig]) -> tuple[SourceOption, ...]:
    """The documented options of a Config class: the source's own in declaration order, then the shared ones."""
    return tuple(_option(name, info) for name, info in option_fields(config))


def _load(name: str, target: str) -> AvailableSource | SourceUnavailable:
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        return SourceUnavailable(name, target, f"{type(error).__name__}: {error}")
    source_class: type[Source] = getattr(module, class_name)
    if source_class.name != name:
        raise TypeError(f"registry lists {target} as '{name}' but the class is named '{source_class.name}'")
    return AvailableSource(name, source_class.description, source_options(source_class.Config), source_class)


def list_sources(modules: Mapping[str, str] = SOURCE_MODULES) -> list[AvailableSource | SourceUnavailable]:
    """Every registered source, loaded or with the reason it could not load, in registry order."""
    return [_load(name, target) for name, target in modules.items()]


def get_source(name: str, modules: Mapping[str, str] = SOURCE_MODULES) -> AvailableSource:
    """The named source; IngestError when it is unknown (with the nearest name) or cannot load."""
    if name not in modules:
        raise IngestError([LocatedError(f"unknown source '{name}'", suggestion=nearest(name, modules))])
    loaded = _load(name, modules[name])
    if isinstance(loaded, SourceUnavailable):
        raise IngestError([LocatedError(f"source '{name}' is unavailable: {loaded.reason}")])
    return loaded


def run_source(
    name: str, catalog: Catalog, options: Mapping[str, Any], actor: str = "", modules: Mapping[str, str] = SOURCE_MODULES,
) -> IngestReport:
    """Validate ``options`` against the source's Config and run it; InvalidOptions (an IngestError)
    on bad options, IngestError on bad input."""
    source = get_source(name, modules)
    try:
        config = source.source_class.Config.model_validate(dict(options))
    except ValidationError as error:
        raise InvalidOptions(
            LocatedError(problem.message, field_path=format_field_path(problem.loc), suggestion=problem.suggestion)
            for problem in validation_problems(error, source.source_class.Config)
        ) from None
    return source.source_class().run(catalog, config, actor)
