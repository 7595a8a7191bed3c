"""The `ropa` command: one entry point for set-up, ingest, export, analysis and the dashboard.

Exit codes: 0 success, 1 invalid input (the message names file, line and field), 2 usage error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import functools
import inspect
from contextlib import nullcontext

import annotated_types
import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ropa import analysis_commands, export_commands, revision_commands
from catalog.store import DATABASE_URL_ENV, Catalog
from ropa.console import DatabaseOption, console, created, errors, fail, opened

if TYPE_CHECKING:
    from ingest.jobs import Job

app = typer.Typer(help="Personal-data lineage catalogue and Article 30 record (ROPA) for UK GDPR and EU GDPR.", no_args_is_help=True, rich_markup_mode=None)
ingest_app = typer.Typer(help="Load metadata into the catalogue from a source.", rich_markup_mode=None)
export_app = typer.Typer(help="Write the record or the catalogue to files.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(ingest_app, name="ingest")
app.add_typer(export_app, name="export")
analysis_commands.register(app)
export_commands.register(export_app)
revision_commands.register(app, export_app)


class Template(StrEnum):
    """Workbook layouts (exports.workbook.TEMPLATES; a test keeps the two the same)."""

    ICO = "ico"
    CNIL = "cnil"


def _actor() -> str:
    return os.environ.get("ROPA_ACTOR") or os.environ.get("USER") or "cli"


@app.command()
def init(database: DatabaseOption = None) -> None:
    """Create the catalogue, or upgrade it to the newest schema."""
    with created(database) as catalog:
        console.print(f"Catalogue ready at {catalog.display_url} (schema revision {catalog.current_revision()}).", highlight=False, markup=False)


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


def option_flag(name: str) -> str:
    """The command-line spelling of a Config field: ``sample_rows`` -> ``--sample-rows``."""
    return "--" + name.replace("_", "-")


def run_ingest(catalog: Catalog, source: str, options: dict, *, show_status: bool = True, job: Job | None = None, jobs: int = 0):
    """Run one source, printing its report; located errors and exit 1 on bad input, exit 2 on
    options the source does not take. ``job`` (with the number of ``jobs``) is the job file entry
    being run: a failure then says where it is and what the jobs before it wrote."""
    from ingest.errors import IngestError, did_you_mean
    from ingest.registry import InvalidOptions, run_source

    try:
        with console.status(f"Ingesting from {source}") if show_status else nullcontext():
            report = run_source(source, catalog, options, actor=_actor())
    except IngestError as problem:
        if isinstance(problem, InvalidOptions) and job is None:  # a job's options were checked with its file
            flags = dict.fromkeys(f"'{option_flag(error.field_path.split('.')[0].split('[')[0])}'" for error in problem.errors if error.field_path)
            raise typer.BadParameter(
                "; ".join(f"{error.message}{did_you_mean(error.suggestion)}" for error in problem.errors), param_hint=" / ".join(flags) or None,
            ) from None
        for warning in problem.warnings:
            errors.print(f"warning: {warning}", highlight=False, markup=False)
        for error in problem.errors:
            errors.print(str(error), highlight=False, markup=False)
        if job is None:
            raise fail(f"{len(problem.errors)} error(s); nothing was written") from None
        raise fail(f"{job.where}: job {job.number} ({source}) failed with {len(problem.errors)} error(s) and wrote nothing" + _jobs_around(job.number, jobs)) from None
    print_report(report)
    return report


def _jobs_around(number: int, total: int) -> str:
    """What the jobs before a failed one wrote (each is its own run) and that the later ones did not run."""
    def jobs(first: int, last: int) -> str:
        return f"job {first}" if first == last else f"jobs {first}-{last}"

    text = ""
    if number > 1:
        text += f"; {jobs(1, number - 1)} before it {'was' if number == 2 else 'were'} written (each job is its own run)"
    if number < total:
        text += f"; {jobs(number + 1, total)} did not run"
    return text


@ingest_app.callback(invoke_without_command=True)
def ingest_jobs(
    context: typer.Context,
    job: Annotated[Path | None, typer.Option("--job", help="A YAML job file listing sources to run in order (for cron or Airflow).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Load metadata into the catalogue from a source (`ropa ingest SOURCE ...`), or run a job file."""
    if context.invoked_subcommand is not None:
        if job is not None:
            raise typer.BadParameter(f"runs a job file on its own; give either --job FILE or a source ({context.invoked_subcommand}), not both", param_hint="'--job'")
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
        for entry in jobs:
            progress.update(task, description=f"job {entry.number}: {entry.source}")
            console.print(f"[{entry.number}/{len(jobs)}] {entry.source}", highlight=False, markup=False)
            run_ingest(catalog, entry.source, entry.options, show_status=False, job=entry, jobs=len(jobs))
            progress.advance(task)


def _bounds(info) -> dict[str, Any]:
    """Typer's min/max for an integer option from its Config constraints (ge, gt, le, lt), so an
    out-of-range value is a usage error naming the option."""
    bounds: dict[str, Any] = {}
    for constraint in info.metadata:
        if isinstance(constraint, annotated_types.Ge):
            bounds["min"] = constraint.ge
        elif isinstance(constraint, annotated_types.Gt):
            bounds["min"] = constraint.gt + 1
        elif isinstance(constraint, annotated_types.Le):
            bounds["max"] = constraint.le
        elif isinstance(constraint, annotated_types.Lt):
            bounds["max"] = constraint.lt - 1
    return bounds if info.annotation is int else {}


def _typer_parameters(entry) -> list[inspect.Parameter]:
    """Parameters for `ropa ingest NAME` from the source's Config: the first required option is
    the argument, the others are --options (booleans as flags, lists repeatable)."""
    from ingest.base import option_fields

    parameters, positional = [], None
    for name, info in option_fields(entry.source_class.Config):
        help_text = info.description or ""
        if info.is_required() and positional is None:
            positional = name
            default = typer.Argument(..., help=help_text, show_default=False)
        else:
            value = ... if info.is_required() else info.get_default(call_default_factory=True)
            default = typer.Option(value, option_flag(name), help=help_text, **_bounds(info))
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=info.annotation))
    parameters.append(inspect.Parameter("database", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=DatabaseOption))
    parameters.append(inspect.Parameter("context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context))
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
            context = options.pop("context")
            group = context.parent.params.get("database") if context.parent is not None else None  # ropa ingest -d URL SOURCE
            database = options.pop("database", None) or group
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
    for entry in list_sources():  # cells are plain text: "ropa-catalog[mysql]" is not markup
        if isinstance(entry, SourceUnavailable):
            table.add_row(escape(entry.name), "unavailable", escape(entry.reason), "")
        else:
            table.add_row(escape(entry.name), "available", escape(entry.description), escape(", ".join(option.name for option in entry.options)))
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
    template: Annotated[Template, typer.Option("--template", help="Layout: ico (UK ICO template) or cnil (CNIL register).")] = Template.ICO,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The record as it stood then: a revision number, a date (YYYY-MM-DD, end of day UTC) or an ISO date-time.", show_default=False)] = None,
    database: DatabaseOption = None,
) -> None:
    """Write the Article 30 record as an Excel workbook (now, or as it stood at an earlier revision)."""
    if out.suffix.lower() != ".xlsx":
        raise fail(f"--out {out}: the workbook must be an .xlsx file")
    template = template.value
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

    with created(database) as catalog:
        run_ingest(catalog, "manifest", {"path": demo_manifest_dir()})
        write_record_workbook(catalog, out)
        console.print(f"Wrote {out}")
        url = catalog.url
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
    with created(database) as catalog, console.status("Writing to the catalogue"), catalog.session() as session:
        result = apply_spec(session, spec, source="synth", target=f"synth seed={seed}", actor=_actor())
    console.print(f"synth: {result.added} added, {result.updated} updated, {result.unchanged} unchanged, {result.retired} retired (run {result.run.id})")


_register_source_commands()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
