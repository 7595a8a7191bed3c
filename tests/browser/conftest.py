"""Browser suite: the dashboard served by ``streamlit run`` on 127.0.0.1, driven by Playwright in
Debian's Chromium (``/usr/bin/chromium``; Playwright's own browser download is never used).

One server per session, against a SQLite catalogue in a temporary directory loaded with the demo
organisation (``ropa.demo``). Every request the page makes to anything but the server is blocked
and recorded, so a test can prove a page works offline. Screenshots go to
``test-artifacts/screenshots/``. Skipped, with the reason, when Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ROPA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
STARTUP_TIMEOUT = 60




def missing_browser() -> str | None:
    """Why the suite cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright; never `playwright install`)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> str:
    """A SQLite catalogue holding the demo organisation (Kanj Technologies)."""
    from catalog.store import init_catalog
    from ingest.manifest import ingest_manifests
    from ropa.demo import demo_manifest_dir

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    catalog = init_catalog(url)
    try:
        ingest_manifests(catalog, demo_manifest_dir(), actor="browser-tests")
    finally:
        catalog.dispose()
    return url


@pytest.fixture(scope="session")
def server(demo_database, tmp_path_factory):
    """The dashboard as ``ropa dashboard`` serves it (``dashboards.serve``: Streamlit plus the
    catalogue read ahead of visitors) on a free port; its base URL. Stopped at the end."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ROPA_DATABASE_URL": demo_database,
        "ROPA_LOCAL_ROLE": "dpo",
        "ROPA_LOCAL_EMAIL": "dpo@kanj.example",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
        "STREAMLIT_GLOBAL_DEVELOPMENT_MODE": "false",
    }
    env.pop("ROPA_TRUSTED_USER_HEADER", None)
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "dashboards.serve", "--address", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(base):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start (exit {process.poll()}):\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def outside_requests() -> list[str]:
    """URLs the page tried to fetch from anywhere but the dashboard server (all blocked)."""
    return []


@pytest.fixture
def page(browser, server, outside_requests):
    """A fresh page on its own context; requests off 127.0.0.1 are blocked and recorded."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(30_000)

    def guard(route):
        url = route.request.url
        if url.startswith((server, "data:", "blob:")):
            route.continue_()
        else:
            outside_requests.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ignore = SCREENSHOTS.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# written by tests/browser: test output, never committed\n*\n", encoding="utf-8")
    return SCREENSHOTS
