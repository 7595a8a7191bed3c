"""The rules engine: checks of the catalogue against UK GDPR and EU GDPR, with findings that name
the exact entry, the article and the fix. Importing the package registers every rule."""

from catalog.rules import checks as _checks  # noqa: F401  (registers the rules)
from catalog.rules import notice as _notice  # noqa: F401  (registers the privacy-notice rules)
from catalog.rules import staleness as _staleness  # noqa: F401  (registers ROPA-SRC-001)
from catalog.rules.context import CatalogFacts
from catalog.rules.engine import run_rules
from catalog.rules.model import RULES, Finding, Issue, Rule, Severity, rule
from catalog.rules.sarif import findings_to_sarif
from catalog.rules.suppressions import (
    EXPIRED_SUPPRESSION_RULE,
    Suppression,
    SuppressionFileError,
    SuppressionResult,
    apply_suppressions,
    load_suppressions,
)

__all__ = [
    "EXPIRED_SUPPRESSION_RULE",
    "RULES",
    "CatalogFacts",
    "Finding",
    "Issue",
    "Rule",
    "Severity",
    "Suppression",
    "SuppressionFileError",
    "SuppressionResult",
    "apply_suppressions",
    "findings_to_sarif",
    "load_suppressions",
    "rule",
    "run_rules",
]
