"""Findings as SARIF 2.1.0, so CI and code-scanning tools show them next to the manifest lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from catalog.rules.model import RULES, Finding, Rule
from catalog.rules.suppressions import Suppression

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "ropa-check"


def _physical_location(source_ref: str | None) -> dict[str, Any] | None:
    """'systems/crm.yml:12' -> artifact and line; URLs and refs without a line give none."""
    if not source_ref:
        return None
    path, _, line = source_ref.rpartition(":")
    if not path or not line.isdigit() or "://" in path:
        return None
    return {"artifactLocation": {"uri": path}, "region": {"startLine": int(line)}}


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.rule_id,
        "name": rule.check.__name__.strip("_") or rule.rule_id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "helpUri": rule.help_uri,
        "help": {"text": f"{rule.article}: {rule.description}"},
        "defaultConfiguration": {"level": rule.severity.sarif_level},
        "properties": {"article": rule.article, "severity": rule.severity.value},
    }


def _result(finding: Finding, index: dict[str, int], suppression: Suppression | None = None) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [{
            "name": finding.item_id, "fullyQualifiedName": f"{finding.item_kind}:{finding.item_id}", "kind": "resource",
        }],
    }
    if physical := _physical_location(finding.source_ref):
        location["physicalLocation"] = physical
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "level": finding.severity.sarif_level,
        "message": {"text": f"{finding.message} Fix: {finding.fix_hint}"},
        "locations": [location],
        "partialFingerprints": {"ropaItem/v1": f"{finding.rule_id}|{finding.item_kind}|{finding.item_id}"},
        "properties": {"severity": finding.severity.value, "article": finding.article, "itemKind": finding.item_kind, "fixHint": finding.fix_hint},
    }
    if suppression is not None:
        result["suppressions"] = [{
            "kind": "external", "status": "accepted", "justification": suppression.reason,
            "properties": {"reviewedBy": suppression.reviewed_by, "expires": suppression.expires.isoformat()},
        }]
    return result


def findings_to_sarif(findings: Iterable[Finding], suppressed: Iterable[tuple[Finding, Suppression]] = ()) -> dict[str, Any]:
    """One SARIF run: every registered rule in tool.driver.rules, one result per finding.

    Suppressed findings are included with an external suppression, as SARIF viewers expect.
    """
    rules = sorted(RULES.values(), key=lambda r: r.rule_id)
    index = {r.rule_id: position for position, r in enumerate(rules)}
    results = [_result(f, index) for f in findings] + [_result(f, index, s) for f, s in suppressed]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "informationUri": "https://www.legislation.gov.uk/eur/2016/679/article/30",
                                "rules": [_rule_descriptor(r) for r in rules]}},
            "results": results,
        }],
    }
