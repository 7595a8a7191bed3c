"""Validated input shapes for the catalogue: what a manifest file or the registration form says.

These pydantic models are the one place where input is checked (taxonomy keys, countries, enum
values, unknown keys); ``ropa schema`` publishes their JSON Schema for editors. Cross-references
between entries are checked by :func:`catalog.specs.references.check_references`.
"""

from catalog.specs.activity import ActivitySpec
from catalog.specs.catalog import DOCUMENT_SCHEMA_VERSION, SCHEMA_VERSION_KEY, CatalogSpec
from catalog.specs.common import ContactSpec
from catalog.specs.flow import FieldLineageSpec, FieldRef, FlowSpec
from catalog.specs.location import LocationSpec
from catalog.specs.organisation import OrganisationSpec
from catalog.specs.party import PartySpec
from catalog.specs.privacy_notice import PrivacyNoticeSpec
from catalog.specs.references import ReferenceProblem, check_references
from catalog.specs.system import DatasetSpec, FieldSpec, SystemSpec

__all__ = [
    "DOCUMENT_SCHEMA_VERSION",
    "SCHEMA_VERSION_KEY",
    "ActivitySpec",
    "CatalogSpec",
    "ContactSpec",
    "DatasetSpec",
    "FieldLineageSpec",
    "FieldRef",
    "FieldSpec",
    "FlowSpec",
    "LocationSpec",
    "OrganisationSpec",
    "PartySpec",
    "PrivacyNoticeSpec",
    "ReferenceProblem",
    "SystemSpec",
    "check_references",
]
