"""Findings, severities and the rule registry.

A rule is a small function registered under a stable id (``ROPA-A6-001``) with the article it
enforces; ids never change meaning, so suppressions and SARIF baselines keep matching.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

LEGISLATION = "https://www.legislation.gov.uk"
#: UK GDPR (retained Regulation (EU) 2016/679) article by article; EU GDPR article numbers are the same.
UK_GDPR_ARTICLE = LEGISLATION + "/eur/2016/679/article/{}"


class Severity(StrEnum):
    """How urgent a finding is; ordered, so ``finding.severity >= Severity.HIGH`` works."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    def __lt__(self, other: object) -> bool:
        return self.rank < Severity(other).rank

    def __le__(self, other: object) -> bool:
        return self.rank <= Severity(other).rank

    def __gt__(self, other: object) -> bool:
        return self.rank > Severity(other).rank

    def __ge__(self, other: object) -> bool:
        return self.rank >= Severity(other).rank

    @property
    def sarif_level(self) -> str:
        """SARIF result level: error for high and critical, warning for medium, note below."""
        return {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning"}.get(self, "note")


@dataclass(frozen=True)
class Finding:
    """One problem with one catalogue entry, with the article it breaches and how to fix it."""

    rule_id: str
    """Stable id of the rule, e.g. ROPA-A6-001."""
    severity: Severity
    """How urgent it is."""
    article: str
    """The provision the rule enforces, e.g. 'Art 6(1)'."""
    message: str
    """What is wrong, naming the exact item."""
    fix_hint: str
    """What to change in the catalogue to fix it."""
    item_kind: str
    """Kind of entry: activity, system, dataset, field, party, transfer or suppression."""
    item_id: str
    """Id of the entry (a field's system.dataset.field path; a transfer's flow id)."""
    source_ref: str | None = None
    """Where the entry was asserted, e.g. 'systems/crm.yml:12', when known."""

    @property
    def sort_key(self) -> tuple:
        """Most severe first, then by rule and item, so output is stable."""
        return (-self.severity.rank, self.rule_id, self.item_kind, self.item_id, self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id, "severity": self.severity.value, "article": self.article, "message": self.message,
            "fix_hint": self.fix_hint, "item_kind": self.item_kind, "item_id": self.item_id, "source_ref": self.source_ref,
        }


@dataclass(frozen=True)
class Issue:
    """What a rule function yields: a finding before the rule's id, article and severity are attached."""

    item_kind: str
    """Kind of entry (see Finding.item_kind)."""
    item_id: str
    """Id of the entry."""
    message: str
    """What is wrong, naming the item."""
    fix_hint: str
    """How to fix it."""
    source_ref: str | None = None
    """Where the entry was asserted."""
    severity: Severity | None = None
    """Overrides the rule's default severity (e.g. a transfer gap for special category data)."""


@dataclass(frozen=True)
class Rule:
    """A registered check."""

    rule_id: str
    """Stable id, e.g. ROPA-A6-001."""
    title: str
    """One-line description (SARIF shortDescription)."""
    article: str
    """The provision enforced."""
    severity: Severity
    """Default severity of its findings."""
    help_uri: str
    """Where the provision can be read."""
    check: Callable[[Any], Iterable[Issue]]
    """The function: CatalogFacts -> issues."""
    description: str = ""
    """Why the rule exists (SARIF fullDescription); the function's docstring."""

    def finding(self, issue: Issue) -> Finding:
        return Finding(
            rule_id=self.rule_id, severity=issue.severity or self.severity, article=self.article, message=issue.message,
            fix_hint=issue.fix_hint, item_kind=issue.item_kind, item_id=str(issue.item_id), source_ref=issue.source_ref,
        )

    def run(self, facts: Any) -> list[Finding]:
        return [self.finding(issue) for issue in self.check(facts)]


#: Every rule by id, in registration order.
RULES: dict[str, Rule] = {}


def rule(rule_id: str, *, title: str, article: str, severity: Severity, help_uri: str) -> Callable:
    """Register a check function under a stable id; a second rule with the same id is an error."""

    def register(check: Callable[[Any], Iterable[Issue]]) -> Callable[[Any], Iterable[Issue]]:
        if rule_id in RULES:
            raise ValueError(f"rule id {rule_id} is registered twice")
        description = " ".join((check.__doc__ or title).split())
        RULES[rule_id] = Rule(rule_id, title, article, Severity(severity), help_uri, check, description)
        return check

    return register
