"""Serve the dashboard with Streamlit, reading the catalogue before the first visitor asks for it.

``streamlit run dashboards/app.py`` reads the catalogue when the first visitor opens a page, and
again for the first visitor after each change: seconds on a large catalogue. ``ropa dashboard``
starts Streamlit through this module instead, which also starts a thread that imports what the
pages use, reads the snapshot into Streamlit's shared cache while the server starts, and then
checks the catalogue's revision every few seconds, reading each new one before anybody asks.

    python -m dashboards.serve --port 8501 --address 127.0.0.1
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"

#: Seconds between two checks of the catalogue's revision.
REFRESH_SECONDS = 5.0

log = logging.getLogger(__name__)

KEEP_WARM_THREAD = "ropa-keep-warm"


class _OutsideSessions(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" warning for the keep-warm thread, which reads
    the shared cache outside any visitor's session on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != KEEP_WARM_THREAD


def warm_up() -> tuple:
    """Import what the pages use and read the latest revision's snapshot into the shared cache;
    the revision read."""
    import pandas  # noqa: F401  (imported here, not in the first visitor's render)
    import pydeck  # noqa: F401

    from dashboards import state

    return state.warm_up()


def keep_warm(interval: float = REFRESH_SECONDS) -> None:
    """Read the snapshot of each new revision as it appears (runs until the process ends).

    A failure is logged once and retried: the first visitor then reads the catalogue and sees the
    error on the page, as without a warm-up."""
    ready, failure = None, None
    while True:
        try:
            started = time.perf_counter()
            revision = warm_up()
            if revision != ready:
                print(f"Catalogue revision {revision} read ahead of visitors in {time.perf_counter() - started:.1f} s", flush=True)
                ready, failure = revision, None
        except Exception as error:  # noqa: BLE001  the page reports it to the visitor; the server must go on
            if repr(error) != failure:  # logged once, not every few seconds
                log.exception("reading the catalogue ahead of visitors failed")
                failure = repr(error)
        time.sleep(interval)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--address", default="127.0.0.1")
    args = parser.parse_args(argv)
    # What `streamlit run` does, in this process, so that the warm-up thread shares the server's caches.
    from streamlit.web import bootstrap

    flag_options = {
        "server.port": args.port, "server.address": args.address, "server.headless": True, "browser.gatherUsageStats": False,
    }
    bootstrap.load_config_options(flag_options=flag_options)
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_OutsideSessions())
    threading.Thread(target=keep_warm, name=KEEP_WARM_THREAD, daemon=True).start()
    bootstrap.run(str(APP), False, [], flag_options)


if __name__ == "__main__":
    main()
