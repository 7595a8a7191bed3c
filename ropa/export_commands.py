"""`ropa export json | csv | map`: the catalogue and the record in formats besides the workbook.

Registered onto the CLI's ``export`` group by :func:`register`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ropa.console import DatabaseOption, console, fail, session_on


class MapFormat(StrEnum):
    """Map formats (exports.map_export.MAP_FORMATS; a test keeps the two the same)."""

    DOT = "dot"
    SVG = "svg"
    PDF = "pdf"
    PNG = "png"


def export_json(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.json).")] = Path("out/catalog.json"),
    database: DatabaseOption = None,
) -> None:
    """Write the whole catalogue as JSON in the manifest shape (restored with `ropa ingest manifest FILE`)."""
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
    output_format: Annotated[MapFormat | None, typer.Option("--format", "-f", help="dot, svg, pdf or png (default: from the --out suffix).", show_default=False)] = None,
    activity: Annotated[str | None, typer.Option(help="Only the flows of this activity id.")] = None,
    category: Annotated[str | None, typer.Option(help="Only flows carrying this data category key (or a broader or narrower one).")] = None,
    country: Annotated[str | None, typer.Option(help="Only flows with either end in this country.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Draw the data-flow map, coloured by transfer status (svg, pdf and png need Graphviz)."""
    from catalog.graph import CatalogGraph
    from catalog.suggest import nearest
    from catalog.taxonomy import TaxonomyKind, UnknownTaxonomyKey, load_taxonomy
    from catalog.transfers import derive_transfers
    from exports.map_export import GraphvizMissing, write_map
    from ingest.errors import did_you_mean

    fmt = output_format.value if output_format else out.suffix.lower().lstrip(".")
    if fmt not in MapFormat.__members__.values():
        raise typer.BadParameter(
            f"'{out}' has no map format suffix; use one of {', '.join(MapFormat)} or set --format", param_hint="'--out'",
        )
    if category is not None:
        try:
            load_taxonomy().check(TaxonomyKind.DATA_CATEGORY, category)
        except UnknownTaxonomyKey as problem:
            raise fail(f"--category: {problem}") from None
    with session_on(database) as session:
        graph = CatalogGraph.load(session)
    if activity is not None and activity not in graph.activities:
        raise fail(f"--activity: no activity '{activity}' in the catalogue{did_you_mean(nearest(activity, graph.activities))}")
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
