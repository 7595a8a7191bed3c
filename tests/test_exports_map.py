"""The flow map as a file: DOT always, rendered formats through Graphviz, a clear error without it."""

from __future__ import annotations

import shutil

import pytest

from catalog.flowmap import build_flow_map
from catalog.graph import CatalogGraph
from catalog.transfers import derive_transfers
from exports import map_export
from exports.map_export import GraphvizMissing, write_map


@pytest.fixture
def graph(loaded_catalog):
    with loaded_catalog.session() as session:
        return CatalogGraph.load(session)


def test_dot_is_the_flow_map_source(graph, tmp_path):
    transfers = derive_transfers(graph)
    path = write_map(graph, transfers, tmp_path / "maps" / "flows.dot", "dot")
    assert path.read_text(encoding="utf-8") == build_flow_map(graph, transfers).source
    filtered = write_map(graph, transfers, tmp_path / "one.dot", "dot", activity="client-management")
    assert filtered.read_text(encoding="utf-8") == build_flow_map(graph, transfers, activity="client-management").source


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed (apt-get install graphviz)")
@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<?xml"), ("pdf", b"%PDF"), ("png", b"\x89PNG")])
def test_rendered_formats(graph, tmp_path, fmt, magic):
    path = write_map(graph, derive_transfers(graph), tmp_path / f"flows.{fmt}", fmt)
    assert path.read_bytes().startswith(magic)


def test_missing_graphviz_names_the_package(graph, tmp_path, monkeypatch):
    monkeypatch.setattr(map_export.shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissing, match="apt-get install graphviz"):
        write_map(graph, derive_transfers(graph), tmp_path / "flows.svg", "svg")
    assert not (tmp_path / "flows.svg").exists()
    write_map(graph, derive_transfers(graph), tmp_path / "flows.dot", "dot")  # DOT needs no binary


def test_unknown_format(graph, tmp_path):
    with pytest.raises(ValueError, match="unknown map format 'gif'"):
        write_map(graph, [], tmp_path / "flows.gif", "gif")
