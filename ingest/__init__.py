"""Ingest: sources that read where personal-data metadata already lives and write it to the catalogue.

Each source (``ingest.registry.SOURCE_MODULES``) reads its input into a validated ``CatalogSpec``
and writes it as one run; problems come back as located errors and nothing is written.
"""

from ingest.base import IngestReport, Source, SourceConfig, apply_and_report
from ingest.errors import IngestError, LocatedError
from ingest.manifest import ingest_manifests, load_manifests, manifest_json_schema
from ingest.registry import AvailableSource, SourceOption, SourceUnavailable, get_source, list_sources, run_source

__all__ = [
    "AvailableSource",
    "IngestError",
    "IngestReport",
    "LocatedError",
    "Source",
    "SourceConfig",
    "SourceOption",
    "SourceUnavailable",
    "apply_and_report",
    "get_source",
    "ingest_manifests",
    "list_sources",
    "load_manifests",
    "manifest_json_schema",
    "run_source",
]
