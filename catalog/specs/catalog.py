"""The whole catalogue as one validated document: what a manifest directory adds up to."""

from pydantic import Field

from catalog.specs.activity import ActivitySpec
from catalog.specs.common import Spec
from catalog.specs.flow import FieldLineageSpec, FlowSpec
from catalog.specs.location import LocationSpec
from catalog.specs.organisation import OrganisationSpec
from catalog.specs.party import PartySpec
from catalog.specs.system import SystemSpec


#: Version of the whole-catalogue document (``ropa export json``, the backup), written under
#: SCHEMA_VERSION_KEY beside the CatalogSpec sections; raised when a change would stop an older
#: file loading as-is. The manifest source reads such a file back (the restore).
DOCUMENT_SCHEMA_VERSION = 1
SCHEMA_VERSION_KEY = "schema_version"


class CatalogSpec(Spec):
    """Every entry of a catalogue. Manifest files each hold some of these lists; they are merged."""

    organisation: OrganisationSpec | None = Field(default=None, description="The organisation keeping the record (one, in any one file).")
    locations: list[LocationSpec] = Field(default_factory=list, description="Data centres, cloud regions, offices.")
    systems: list[SystemSpec] = Field(default_factory=list, description="Our systems with datasets and fields.")
    parties: list[PartySpec] = Field(default_factory=list, description="Recipients and clients outside our systems.")
    activities: list[ActivitySpec] = Field(default_factory=list, description="Processing activities (rows of the record).")
    flows: list[FlowSpec] = Field(default_factory=list, description="Flows of personal data.")
    field_lineage: list[FieldLineageSpec] = Field(default_factory=list, description="Field-level lineage between fields of our systems.")
