"""The whole catalogue as one JSON document in the manifest (CatalogSpec) shape.

Same keys and aliases as manifest YAML, so the file can be reviewed, diffed, archived and loaded
back into another catalogue unchanged (``ropa ingest manifest catalog.json``, the restore); entries are in a fixed order
(section, then id), so the same catalogue always gives the same file. Provenance is not part of
the shape: it belongs to the catalogue the file is loaded into.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import Session

from catalog.snapshot import catalog_document, entry_documents, field_lineage_documents
from catalog.specs import DOCUMENT_SCHEMA_VERSION as SCHEMA_VERSION
from catalog.specs import SCHEMA_VERSION_KEY, CatalogSpec


class UnsupportedSchemaVersion(ValueError):
    """A catalogue JSON written by a newer (or unknown) version of the export."""


def export_catalog_json(session: Session) -> dict[str, Any]:
    """The current (non-retired) catalogue: ``schema_version`` followed by the CatalogSpec sections."""
    return {SCHEMA_VERSION_KEY: SCHEMA_VERSION, **catalog_document(entry_documents(session), field_lineage_documents(session))}


def catalog_spec_from_json(data: dict[str, Any]) -> CatalogSpec:
    """Validate an exported document back into a CatalogSpec (``schema_version`` is checked, then dropped)."""
    version = data.get(SCHEMA_VERSION_KEY)
    if version != SCHEMA_VERSION:
        raise UnsupportedSchemaVersion(f"catalogue JSON schema_version {version!r} is not supported (expected {SCHEMA_VERSION})")
    return CatalogSpec.model_validate({key: value for key, value in data.items() if key != SCHEMA_VERSION_KEY})


def write_catalog_json(session: Session, path: Path) -> Path:
    """Write the catalogue JSON (UTF-8, indented, newline-terminated) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(export_catalog_json(session), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
