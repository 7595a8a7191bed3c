"""The collector pause around ingest runs and large derivations: restored as it was, nested pauses counted."""

from __future__ import annotations

import gc

import pytest

from catalog.collector import collector_paused


def test_pause_restores_an_enabled_collector_after_nested_pauses():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_pause_leaves_a_disabled_collector_disabled_and_resumes_after_an_error():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
