"""Personal-data classification of database columns: name tokens, value recognisers, scores.

``classify_column(name, type_family, sample, table_name)`` returns at most one
:class:`catalog.suggestions.SuggestionInput` per column, with evidence and never a sampled value.
"""

from ingest.classification.rules import DIRECT_IDENTIFIERS, NAME_RULES, TypeFamily
from ingest.classification.scoring import classify_column
from ingest.classification.tokens import name_tokens

__all__ = ["DIRECT_IDENTIFIERS", "NAME_RULES", "TypeFamily", "classify_column", "name_tokens"]
