"""The ROPA dashboard: ``streamlit run dashboards/app.py`` (or ``ropa dashboard``).

The catalogue comes from ``$ROPA_DATABASE_URL`` (else ./ropa.db). Pages live in
``dashboards/views/`` and are registered here with ``st.navigation``; the sidebar on every page
says which catalogue is open, who is signed in, their role and how that identity was established
(``dashboards.auth``). Pages a role cannot use are not listed, and each page and every write
checks the permission again itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import catalog  # noqa: F401  (installed with `pip install -e .`)
except ImportError:  # run from a checkout that is not installed: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from dashboards.auth import Permission, current_user
from dashboards.state import render_sidebar, require_catalog

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="ROPA catalogue", layout="wide")

user = current_user()  # stops with a log-in button or an error when nobody can be identified

pages = [
    st.Page(VIEWS / "overview.py", title="Overview", default=True),  # the default page is served at / (Streamlit ignores its url_path)
    st.Page(VIEWS / "flow_map.py", title="Data-flow map", url_path="flow-map"),
    st.Page(VIEWS / "transfers.py", title="Transfers", url_path="transfers"),
    st.Page(VIEWS / "activities.py", title="Processing activities", url_path="activities"),
    st.Page(VIEWS / "lineage.py", title="Lineage explorer", url_path="lineage"),
    st.Page(VIEWS / "findings.py", title="Findings", url_path="findings"),
]
if user.can(Permission.REGISTER_SYSTEM):
    pages.append(st.Page(VIEWS / "register.py", title="Register a system", url_path="register"))
pages += [
    st.Page(VIEWS / "review.py", title="Review suggestions and conflicts", url_path="review"),
    st.Page(VIEWS / "history.py", title="Change history", url_path="history"),
]
page = st.navigation(pages)
render_sidebar(user)
require_catalog()
page.run()
