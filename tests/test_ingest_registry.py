"""The source registry: what can be ingested, with which options, and why a source cannot load."""

from __future__ import annotations

import textwrap

import pytest
import yaml
from pydantic import Field

from ingest.base import Source, SourceConfig
from ingest.errors import IngestError
from ingest.registry import SOURCE_MODULES, AvailableSource, InvalidOptions, SourceUnavailable, get_source, list_sources, run_source
from tests.factories import small_spec_data


@pytest.fixture
def fake_modules(tmp_path, monkeypatch) -> dict[str, str]:
    """The real registry plus a source that loads and one whose driver import fails."""
    (tmp_path / "ropa_fake_ok_source.py").write_text(textwrap.dedent("""
        from pydantic import Field
        from ingest.base import Source, SourceConfig

        class FakeSource(Source):
            name = "fake-ok"
            description = "A source that loads."

            class Config(SourceConfig):
                url: str = Field(description="Where to read from.")
                limit: int = Field(default=10, description="How many entries at most.")

            def run(self, catalog, config, actor=""):
                raise NotImplementedError
    """))
    (tmp_path / "ropa_fake_driver_source.py").write_text("import ropa_driver_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return {
        **SOURCE_MODULES,
        "fake-ok": "ropa_fake_ok_source:FakeSource",
        "fake-driver": "ropa_fake_driver_source:FakeSource",
    }


def test_manifest_is_listed_with_its_options():
    listed = {source.name: source for source in list_sources()}
    manifest = listed["manifest"]
    assert isinstance(manifest, AvailableSource) and manifest.description
    path, max_bytes, allow_empty = manifest.options
    assert (path.name, path.type, path.required, path.default) == ("path", "Path", True, None)
    assert "directory" in path.description
    assert (max_bytes.name, max_bytes.required) == ("max_bytes", False)
    assert (allow_empty.name, allow_empty.type, allow_empty.default) == ("allow_empty", "bool", False)


def test_every_source_takes_allow_empty_listed_after_its_own_options():
    for source in list_sources():
        if isinstance(source, AvailableSource):
            assert source.options[-1].name == "allow_empty" and "retire" in source.options[-1].description, source.name


def test_a_source_whose_import_fails_is_listed_as_unavailable_with_the_reason(fake_modules):
    listed = {source.name: source for source in list_sources(fake_modules)}
    unavailable = listed["fake-driver"]
    assert isinstance(unavailable, SourceUnavailable)
    assert "ropa_driver_that_is_not_installed" in unavailable.reason
    assert isinstance(listed["manifest"], AvailableSource)  # one broken source breaks no other
    ok = listed["fake-ok"]
    assert [(o.name, o.type, o.required, o.default) for o in ok.options] == [
        ("url", "str", True, None), ("limit", "int", False, 10), ("allow_empty", "bool", False, False),
    ]

    with pytest.raises(IngestError) as raised:
        get_source("fake-driver", fake_modules)
    assert "unavailable" in str(raised.value) and "ropa_driver_that_is_not_installed" in str(raised.value)


def test_an_unknown_source_name_suggests_the_nearest():
    with pytest.raises(IngestError) as raised:
        get_source("manifset")
    assert raised.value.errors[0].suggestion == "manifest"


def test_options_are_validated_against_the_config(catalog, tmp_path):
    with pytest.raises(InvalidOptions) as raised:  # an IngestError the CLI tells apart as a usage error
        run_source("manifest", catalog, {"paht": str(tmp_path)})
    assert [(e.field_path, e.suggestion) for e in raised.value.errors] == [("path", None), ("paht", "path")]
    assert raised.value.errors[0].message == "missing required key 'path'"


def test_run_source_runs_the_manifest_source(catalog, tmp_path):
    path = tmp_path / "catalog.yml"
    path.write_text(yaml.safe_dump(small_spec_data()))
    report = run_source("manifest", catalog, {"path": str(path)}, actor="ci")
    assert report.source == "manifest" and report.added == report.read > 0


def test_every_option_must_be_described():
    with pytest.raises(TypeError, match="limit"):
        class Undocumented(Source):  # noqa: F841
            name = "undocumented"
            description = "Options without descriptions."

            class Config(SourceConfig):
                limit: int = Field(default=1)

            def run(self, catalog, config, actor=""):
                raise NotImplementedError
