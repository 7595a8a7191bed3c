"""Tables of the catalogue (SQLModel). Migrations in ``catalog/migrations`` follow these.

Every catalogued entity carries provenance (which source and run asserted it, and which run
retired it), so the record can say where each fact came from and nothing is silently deleted.
"""

from catalog.models.activity import (
    ActivityRecipient,
    ActivitySystem,
    ProcessingActivity,
)
from catalog.models.flow import FieldLineage, Flow
from catalog.models.history import ChangeEvent, Conflict
from catalog.models.location import Location
from catalog.models.organisation import Organisation
from catalog.models.party import Party
from catalog.models.provenance import Provenance
from catalog.models.run import IngestRun
from catalog.models.suggestion import CategorySuggestion
from catalog.models.system import DataField, Dataset, System, SystemLocation

__all__ = [
    "ActivityRecipient",
    "ActivitySystem",
    "CategorySuggestion",
    "ChangeEvent",
    "Conflict",
    "DataField",
    "Dataset",
    "FieldLineage",
    "Flow",
    "IngestRun",
    "Location",
    "Organisation",
    "Party",
    "ProcessingActivity",
    "Provenance",
    "System",
    "SystemLocation",
]

#: Top-level entries (kind as in the history and manifests, table) that remember the last run
#: of their source that reported them.
SEEN_ENTRY_MODELS = (
    ("organisation", Organisation), ("location", Location), ("party", Party), ("system", System),
    ("activity", ProcessingActivity), ("flow", Flow),
)

#: Catalogued entity tables in dependency order (parents first); used by apply, export and diff.
ENTITY_TABLES = (Organisation, Location, Party, System, Dataset, DataField, ProcessingActivity, Flow, FieldLineage)
