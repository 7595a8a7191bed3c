"""Running the rules over the catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session

from catalog.rules.context import CatalogFacts
from catalog.rules.model import RULES, Finding, Severity, rule
from catalog.rules.suppressions import EXPIRED_SUPPRESSION_RULE, Suppression, apply_suppressions


@rule(EXPIRED_SUPPRESSION_RULE, title="Suppression expired", article="Art 5(2)", severity=Severity.INFO,
      help_uri="https://www.legislation.gov.uk/eur/2016/679/article/5")
def _expired_suppressions(facts: CatalogFacts) -> Iterable:
    """An accepted finding must be reviewed again when its acceptance expires (accountability); raised by apply_suppressions."""
    return ()


def run_rules(
    source: Session | CatalogFacts,
    *,
    rule_ids: Iterable[str] | None = None,
    suppressions: list[Suppression] | None = None,
    today: date | None = None,
) -> list[Finding]:
    """Findings of every rule (or of ``rule_ids``), most severe first; with suppressions applied when given."""
    facts = source if isinstance(source, CatalogFacts) else CatalogFacts.load(source)
    selected = [RULES[rule_id] for rule_id in rule_ids] if rule_ids is not None else list(RULES.values())
    findings = sorted((f for r in selected for f in r.run(facts)), key=lambda f: f.sort_key)
    if suppressions:
        return apply_suppressions(findings, suppressions, today).findings
    return findings
