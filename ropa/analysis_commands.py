"""The analysis commands: `ropa lineage`, `ropa check` and `ropa dsar`.

Kept apart from ropa/cli.py and added with ``register(app)``, so the analysis layer can grow
without touching the set-up and ingest commands. Exit codes: 0 success, 1 invalid input (or, for
`check`, a finding at or above --fail-on), 2 usage error.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ropa.console import DatabaseOption, console, fail, session_on, write

FINDINGS_AT_OR_ABOVE_THRESHOLD = 1


class LineageFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    DOT = "dot"


class CheckFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"


class DsarFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class FailOn(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    NEVER = "never"


def lineage_command(
    node: Annotated[str, typer.Argument(help="A node key (system:crm), an id (crm) or a path (crm.contacts.email).")],
    upstream: Annotated[bool, typer.Option("--upstream", help="Where the data comes from.")] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Where the data goes (the default).")] = False,
    both: Annotated[bool, typer.Option("--both", help="Both directions.")] = False,
    depth: Annotated[int | None, typer.Option("--depth", min=0, help="At most this many hops (default: all).")] = None,
    output_format: Annotated[LineageFormat, typer.Option("--format", "-f", help="table, json or dot (Graphviz).")] = LineageFormat.TABLE,
    database: DatabaseOption = None,
) -> None:
    """Show where data at a system, dataset or field flows to or comes from, with borders crossed and pseudonymisation."""
    from catalog.graph import CatalogGraph
    from catalog.lineage import Direction, UnknownNodeError, lineage

    if upstream + downstream + both > 1:
        raise typer.BadParameter("give one of --upstream, --downstream, --both")
    direction = Direction.UPSTREAM if upstream else Direction.BOTH if both else Direction.DOWNSTREAM
    with session_on(database) as session:
        graph = CatalogGraph.load(session)
    try:
        result = lineage(graph, node, direction, depth)
    except UnknownNodeError as problem:
        raise fail(str(problem)) from None
    if output_format == LineageFormat.JSON:
        return write(result.as_json())
    if output_format == LineageFormat.DOT:
        return write(result.as_dot())
    table = Table("direction", "hops", "node", "path", "categories", "border crossings", "pseudonymised at",
                  title=f"Lineage of {result.start_label} ({direction.value})")
    for row in result.as_table_rows():
        table.add_row(row["direction"], str(row["depth"]), row["node"], row["path"], row["categories"], row["border_crossings"], row["pseudonymised_at"])
    console.print(table)
    console.print(f"{len(result.nodes)} node(s) reached.")


def check_command(
    output_format: Annotated[CheckFormat, typer.Option("--format", "-f", help="table, json or sarif (SARIF 2.1.0).")] = CheckFormat.TABLE,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity; 'never' always exits 0.")] = FailOn.HIGH,
    suppressions_file: Annotated[Path | None, typer.Option("--suppressions", exists=True, dir_okay=False, help="YAML list of accepted findings {rule_id, item_id, reason, reviewed_by, expires}.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Check the catalogue against UK GDPR and EU GDPR rules (lawful basis, conditions, transfers, contracts, retention, DPIA)."""
    from catalog.rules import Severity, SuppressionFileError, apply_suppressions, findings_to_sarif, load_suppressions, run_rules

    try:
        suppressions = load_suppressions(suppressions_file) if suppressions_file else []
    except SuppressionFileError as problem:
        raise fail(str(problem)) from None
    with session_on(database) as session:
        outcome = apply_suppressions(run_rules(session), suppressions)
    findings = outcome.findings
    if output_format == CheckFormat.SARIF:
        write(json.dumps(findings_to_sarif(findings, outcome.suppressed), indent=2))
    elif output_format == CheckFormat.JSON:
        write(json.dumps({
            "findings": [f.as_dict() for f in findings],
            "suppressed": [{**f.as_dict(), "reason": s.reason, "reviewed_by": s.reviewed_by, "expires": s.expires.isoformat()} for f, s in outcome.suppressed],
        }, indent=2))
    else:
        table = Table("severity", "rule", "article", "item", "finding", "fix", title="Findings")
        for f in findings:
            table.add_row(f.severity.value, f.rule_id, f.article, f"{f.item_kind}:{f.item_id}", f.message, f.fix_hint)
        console.print(table)
        console.print(f"{len(findings)} finding(s), {len(outcome.suppressed)} suppressed.")
    if fail_on != FailOn.NEVER and any(f.severity >= Severity(fail_on.value) for f in findings):
        raise typer.Exit(FINDINGS_AT_OR_ABOVE_THRESHOLD)


def dsar_command(
    subject: Annotated[str, typer.Option("--subject", "-s", help="Data subject key, e.g. customer, employee.")],
    category: Annotated[str | None, typer.Option("--category", "-c", help="Data category key; covers the keys below it.")] = None,
    output_format: Annotated[DsarFormat, typer.Option("--format", "-f", help="table or json.")] = DsarFormat.TABLE,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the map as an Excel workbook (.xlsx) instead of printing it.", show_default=False)] = None,
    database: DatabaseOption = None,
) -> None:
    """Map where a data subject's data is held, copied and disclosed, for an access or erasure request."""
    from catalog.dsar import dsar_map
    from catalog.taxonomy import UnknownTaxonomyKey

    if out is not None and out.suffix.lower() != ".xlsx":
        raise fail(f"--out {out}: the workbook must be an .xlsx file")
    with session_on(database) as session:
        try:
            result = dsar_map(session, subject=subject, category=category)
        except UnknownTaxonomyKey as problem:
            raise fail(str(problem)) from None
    if out is not None:
        from exports.dsar_workbook import write_dsar_workbook

        out.parent.mkdir(parents=True, exist_ok=True)
        write_dsar_workbook(result, out)
        console.print(f"Wrote {out}")
        return None
    if output_format == DsarFormat.JSON:
        return write(result.as_json())
    table = Table("where", "how", "categories", "countries", "retention", "via", title=f"Data about {subject}" + (f" ({category})" if category else ""))
    for row in result.as_rows():
        table.add_row(row["where"], row["how"], row["categories"], row["countries"], row["retention"], row["via"])
    console.print(table)
    rights = Table("right", "applies to activities", "recipients to notify (Art 19)", title="Rectification, erasure, restriction")
    for right in result.rights:
        rights.add_row(f"{right.name} ({right.article})", ", ".join(right.activities) or "-", ", ".join(right.notify) or "-")
    console.print(rights)


def register(app: typer.Typer) -> None:
    """Add `lineage`, `check` and `dsar` to the `ropa` command."""
    app.command("lineage")(lineage_command)
    app.command("check")(check_command)
    app.command("dsar")(dsar_command)
