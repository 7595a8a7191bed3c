"""`ropa export json | csv | map`: the catalogue and the record in formats besides the workbook.

Registered onto the CLI's ``export`` group by :func:`register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ropa.console import DatabaseOption, console, fail, session_on

def export_json(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.json).")] = Path("out/catalog.json"),
    database: DatabaseOption = None,
) -> None:
    """Write the whole catalogue as JSON in the manifest shape (loads back with `ropa ingest`)."""
    from exports.json_export import write_catalog_json

    with session_on(database) as session:
        write_catalog_json(session, out)
    console.print(f"Wrote {out}")


def export_csv(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write one CSV per table into.")] = Path("out/ropa-csv"),
    database: DatabaseOption = None,
) -> None:
    """Write the Article 30 record as CSV files (UTF-8 with BOM, one per table)."""
    from catalog.record import build_record
    from exports.csv_export import write_record_csv

    with session_on(database) as session:
        record = build_record(session)
    paths = write_record_csv(record, out)
    console.print(f"Wrote {len(paths)} files to {out}")


def export_map(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write; its suffix gives the format unless --format is set.")] = Path("out/flows.svg"),
    output_format: Annotated[str | None, typer.Option("--format", "-f", help="dot, svg, pdf or png.", show_default=False)] = None,
    activity: Annotated[str | None, typer.Option(help="Only the flows of this activity id.")] = None,
    category: Annotated[str | None, typer.Option(help="Only flows carrying this data category key (or a broader or narrower one).")] = None,
    country: Annotated[str | None, typer.Option(help="Only flows with either end in this country.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Draw the data-flow map, coloured by transfer status (svg, pdf and png need Graphviz)."""
    from catalog.graph import CatalogGraph
    from catalog.transfers import derive_transfers
    from exports.map_export import MAP_FORMATS, GraphvizMissing, write_map

    fmt = output_format or out.suffix.lower().lstrip(".")
    if fmt not in MAP_FORMATS:
        raise fail(f"map format '{fmt}' is not one of {', '.join(MAP_FORMATS)} (set --format or use a matching --out suffix)")
    with session_on(database) as session:
        graph = CatalogGraph.load(session)
    try:
        write_map(graph, derive_transfers(graph), out, fmt, activity=activity, category=category, country=country)
    except (GraphvizMissing, ValueError) as problem:
        raise fail(str(problem)) from None
    console.print(f"Wrote {out}")


def register(export_app: typer.Typer) -> None:
    """Add `json`, `csv` and `map` to the CLI's `export` group."""
    export_app.command("json")(export_json)
    export_app.command("csv")(export_csv)
    export_app.command("map")(export_map)
