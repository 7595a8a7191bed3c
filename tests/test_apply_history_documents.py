"""The history's documents after a run are built from the rows the writer holds, not read back:
they must equal what entry_documents reads from the database. Every scenario of test_apply and
test_precedence_and_history runs again here with each such document set checked."""

import pytest

import catalog.apply as apply_module
from catalog.apply import apply_spec
from catalog.snapshot import entry_documents
from catalog.specs import CatalogSpec
from catalog.synth import synth_spec
from tests.test_apply import *  # noqa: F403  the scenarios, run again under the check
from tests.test_precedence_and_history import *  # noqa: F403

CHECKED: list = []


@pytest.fixture(autouse=True)
def _documents_checked_against_the_database(monkeypatch):
    def checked(session, keys=None, *, nested=None):
        documents = entry_documents(session, keys, nested=nested)
        if nested is not None:
            assert documents == entry_documents(session, keys)
            CHECKED.append(len(documents))
        return documents

    monkeypatch.setattr(apply_module, "entry_documents", checked)


def test_documents_from_memory_are_used_and_match_after_adds_updates_and_retirements(catalog):
    CHECKED.clear()
    with catalog.session() as session:
        apply_spec(session, synth_spec(6, 12, seed=1), source="manifest")
    changed = synth_spec(6, 12, seed=1).model_dump(mode="json", by_alias=True)
    changed["systems"][0]["datasets"][0]["fields"] = changed["systems"][0]["datasets"][0]["fields"][1:]  # a field retired
    changed["systems"][1]["datasets"][0]["fields"][0]["categories"] = ["user.contact.email"]  # a field updated
    changed["systems"][1]["datasets"] = changed["systems"][1]["datasets"][:1]  # datasets retired
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(changed), source="manifest")
    with catalog.session() as session:
        partial = {"systems": [{"id": changed["systems"][2]["id"], "name": "Renamed", "datasets": [{"name": "extra", "fields": [{"name": "x"}]}]}]}
        apply_spec(session, CatalogSpec.model_validate(partial), source="database", complete=False)
    assert len(CHECKED) == 3 and all(CHECKED)
