"""The ROPA dashboard: ``streamlit run dashboards/app.py`` (or ``ropa dashboard``).

The catalogue comes from ``$ROPA_DATABASE_URL`` (else ./ropa.db). Pages live in
``dashboards/views/`` and are registered here with ``st.navigation``; the sidebar on every page
says which catalogue is open.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import catalog  # noqa: F401  (installed with `pip install -e .`)
except ImportError:  # run from a checkout that is not installed: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from dashboards.state import render_sidebar, require_catalog

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="ROPA catalogue", layout="wide")

pages = [
    st.Page(VIEWS / "overview.py", title="Overview", url_path="overview", default=True),
    st.Page(VIEWS / "flow_map.py", title="Data-flow map", url_path="flow-map"),
    st.Page(VIEWS / "transfers.py", title="Transfers", url_path="transfers"),
    st.Page(VIEWS / "activities.py", title="Processing activities", url_path="activities"),
]
page = st.navigation(pages)
render_sidebar()
require_catalog()
page.run()
