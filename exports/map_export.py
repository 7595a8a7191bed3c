"""The data-flow map as a file: DOT source, or rendered by Graphviz to SVG, PDF or PNG.

The map itself is :func:`catalog.flowmap.build_flow_map`; this module only chooses the output.
DOT needs nothing installed; the rendered formats need Graphviz's ``dot`` program, and its
absence is reported with the package to install rather than as a stack trace.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from catalog.flowmap import build_flow_map
from catalog.graph import CatalogGraph
from catalog.transfers import Transfer

MAP_FORMATS = ("dot", "svg", "pdf", "png")
GRAPHVIZ_INSTALL = "apt-get install graphviz"


class GraphvizMissing(RuntimeError):
    """A rendered format was asked for and the Graphviz ``dot`` program is not on PATH."""

    def __init__(self, fmt: str):
        super().__init__(
            f"rendering the map as {fmt} needs the Graphviz 'dot' program, which is not installed "
            f"(install it with `{GRAPHVIZ_INSTALL}`, or write --format dot)"
        )


def write_map(
    graph: CatalogGraph,
    transfers: list[Transfer],
    path: Path,
    fmt: str = "dot",
    *,
    activity: str | None = None,
    category: str | None = None,
    country: str | None = None,
) -> Path:
    """Write the flow map (optionally filtered as :func:`build_flow_map`) in ``fmt``; returns the path."""
    if fmt not in MAP_FORMATS:
        raise ValueError(f"unknown map format '{fmt}': use one of {', '.join(MAP_FORMATS)}")
    if fmt != "dot" and shutil.which("dot") is None:
        raise GraphvizMissing(fmt)
    digraph = build_flow_map(graph, transfers, activity=activity, category=category, country=country)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        path.write_text(digraph.source, encoding="utf-8")
    else:
        path.write_bytes(digraph.pipe(format=fmt))
    return path
