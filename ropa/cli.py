"""The `ropa` command: one entry point for set-up, ingest, export, analysis and the dashboard.

Exit codes: 0 success, 1 invalid input (the message names file, line and field), 2 usage error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import functools
import inspect
from contextlib import nullcontext

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ropa import analysis_commands, export_commands, revision_commands
from catalog.store import DATABASE_URL_ENV, Catalog, init_catalog
from ropa.console import DatabaseOption, console, errors, fail, opened

app = typer.Typer(help="Personal-data lineage catalogue and Article 30 record (ROPA) for UK GDPR and EU GDPR.", no_args_is_help=True, rich_markup_mode=None)
ingest_app = typer.Typer(help="Load metadata into the catalogue from a source.", rich_markup_mode=None)
export_app = typer.Typer(help="Write the record or the catalogue to files.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(ingest_app, name="ingest")
app.add_typer(export_app, name="export")
analysis_commands.register(app)
export_commands.register(export_app)
revision_commands.register(app, export_app)

def _actor() -> str:
    return os.environ.get("ROPA_ACTOR") or os.environ.get("USER") or "cli"


@app.command()
def init(database: DatabaseOption = None) -> None:
    """Create the catalogue, or upgrade it to the newest schema."""
    catalog = init_catalog(database)
    console.print(f"Catalogue ready at {catalog.display_url} (schema revision {catalog.current_revision()}).")
    catalog.dispose()


@app.command()
def schema(out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None) -> None:
    """Print the JSON Schema of a manifest file, for editor validation as you type."""
    from ingest.manifest import manifest_json_schema

    text = json.dumps(manifest_json_schema(), indent=2, sort_keys=True)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"Wrote {out}")
    else:
        sys.stdout.write(text + "\n")


def print_report(report) -> None:
    console.print(report.summary(), highlight=False, markup=False)


def run_ingest(catalog: Catalog, source: str, options: dict, *, show_status: bool = True):
    """Run one source, printing its report; located errors and exit 1 on bad input."""
    from ingest.errors import IngestError
    from ingest.registry import run_source

    try:
        with console.status(f"Ingesting from {source}") if show_status else nullcontext():
            report = run_source(source, catalog, options, actor=_actor())
    except IngestError as problem:
        for error in problem.errors:
            errors.print(str(error), highlight=False, markup=False)
        raise fail(f"{len(problem.errors)} error(s); nothing was written") from None
    print_report(report)
    return report


@ingest_app.callback(invoke_without_command=True)
def ingest_jobs(
    context: typer.Context,
    job: Annotated[Path | None, typer.Option("--job", help="A YAML job file listing sources to run in order (for cron or Airflow).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Load metadata into the catalogue from a source (`ropa ingest SOURCE ...`), or run a job file."""
    if context.invoked_subcommand is not None:
        return
    if job is None:
        console.print(context.get_help())
        raise typer.Exit(2)
    from ingest.jobs import JobFileError, load_job_file

    try:
        jobs = load_job_file(job)
    except JobFileError as problem:
        raise fail(str(problem)) from None
    with opened(database) as catalog, Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:
        task = progress.add_task("jobs", total=len(jobs))
        for number, (source, options) in enumerate(jobs, start=1):
            progress.update(task, description=f"job {number}: {source}")
            console.print(f"[{number}/{len(jobs)}] {source}", highlight=False, markup=False)
            run_ingest(catalog, source, options, show_status=False)
            progress.advance(task)


def _typer_parameters(entry) -> list[inspect.Parameter]:
    """Parameters for `ropa ingest NAME` from the source's Config: the first required option is
    the argument, the others are --options (booleans as flags, lists repeatable)."""
    parameters, positional = [], None
    for name, info in entry.source_class.Config.model_fields.items():
        help_text = info.description or ""
        if info.is_required() and positional is None:
            positional = name
            default = typer.Argument(..., help=help_text, show_default=False)
        else:
            value = ... if info.is_required() else info.get_default(call_default_factory=True)
            default = typer.Option(value, "--" + name.replace("_", "-"), help=help_text)
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=info.annotation))
    parameters.append(inspect.Parameter("database", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=DatabaseOption))
    return parameters


def _register_source_commands() -> None:
    """One `ropa ingest NAME` command per registered source; an unavailable one says why."""
    from ingest.registry import SourceUnavailable, list_sources

    for entry in list_sources():
        if isinstance(entry, SourceUnavailable):
            def unavailable(entry=entry) -> None:
                raise fail(f"source '{entry.name}' is unavailable here: {entry.reason}")

            ingest_app.command(entry.name, help=f"Unavailable: {entry.reason}")(unavailable)
            continue

        def run(entry=entry, **options) -> None:
            database = options.pop("database", None)
            given = {name: value for name, value in options.items() if value is not None}
            with opened(database) as catalog:
                run_ingest(catalog, entry.name, given)

        command = functools.partial(run, entry)
        functools.update_wrapper(command, run)
        command.__signature__ = inspect.Signature(_typer_parameters(entry))
        ingest_app.command(entry.name, help=entry.description)(command)


@app.command()
def sources() -> None:
    """List the ingest sources, their options and, where one cannot load, why."""
    from ingest.registry import SourceUnavailable, list_sources

    table = Table("source", "status", "description or reason", "options")
    for entry in list_sources():
        if isinstance(entry, SourceUnavailable):
            table.add_row(entry.name, "unavailable", entry.reason, "")
        else:
            table.add_row(entry.name, "available", entry.description, ", ".join(option.name for option in entry.options))
    console.print(table)


def write_record_workbook(catalog: Catalog, out: Path, template: str = "ico") -> Path:
    from catalog.record import build_record
    from exports.workbook import write_workbook

    out.parent.mkdir(parents=True, exist_ok=True)
    with catalog.session() as session:
        record = build_record(session)
    write_workbook(record, out, template)
    return out


@export_app.command("ropa")
def export_ropa(
    out: Annotated[Path, typer.Option("--out", "-o", help="Workbook to write (.xlsx).")] = Path("out/ropa.xlsx"),
    template: Annotated[str, typer.Option("--template", help="Layout: ico (UK ICO template) or cnil (CNIL register).")] = "ico",
    as_of: Annotated[str | None, typer.Option("--as-of", help="The record as it stood then: a revision number, a date (YYYY-MM-DD, end of day UTC) or an ISO date-time.", show_default=False)] = None,
    database: DatabaseOption = None,
) -> None:
    """Write the Article 30 record as an Excel workbook (now, or as it stood at an earlier revision)."""
    from exports.workbook import TEMPLATES

    if out.suffix.lower() != ".xlsx":
        raise fail(f"--out {out}: the workbook must be an .xlsx file")
    if template not in TEMPLATES:
        raise fail(f"--template {template}: use one of {', '.join(TEMPLATES)}")
    with opened(database) as catalog:
        if as_of is None:
            write_record_workbook(catalog, out, template)
        else:
            from catalog.history import UnknownMoment
            from catalog.revisions import ReplayError

            try:
                revision_commands.write_record_workbook_as_of(catalog, out, template, as_of)
            except (UnknownMoment, ReplayError) as problem:
                raise fail(str(problem)) from None
    console.print(f"Wrote {out}")


@app.command()
def transfers(
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    gaps_only: Annotated[bool, typer.Option("--gaps-only", help="Only restricted transfers with no mechanism on record.")] = False,
    database: DatabaseOption = None,
) -> None:
    """List international transfers derived from the flows, assessed under UK GDPR and EU GDPR."""
    from catalog.graph import CatalogGraph
    from catalog.jurisdictions import load_jurisdictions
    from catalog.transfers import derive_transfers

    if output_format not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    with opened(database) as catalog, catalog.session() as session:
        graph = CatalogGraph.load(session)
    found = [t for t in derive_transfers(graph) if t.has_gap or not gaps_only]
    if output_format == "json":
        sys.stdout.write(json.dumps({"regimes": list(graph.regimes), "transfers": [t.as_dict() for t in found]}, indent=2) + "\n")
        return
    names = load_jurisdictions().country_name
    table = Table("flow", "exporter", "importer (role)", "from", "to", "UK GDPR", "EU GDPR", "mechanism", "gap", title="International transfers")
    for t in found:
        table.add_row(
            t.flow_id, t.exporter_name, f"{t.importer_name} ({t.importer_role})", names(t.origin), names(t.destination),
            t.uk.status.label, t.eu.status.label, t.mechanism or "-", "GAP" if t.has_gap else "",
        )
    console.print(table)
    gaps = sum(t.has_gap for t in found)
    console.print(f"{len(found)} transfer(s), {gaps} restricted without a mechanism on record.")


def serve_dashboard(database_url: str, port: int, address: str) -> None:
    """Run the Streamlit dashboard in the foreground until interrupted."""
    env = {**os.environ, DATABASE_URL_ENV: database_url}
    console.print(f"Dashboard on http://{address}:{port} (Ctrl+C to stop)")
    # dashboards.serve is `streamlit run dashboards/app.py` plus reading the catalogue ahead of visitors
    command = [sys.executable, "-m", "dashboards.serve", "--port", str(port), "--address", address]
    try:
        subprocess.run(command, env=env, check=False)
    except KeyboardInterrupt:
        pass


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to bind; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    database: DatabaseOption = None,
) -> None:
    """Serve the dashboard (Streamlit)."""
    with opened(database) as catalog:
        url = catalog.url
    serve_dashboard(url, port, address)


@app.command()
def demo(
    serve: Annotated[bool, typer.Option("--serve", help="Also start the dashboard.")] = False,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the workbook.")] = Path("out/ropa.xlsx"),
    port: Annotated[int, typer.Option(help="Dashboard port, with --serve.")] = 8501,
    database: DatabaseOption = None,
) -> None:
    """Load the demo organisation (Kanj Technologies Ltd), write its workbook, optionally serve the dashboard."""
    from ropa.demo import demo_manifest_dir

    catalog = init_catalog(database)
    try:
        run_ingest(catalog, "manifest", {"path": demo_manifest_dir()})
        write_record_workbook(catalog, out)
        console.print(f"Wrote {out}")
        url = catalog.url
    finally:
        catalog.dispose()
    if serve:
        serve_dashboard(url, port, "127.0.0.1")


@app.command()
def synth(
    systems: Annotated[int, typer.Option(min=1, help="Number of systems.")] = 100,
    fields_per_system: Annotated[int, typer.Option(min=1, help="Fields in each system.")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same catalogue.")] = 0,
    database: DatabaseOption = None,
) -> None:
    """Generate a deterministic synthetic catalogue for scale work and load it (source: synth)."""
    from catalog.apply import apply_spec
    from catalog.synth import synth_spec

    with console.status(f"Generating {systems} systems x {fields_per_system} fields"):
        spec = synth_spec(systems, fields_per_system, seed)
    catalog = init_catalog(database)
    try:
        with console.status("Writing to the catalogue"), catalog.session() as session:
            result = apply_spec(session, spec, source="synth", target=f"synth seed={seed}", actor=_actor())
    finally:
        catalog.dispose()
    console.print(f"synth: {result.added} added, {result.updated} updated, {result.unchanged} unchanged, {result.retired} retired (run {result.run.id})")


_register_source_commands()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
