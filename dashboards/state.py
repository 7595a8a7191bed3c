"""Catalogue access for the dashboard: one engine per database URL, one snapshot per revision.

The engine is opened once per server process (``st.cache_resource``) and its schema revision is
checked; a catalogue that is missing or behind shows an error naming the command to run instead
of a traceback. The graph and the derived transfers are rebuilt only when the catalogue's
revision changes: the latest ingest run and the latest change event together, because
confirmed suggestions and resolved conflicts change the catalogue with a ChangeEvent but no run.
Filter changes and page switches do not re-read the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

import streamlit as st
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from catalog.collector import collector_paused
from catalog.graph import CatalogGraph, NodeKind
from catalog.models import ChangeEvent, IngestRun, ProcessingActivity
from catalog.store import (
    DATABASE_URL_ENV,
    Catalog,
    CatalogNotReady,
    mask_url,
    open_catalog,
    resolve_database_url,
)
from catalog.transfers import Transfer, derive_transfers

#: (latest IngestRun.id, latest ChangeEvent.id): changes whenever the catalogue does.
Revision = tuple[int | None, int | None]


@dataclass(frozen=True)
class Snapshot:
    """What the pages read: the graph, its transfers and the current activities, as of one run."""

    run_id: int | None
    graph: CatalogGraph
    transfers: tuple[Transfer, ...]
    activities: tuple[ProcessingActivity, ...]

    def count(self, kind: NodeKind) -> int:
        return len(self.graph.nodes_of(kind))


def database_url() -> str:
    """The catalogue URL: $ROPA_DATABASE_URL, else ./ropa.db (as for every ``ropa`` command)."""
    return resolve_database_url()


@st.cache_resource(show_spinner=False, max_entries=4, on_release=Catalog.dispose)
def _open(url: str) -> Catalog:
    """Open and check once per URL; a failure raises and is not cached, so a reload retries."""
    return open_catalog(url, check=True)


def _not_ready(message: str) -> None:
    st.error(
        f"The catalogue is not ready: {message}\n\n"
        f"Run `ropa init` against the same database (it reads `{DATABASE_URL_ENV}` too, or pass "
        "`--database URL`), load it with `ropa ingest manifest PATH` or `ropa demo`, then reload this page."
    )
    st.code("ropa init", language="bash")
    st.stop()


def require_catalog() -> Catalog:
    """The open catalogue, or an error naming the command to run, and the page stops."""
    url = database_url()
    try:  # a checked open refuses a missing SQLite file rather than creating it
        return _open(url)
    except CatalogNotReady as exc:
        _not_ready(str(exc))
    except SQLAlchemyError as exc:
        st.error(
            f"Cannot reach the catalogue at `{mask_url(url)}` ({type(exc).__name__}). "
            f"Check `{DATABASE_URL_ENV}` and that the database server is running, then reload this page."
        )
        st.stop()
    raise AssertionError("unreachable: st.stop() ends the run")


def _revision(catalog: Catalog) -> Revision:
    with catalog.session() as session:
        run_id = session.exec(select(func.max(IngestRun.id))).one()
        event_id = session.exec(select(func.max(ChangeEvent.id))).one()
    return run_id, event_id


def current_revision() -> Revision:
    """(latest ingest run id, latest change event id) of the open catalogue: a cache key for derived views."""
    return _revision(require_catalog())


def _latest_run_id(catalog: Catalog) -> int | None:
    return _revision(catalog)[0]


@st.cache_resource(show_spinner="Reading the catalogue…", max_entries=8)
def _snapshot(url: str, revision: Revision) -> Snapshot:
    """Read the store once per (catalogue, revision); shared read-only between sessions."""
    run_id = revision[0]
    catalog = _open(url)
    with collector_paused(), catalog.session() as session:
        graph = CatalogGraph.load(session)
        activities = sorted(graph.rows.activities.values(), key=attrgetter("id"))
        return Snapshot(run_id, graph, tuple(derive_transfers(graph)), tuple(activities))


def warm_up() -> Revision:
    """Read the open catalogue's snapshot of its latest revision into the shared cache (a no-op when
    it is there), so visitors find it ready: see :mod:`dashboards.serve`. Returns the revision."""
    catalog = _open(database_url())
    revision = _revision(catalog)
    _snapshot(catalog.url, revision)
    return revision


def current_snapshot() -> Snapshot:
    """The snapshot of the catalogue as of its latest revision."""
    catalog = require_catalog()
    return _snapshot(catalog.url, _revision(catalog))


def _from_snapshot(url: str, revision: Revision, build):
    """``build(session, graph=, transfers=)`` from catalog.record on the snapshot of this revision."""
    snapshot = _snapshot(url, revision)
    with collector_paused(), _open(url).session() as session:
        return build(session, graph=snapshot.graph, transfers=list(snapshot.transfers))


@st.cache_resource(show_spinner="Deriving the Article 30 record…", max_entries=8)
def _record(url: str, revision: Revision):
    """The Article 30 record per (catalogue, revision); raises ImportError where it is not installed."""
    from catalog.record import build_record

    return _from_snapshot(url, revision, build_record)


@st.cache_resource(show_spinner="Deriving the Article 30 record…", max_entries=8)
def _registers(url: str, revision: Revision):
    """The controller and processor records per (catalogue, revision): the record without its annexes."""
    from catalog.record import build_registers

    return _from_snapshot(url, revision, build_registers)


def current_record():
    """``catalog.record.Record`` of the catalogue as of its latest revision (ImportError if unavailable)."""
    catalog = require_catalog()
    return _record(catalog.url, _revision(catalog))


def current_registers():
    """``catalog.record.Registers`` as of the latest revision: what the activities page shows first,
    without waiting for the annexes only the workbook needs (ImportError if unavailable)."""
    catalog = require_catalog()
    return _registers(catalog.url, _revision(catalog))


def reload_catalogue() -> None:
    """Forget cached engines and snapshots (after a schema upgrade or a change made outside ``ropa``)."""
    _record.clear()
    _registers.clear()
    _snapshot.clear()
    _open.clear()


def render_sidebar(user=None) -> None:
    """Which catalogue is open and who is looking (``dashboards.auth.User``); shown on every page."""
    if user is not None:
        from dashboards.auth import render_identity

        render_identity(user)
    with st.sidebar:
        st.caption("Catalogue")
        st.text(mask_url(database_url()))
        st.button("Reload catalogue", on_click=reload_catalogue, help="Re-read the database, e.g. after `ropa init`.")
