"""Countries, the EEA, adequacy decisions, and how a transfer stands under UK GDPR and EU GDPR.

The facts live in ``catalog/data/jurisdictions.yaml``, each entry dated and sourced, so that they
can be updated when a decision changes without touching code. This module validates that file
and answers the questions the record needs: which code is this country, is it in the EEA, is there
an adequacy decision for it, and is a flow from A to B a restricted transfer.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pycountry
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from catalog.vocab.base import DescribedEnum

PACKAGED_FILE = "catalog/data/jurisdictions.yaml"
_PRIVATE_CODE = re.compile(r"^X[A-Z]{3}$")  # project-private codes for bodies with no ISO code


class Regime(DescribedEnum):
    """The law a record is kept under; each has its own territory and adequacy list."""

    UK_GDPR = ("uk_gdpr", "UK GDPR", "UK GDPR and the Data Protection Act 2018; adequacy by UK regulations.")
    EU_GDPR = ("eu_gdpr", "EU GDPR", "Regulation (EU) 2016/679; adequacy by Commission decision.")


class AdequacyScope(DescribedEnum):
    """How much of a territory an adequacy decision covers, which decides whether it applies."""

    FULL = ("full", "Full", "The whole territory is adequate.")
    PARTIAL_SECTOR = ("partial_sector", "Sector only", "Adequate only for a sector or law (e.g. PIPEDA, APPI, PIPA).")
    CERTIFIED_ONLY = ("certified_only", "Certified importers only", "Adequate only for importers holding a certification (e.g. the DPF).")


class TransferStatus(DescribedEnum):
    """Where a flow stands under one regime; only RESTRICTED needs a transfer mechanism."""

    DOMESTIC = ("domestic", "Domestic", "Origin and destination in the same country (UK regime: both in the UK); not a transfer.")
    WITHIN_EEA = ("within_eea", "Within the EEA", "EU regime: both ends in the EEA; not a Chapter V transfer.")
    ENTERS_UK = ("enters_uk", "Not a transfer (data enters the UK)", "UK regime: the data moves into the UK from outside it; an import, not a restricted transfer.")
    ENTERS_EEA = ("enters_eea", "Not a transfer (data enters the EEA)", "EU regime: the data moves into the EEA from outside it; an import, not a Chapter V transfer.")
    OUTSIDE_UK = ("outside_uk", "Not a transfer (outside the UK)", "UK regime: the data is held outside the UK by an exporter not subject to UK GDPR for it, and goes to another place outside the UK.")
    OUTSIDE_EEA = ("outside_eea", "Not a transfer (outside the EEA)", "EU regime: the data is held outside the EEA by an exporter not subject to EU GDPR for it, and goes to another place outside the EEA.")
    ADEQUACY = ("adequacy", "Adequacy", "Destination covered by an adequacy decision or regulations, in full or for a sector; Article 45.")
    ADEQUACY_CERTIFIED = ("adequacy_certified", "Adequacy (certified importer)", "Adequacy for certified importers only, and the importer is certified; Article 45.")
    RESTRICTED = ("restricted", "Restricted transfer", "Needs an Article 46 transfer mechanism or an Article 49 derogation.")


class UnknownCountryError(ValueError):
    """A country value that matches no ISO code, name or alias; carries the nearest known code."""

    def __init__(self, value: str, suggestion: str | None = None, suggestion_name: str | None = None):
        self.value, self.suggestion = value, suggestion
        if suggestion:
            hint = f"did you mean '{suggestion}', {suggestion_name}?" if suggestion_name else f"did you mean '{suggestion}'?"
        else:
            hint = "expected an ISO 3166 alpha-2 or alpha-3 code or a country name"
        super().__init__(f"unknown country '{value}' ({hint})")


class JurisdictionsDataError(ValueError):
    """The jurisdictions file is malformed; the message names the file and each bad entry."""


@dataclass(frozen=True)
class Adequacy:
    """One adequacy decision (EU) or regulation (UK) as it applies to one destination code."""

    regime: Regime
    code: str
    territory: str
    scope: AdequacyScope
    instrument: str
    certification: str | None
    conditions: str | None
    as_of: date
    source: str
    note: str | None = None


@dataclass(frozen=True)
class TransferAssessment:
    """How a flow from origin to destination stands under one regime, with the reason in ``note``.

    ``adequacy`` is the decision that was found, also when it did not apply (certified_only and the
    importer lacks the certification); ``status`` is what decides.
    """

    regime: Regime
    origin: str
    destination: str
    status: TransferStatus
    adequacy: Adequacy | None
    note: str

    @property
    def is_restricted(self) -> bool:
        return self.status is TransferStatus.RESTRICTED


# --- file schema: validated on load so a bad edit fails loudly, naming the entry -----------------

Text = Annotated[str, Field(min_length=1)]


def _is_iso(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


def _iso_code(code: str) -> str:
    if not _is_iso(code):
        raise ValueError(f"'{code}' is not an ISO 3166-1 alpha-2 code")
    return code


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _EeaEntry(_Entry):
    code: Annotated[str, AfterValidator(_iso_code)]
    name: Text
    as_of: date
    source: Text


class _AdequacyEntry(_Entry):
    code: Text
    kind: Literal["country", "international_organisation"] = "country"
    territory: Text
    scope: AdequacyScope
    instrument: Text
    certification: Text | None = None
    conditions: Text | None = None
    as_of: date
    source: Text
    note: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> _AdequacyEntry:
        if self.kind == "international_organisation" and not _PRIVATE_CODE.match(self.code):
            raise ValueError(f"international organisation code '{self.code}' must look like XABC")
        if self.kind == "country" and self.code != "EEA" and not _is_iso(self.code):
            raise ValueError(f"'{self.code}' is not an ISO 3166-1 alpha-2 code")
        if (self.scope is AdequacyScope.CERTIFIED_ONLY) != bool(self.certification):
            raise ValueError("a certification is required with scope certified_only, and only then")
        if self.scope is AdequacyScope.PARTIAL_SECTOR and not self.conditions:
            raise ValueError("scope partial_sector needs conditions naming the sector")
        return self


class _Certification(_Entry):
    aliases: list[Text] = []
    implies: list[Text] = []


class _JurisdictionsFile(_Entry):
    schema_version: Literal[1]
    as_of: date
    sources: list[Text] = Field(min_length=1)
    eea: list[_EeaEntry] = Field(min_length=1)
    adequacy: dict[Regime, list[_AdequacyEntry]]
    certifications: dict[str, _Certification] = {}
    aliases: dict[str, Text] = {}
    regions: dict[str, list[Text]] = {}

    @model_validator(mode="after")
    def _cross_references(self) -> _JurisdictionsFile:
        eea = {entry.code for entry in self.eea}
        private = {e.code for entries in self.adequacy.values() for e in entries if e.kind != "country"}
        known = lambda code: _is_iso(code) or code in private  # noqa: E731
        for regime in Regime:
            codes = [e.code for e in self.adequacy.get(regime, [])]
            if "EEA" in codes and regime is Regime.EU_GDPR:
                raise ValueError("adequacy.eu_gdpr: code EEA is only meaningful under uk_gdpr")
            expanded = [c for code in codes for c in (sorted(eea) if code == "EEA" else [code])]
            if duplicates := sorted({c for c in expanded if expanded.count(c) > 1}):
                raise ValueError(f"adequacy.{regime.value}: more than one entry for {', '.join(duplicates)}")
        for regime, entries in self.adequacy.items():
            for entry in entries:
                if entry.certification and entry.certification not in self.certifications:
                    raise ValueError(f"adequacy.{regime.value} {entry.code}: certification '{entry.certification}' is not under certifications")
        for name, cert in self.certifications.items():
            if missing := [c for c in cert.implies if c not in self.certifications]:
                raise ValueError(f"certifications.{name}: implies unknown {', '.join(missing)}")
        if bad := [f"{k}: {v}" for k, v in self.aliases.items() if not known(v)]:
            raise ValueError(f"aliases: unknown codes ({'; '.join(bad)})")
        for word, codes in self.regions.items():
            if bad := [c for c in codes if not known(c)]:
                raise ValueError(f"regions.{word}: unknown codes {', '.join(bad)}")
        if "EEA" in self.regions and set(self.regions["EEA"]) != eea:
            raise ValueError("regions.EEA differs from the eea list")
        return self


def _where(raw: Any, loc: tuple) -> str:
    """'adequacy.eu_gdpr[3] (AR Argentina).source' from a pydantic error location and the raw data."""
    text, node = "", raw
    for key in loc:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(node, dict) and "code" in node:
            text += f" ({node.get('code')} {node.get('territory') or node.get('name') or ''}".rstrip() + ")"
    return text or "file"


def _message(error: dict) -> str:
    hint = " (quote country codes: YAML reads a bare NO as false)" if isinstance(error.get("input"), bool) else ""
    return error["msg"].removeprefix("Value error, ") + hint


def _parse(text: str, origin: str) -> Jurisdictions:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise JurisdictionsDataError(f"{origin}: not valid YAML: {exc}") from exc
    try:
        return Jurisdictions(_JurisdictionsFile.model_validate(raw))
    except ValidationError as exc:
        problems = "\n".join(f"  {_where(raw, err['loc'])}: {_message(err)}" for err in exc.errors())
        raise JurisdictionsDataError(f"{origin}: invalid jurisdiction data:\n{problems}") from exc


def _certification_key(text: str) -> str:
    """Case and punctuation do not matter: 'DPF-UK-Extension' == 'dpf uk extension'."""
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _lookup_key(text: str) -> str:
    return " ".join(str(text).split()).casefold()


class Jurisdictions:
    """The validated jurisdiction facts with country lookup and transfer assessment; read-only."""

    def __init__(self, data: _JurisdictionsFile):
        self._as_of, self._schema_version, self._sources = data.as_of, data.schema_version, tuple(data.sources)
        self._eea = frozenset(entry.code for entry in data.eea)
        self._names = {entry.code: entry.name for entry in data.eea}
        self._assessed: dict[tuple, TransferAssessment] = {}
        self._adequacy: dict[Regime, dict[str, Adequacy]] = {regime: {} for regime in Regime}
        for regime, entries in data.adequacy.items():
            for entry in entries:
                if entry.kind != "country":
                    self._names[entry.code] = entry.territory
                for code in sorted(self._eea) if entry.code == "EEA" else [entry.code]:
                    territory = self.country_name(code) if entry.code == "EEA" else entry.territory
                    fields = entry.model_dump(exclude={"code", "kind", "territory"})
                    self._adequacy[regime][code] = Adequacy(regime=regime, code=code, territory=territory, **fields)
        self._index: dict[str, str] = {}  # casefolded code / name / alias -> code
        for country in pycountry.countries:
            for attr in ("alpha_2", "alpha_3", "numeric", "name", "official_name", "common_name"):
                if value := getattr(country, attr, None):
                    self._index.setdefault(_lookup_key(value), country.alpha_2)
        for code, name in self._names.items():
            self._index.setdefault(_lookup_key(code), code)
            self._index.setdefault(_lookup_key(name), code)
        for alias, code in data.aliases.items():
            self._index[_lookup_key(alias)] = code
        self._suggestible = [key for key in self._index if len(key) > 3 and not key.isdigit()]
        self._regions = {_lookup_key(word): tuple(codes) for word, codes in data.regions.items()}
        self._certifications: dict[str, str] = {}  # spelling key -> canonical name
        self._implied: dict[str, frozenset[str]] = {}  # canonical -> itself and what it implies
        for name, cert in data.certifications.items():
            for spelling in [name, *cert.aliases]:
                self._certifications[_certification_key(spelling)] = name
            self._implied[name] = frozenset([name, *cert.implies])

    @property
    def as_of(self) -> date:
        """The day the file as a whole was last checked."""
        return self._as_of

    @property
    def schema_version(self) -> int:
        return self._schema_version

    @property
    def sources(self) -> list[str]:
        """Short citations for the file as a whole (each entry has its own source too)."""
        return list(self._sources)

    def normalise_country(self, value: str) -> str:
        """The alpha-2 code (or project-private code) for a code, name or alias, in any case.

        Manifests and imports spell countries in many ways; the catalogue stores one code so that
        transfer checks compare like with like. Raises UnknownCountryError with the nearest match.
        """
        key = _lookup_key(value)
        if code := self._index.get(key):
            return code
        match = difflib.get_close_matches(key, self._suggestible, n=1, cutoff=0.8)
        suggestion = self._index[match[0]] if match else None
        raise UnknownCountryError(str(value).strip(), suggestion, self.country_name(suggestion) if suggestion else None)

    def country_name(self, code: str) -> str:
        """Display name for a code; the value itself when unknown, so display never fails on bad input."""
        code = str(code).strip().upper()
        if code not in self._names:  # remembered: transfer assessment asks for every transfer
            country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
            self._names[code] = (getattr(country, "common_name", None) or country.name) if country else code
        return self._names[code]

    def is_eea(self, code: str) -> bool:
        """Whether a code is an EEA state (EU 27 plus Iceland, Liechtenstein, Norway)."""
        return str(code).strip().upper() in self._eea

    def territory(self, regime: Regime) -> frozenset[str]:
        """Where a regime's data may move freely: the UK for UK GDPR, the EEA for EU GDPR."""
        return frozenset({"GB"}) if Regime(regime) is Regime.UK_GDPR else self._eea

    def adequacy(self, regime: Regime, code: str) -> Adequacy | None:
        """The adequacy decision or regulation covering a destination under a regime, if any."""
        return self._adequacy[Regime(regime)].get(str(code).strip().upper())

    def region(self, word: str) -> list[str] | None:
        """Codes for a region word ('EU', 'EEA'); [] for 'Worldwide'/'Global' (unspecified); None if unknown."""
        codes = self._regions.get(_lookup_key(word))
        return None if codes is None else list(codes)

    def holds_certification(self, required: str, held: frozenset[str] | set[str]) -> bool:
        """Whether any held certification, in any accepted spelling, is or implies the required one.

        Accepted spellings are the names and aliases under ``certifications:`` in the data file
        (e.g. 'DPF-UK-Extension', 'DPF UK Extension', 'UK Extension'); case and punctuation are ignored.
        """
        canonical = lambda text: self._certifications.get(_certification_key(text), text)  # noqa: E731
        wanted = _certification_key(canonical(required))
        covered = {c for text in held for c in self._implied.get(canonical(text), {canonical(text)})}
        return wanted in {_certification_key(c) for c in covered}

    def assess(
        self, regime: Regime, origin: str, destination: str, importer_certifications: frozenset[str] | set[str] = frozenset(),
        *, subject: bool = True,
    ) -> TransferAssessment:
        """How a move of data from origin to destination stands under a regime, with the reason.

        Only data leaving the regime's territory (the UK; the EEA) from an exporter subject to the
        regime is a restricted transfer. Data held inside the territory always is; ``subject`` says
        whether the exporter is subject even when it holds the data outside (established in the
        territory, or passing on data that left it: Article 44 covers onward transfers). Same country:
        DOMESTIC; both ends inside: not a transfer; into the territory from outside: ENTERS_*;
        outside and not subject: OUTSIDE_*. Otherwise adequacy decides, and RESTRICTED when none applies.
        """
        key = (Regime(regime), origin, destination, frozenset(importer_certifications), subject)
        if key not in self._assessed:  # tens of thousands of transfers, few distinct questions
            self._assessed[key] = self._assess(*key)
        return self._assessed[key]

    def _assess(self, regime: Regime, origin: str, destination: str, importer_certifications: frozenset[str], subject: bool) -> TransferAssessment:
        origin, destination = self.normalise_country(origin), self.normalise_country(destination)
        from_name, to_name, territory = self.country_name(origin), self.country_name(destination), self.territory(regime)
        uk = regime is Regime.UK_GDPR
        place = "the UK" if uk else "the EEA"

        def result(status: TransferStatus, note: str, adequacy: Adequacy | None = None) -> TransferAssessment:
            return TransferAssessment(regime, origin, destination, status, adequacy, note)

        if origin == destination:
            return result(TransferStatus.DOMESTIC, f"Origin and destination are both {to_name}: not an international transfer.")
        if destination in territory and origin in territory:
            return result(TransferStatus.WITHIN_EEA, f"{from_name} and {to_name} are both in the EEA: not a restricted transfer.")
        if destination in territory:
            return result(
                TransferStatus.ENTERS_UK if uk else TransferStatus.ENTERS_EEA,
                f"Not a transfer under {regime.label}: the data enters {place} ({to_name}) from {from_name}.",
            )
        if origin not in territory and not subject:
            return result(
                TransferStatus.OUTSIDE_UK if uk else TransferStatus.OUTSIDE_EEA,
                f"Not a transfer under {regime.label}: the data is held outside {place} ({from_name}) by an exporter not subject to "
                f"{regime.label} for it, and goes to {to_name}; the transfer that took it out of {place}, if any, covers onward moves.",
            )
        leaves = f"the data leaves {place} for {to_name}" if origin in territory else (
            f"the exporter is subject to {regime.label} (established in {place}, or passing on data that left it), so the move from {from_name} to {to_name} counts")
        fallback = "needs an Article 46 transfer mechanism or an Article 49 derogation"
        adequacy = self.adequacy(regime, destination)
        if adequacy is None:
            return result(TransferStatus.RESTRICTED, f"No {regime.label} adequacy for {to_name} and {leaves}: {fallback}.")
        cited = f"{adequacy.territory} adequacy ({adequacy.instrument})"
        if adequacy.scope is AdequacyScope.FULL:
            return result(TransferStatus.ADEQUACY, f"{adequacy.territory} is adequate under {regime.label} ({adequacy.instrument}).", adequacy)
        if adequacy.scope is AdequacyScope.PARTIAL_SECTOR:
            return result(TransferStatus.ADEQUACY, f"{cited} covers only {adequacy.conditions}; confirm the importer is within it, else it {fallback}.", adequacy)
        needed = adequacy.certification or ""
        if self.holds_certification(needed, importer_certifications):
            return result(TransferStatus.ADEQUACY_CERTIFIED, f"{cited} covers only {needed}-certified importers; the importer holds {needed}.", adequacy)
        return result(TransferStatus.RESTRICTED, f"{adequacy.territory} adequacy covers only {needed}-certified importers; importer has no {needed} certification on record: {fallback}.", adequacy)


def load_jurisdictions(path: Path | None = None) -> Jurisdictions:
    """The jurisdiction facts: the packaged file by default (cached), or a given file (for tests, overrides).

    Raises JurisdictionsDataError naming the file and each bad entry when the data is malformed.
    """
    if path is None:
        return _load_packaged()
    path = Path(path)
    return _parse(path.read_text(encoding="utf-8"), str(path))


@cache
def _load_packaged() -> Jurisdictions:
    text = resources.files("catalog").joinpath("data").joinpath("jurisdictions.yaml").read_text(encoding="utf-8")
    return _parse(text, PACKAGED_FILE)
