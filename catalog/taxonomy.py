"""The standard vocabulary of data categories, data uses and data subjects.

fideslang's default taxonomy, plus the project's extension file, plus the project's mapping of
Article 9 / Article 10 categories (fideslang has no such flag). Keys are dotted paths; a key
covers its descendants (``user.contact`` covers ``user.contact.email``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

import yaml
from fideslang.default_taxonomy import DEFAULT_TAXONOMY


class TaxonomyKind(StrEnum):
    """The three vocabularies a key can belong to."""

    DATA_CATEGORY = "data_category"
    DATA_USE = "data_use"
    DATA_SUBJECT = "data_subject"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class TaxonomyEntry:
    """One key with its label, description and where it was defined."""

    key: str
    name: str
    description: str
    origin: str  # "fideslang" or "project"

    @property
    def parent(self) -> str | None:
        return self.key.rsplit(".", 1)[0] if "." in self.key else None


class UnknownTaxonomyKey(ValueError):
    """A key that is in neither fideslang's taxonomy nor the project extension."""

    def __init__(self, kind: TaxonomyKind, key: str, suggestion: str | None):
        self.kind, self.key, self.suggestion = kind, key, suggestion
        hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
        super().__init__(f"unknown {kind.label} '{key}'{hint}")


class Taxonomy:
    """Lookup, validation and hierarchy over the merged vocabularies."""

    def __init__(self, entries: dict[TaxonomyKind, dict[str, TaxonomyEntry]], article9: dict[str, str], article10: dict[str, str], children: list[str]):
        self._entries = entries
        self._article9 = article9
        self._article10 = article10
        self._children = tuple(children)
        self._article9_of: dict[str, str | None] = {}
        self._article10_of: dict[str, str | None] = {}

    def entries(self, kind: TaxonomyKind) -> dict[str, TaxonomyEntry]:
        """All keys of one vocabulary, in definition order."""
        return self._entries[kind]

    def get(self, kind: TaxonomyKind, key: str) -> TaxonomyEntry | None:
        return self._entries[kind].get(key)

    def label(self, kind: TaxonomyKind, key: str) -> str:
        """Human label for a key; the key itself when unknown (e.g. free text kept from an import)."""
        entry = self.get(kind, key)
        return entry.name if entry else key

    def check(self, kind: TaxonomyKind, key: str) -> str:
        """Return the key if it exists, else raise UnknownTaxonomyKey with the nearest valid key."""
        if key in self._entries[kind]:
            return key
        raise UnknownTaxonomyKey(kind, key, self.suggest(kind, key))

    def suggest(self, kind: TaxonomyKind, text: str) -> str | None:
        """The nearest key to a mistyped one, by whole key and by its last segment."""
        keys = list(self._entries[kind])
        match = difflib.get_close_matches(text, keys, n=1, cutoff=0.6)
        if match:
            return match[0]
        leaf = text.rsplit(".", 1)[-1].lower()
        by_leaf = {key.rsplit(".", 1)[-1]: key for key in keys}
        by_name = {entry.name.lower(): key for key, entry in self._entries[kind].items()}
        match = difflib.get_close_matches(leaf, list(by_leaf), n=1, cutoff=0.75)
        if match:
            return by_leaf[match[0]]
        match = difflib.get_close_matches(text.lower(), list(by_name), n=1, cutoff=0.75)
        return by_name[match[0]] if match else None

    def descendants(self, kind: TaxonomyKind, key: str) -> list[str]:
        """The key and every key below it."""
        prefix = key + "."
        return [k for k in self._entries[kind] if k == key or k.startswith(prefix)]

    @staticmethod
    def covers(ancestor: str, key: str) -> bool:
        """Whether ``ancestor`` is ``key`` or one of its parents."""
        return key == ancestor or key.startswith(ancestor + ".")

    @staticmethod
    def overlaps(first: str, second: str) -> bool:
        """Whether one key covers the other: data of ``user.contact.email`` travels in a flow
        declared as ``user.contact``, and a flow of ``user.contact.email`` carries part of ``user.contact``."""
        return Taxonomy.covers(first, second) or Taxonomy.covers(second, first)

    def _mapped(self, mapping: dict[str, str], key: str) -> str | None:
        best = None
        for mapped_key, meaning in mapping.items():
            if self.covers(mapped_key, key) and (best is None or len(mapped_key) > len(best[0])):
                best = (mapped_key, meaning)
        return best[1] if best else None

    def article9_category(self, key: str) -> str | None:
        """The Article 9(1) special category a data category falls in, if any (memoised: the
        record and the rules ask it for every field)."""
        if key not in self._article9_of:
            self._article9_of[key] = self._mapped(self._article9, key)
        return self._article9_of[key]

    def article10_category(self, key: str) -> str | None:
        """'criminal convictions and offences' for Article 10 data, else None (memoised)."""
        if key not in self._article10_of:
            self._article10_of[key] = self._mapped(self._article10, key)
        return self._article10_of[key]

    def is_childrens_data(self, key: str) -> bool:
        return any(self.covers(child, key) for child in self._children)


def _read_yaml(name: str) -> dict:
    text = resources.files("catalog").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def load_taxonomy() -> Taxonomy:
    """fideslang's default taxonomy merged with the project extension; cached for the process."""
    entries: dict[TaxonomyKind, dict[str, TaxonomyEntry]] = {}
    fides_lists = {
        TaxonomyKind.DATA_CATEGORY: DEFAULT_TAXONOMY.data_category,
        TaxonomyKind.DATA_USE: DEFAULT_TAXONOMY.data_use,
        TaxonomyKind.DATA_SUBJECT: DEFAULT_TAXONOMY.data_subject,
    }
    extension = _read_yaml("taxonomy_extension.yaml")
    for kind, items in fides_lists.items():
        table = {
            item.fides_key: TaxonomyEntry(item.fides_key, item.name or item.fides_key, item.description or "", "fideslang")
            for item in items
        }
        for item in extension.get(kind.value) or []:
            entry = TaxonomyEntry(item["key"], item["name"], item.get("description", ""), "project")
            if entry.parent and entry.parent not in table:
                raise ValueError(f"taxonomy_extension.yaml: parent of '{entry.key}' is not defined")
            table[entry.key] = entry
        entries[kind] = table
    special = _read_yaml("special_categories.yaml")
    return Taxonomy(entries, special["article9"], special["article10"], special.get("children", []))
