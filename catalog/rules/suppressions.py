"""Accepted findings, kept in a reviewed file rather than silenced in code.

A suppression file is a YAML list of ``{rule_id, item_id, reason, reviewed_by, expires}``. Each
suppression is dated: once it expires it stops applying (the finding shows again) and an info
finding says so, so an acceptance is reviewed rather than forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.rules.model import RULES, Finding, Severity
from catalog.suggest import nearest

EXPIRED_SUPPRESSION_RULE = "ROPA-SUP-001"


class SuppressionFileError(ValueError):
    """The suppression file is malformed; the message names the file, the entry and its line."""


class _SuppressionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rule_id: str = Field(min_length=1)
    item_id: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    reviewed_by: str = Field(min_length=1)
    expires: date


@dataclass(frozen=True)
class Suppression:
    """One accepted finding: which rule on which item, why, who reviewed it, until when."""

    rule_id: str
    """Rule whose finding is accepted."""
    item_id: str
    """Item the acceptance is for (as in Finding.item_id)."""
    reason: str
    """Why the finding is accepted."""
    reviewed_by: str
    """Who reviewed and accepted it."""
    expires: date
    """Last day the acceptance applies."""
    source_ref: str | None = None
    """Where in the suppression file, 'file:line'."""

    def matches(self, finding: Finding) -> bool:
        return finding.rule_id == self.rule_id and finding.item_id == self.item_id

    def expired(self, today: date) -> bool:
        return today > self.expires


def load_suppressions(path: Path | str) -> list[Suppression]:
    """Read and validate a suppression file; unknown rule ids are errors (with the nearest id)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text) or []
        nodes = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise SuppressionFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, list):
        raise SuppressionFileError(f"{path}: expected a list of suppressions")
    problems, suppressions = [], []
    for index, entry in enumerate(raw):
        line = nodes.value[index].start_mark.line + 1
        where = f"{path}:{line}"
        try:
            parsed = _SuppressionEntry.model_validate(entry)
        except ValidationError as exc:
            problems += [f"{where}: entry {index}: {'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors()]
            continue
        if parsed.rule_id not in RULES:
            suggestion = nearest(parsed.rule_id, RULES)
            hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
            problems.append(f"{where}: entry {index}: unknown rule '{parsed.rule_id}'{hint}")
            continue
        suppressions.append(Suppression(**parsed.model_dump(), source_ref=where))
    if problems:
        raise SuppressionFileError("invalid suppression file:\n" + "\n".join(f"  {p}" for p in problems))
    return suppressions


@dataclass(frozen=True)
class SuppressionResult:
    """Findings after suppressions: what still shows, and what was accepted."""

    findings: list[Finding]
    """Findings still reported, including an info finding per expired suppression; sorted."""
    suppressed: list[tuple[Finding, Suppression]]
    """Findings accepted by a current suppression."""


def apply_suppressions(findings: list[Finding], suppressions: list[Suppression], today: date | None = None) -> SuppressionResult:
    """Drop findings a current suppression accepts; report each expired suppression as an info finding."""
    today = today or date.today()
    active = [s for s in suppressions if not s.expired(today)]
    kept, suppressed = [], []
    for finding in findings:
        match = next((s for s in active if s.matches(finding)), None)
        if match:
            suppressed.append((finding, match))
        else:
            kept.append(finding)
    expiry_rule = RULES[EXPIRED_SUPPRESSION_RULE]
    for s in suppressions:
        if s.expired(today):
            kept.append(Finding(
                rule_id=expiry_rule.rule_id, severity=Severity.INFO, article=expiry_rule.article,
                message=f"Suppression of {s.rule_id} for '{s.item_id}' (reviewed by {s.reviewed_by}) expired on {s.expires.isoformat()}; the finding is reported again.",
                fix_hint="Fix the finding, or review the acceptance and set a new expires date.",
                item_kind="suppression", item_id=f"{s.rule_id}:{s.item_id}", source_ref=s.source_ref,
            ))
    return SuppressionResult(sorted(kept, key=lambda f: f.sort_key), suppressed)
