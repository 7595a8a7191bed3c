"""Jurisdiction facts and transfer assessment: the data file is complete and dated, country
values normalise, and each kind of flow lands on the status the record relies on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pycountry
import pytest
import yaml

from catalog.jurisdictions import (
    AdequacyScope,
    Jurisdictions,
    JurisdictionsDataError,
    Regime,
    TransferStatus,
    UnknownCountryError,
    load_jurisdictions,
)

UK, EU = Regime.UK_GDPR, Regime.EU_GDPR
EU_MEMBERS = set(["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"])
PACKAGED = Path(__file__).resolve().parents[1] / "catalog" / "data" / "jurisdictions.yaml"


@pytest.fixture(scope="module")
def j() -> Jurisdictions:
    return load_jurisdictions()


def _raw() -> dict:
    return yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "jurisdictions.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- the data file ------------------------------------------------------------------------------


def test_file_header(j):
    assert j.schema_version == 1
    assert j.as_of == date(2026, 11, 25)
    assert j.sources and all(j.sources)


def test_default_load_is_cached(j):
    assert load_jurisdictions() is j


def test_eea_has_30_members(j):
    eea = j.territory(EU)
    assert len(eea) == 30
    assert eea == EU_MEMBERS | {"IS", "LI", "NO"}
    assert {"GR", "IS", "LI", "NO"} <= eea
    assert not {"GB", "CH", "EL"} & eea
    assert j.is_eea("no") and j.is_eea("GR") and not j.is_eea("GB") and not j.is_eea("CH")
    assert j.territory(UK) == {"GB"}


def test_every_adequacy_entry_is_dated_and_sourced():
    raw = _raw()
    for regime in ("eu_gdpr", "uk_gdpr"):
        for entry in raw["adequacy"][regime]:
            assert isinstance(entry["as_of"], date), entry
            assert entry["source"].strip(), entry
            assert entry["instrument"].strip(), entry
    for entry in raw["eea"]:
        assert isinstance(entry["as_of"], date) and entry["source"].strip(), entry


@pytest.mark.parametrize(
    "code, scope, instrument",
    [
        ("AD", "full", "Commission Decision 2010/625/EU"),
        ("AR", "full", "Commission Decision 2003/490/EC"),
        ("BR", "full", "Commission Implementing Decision (EU) 2026/179"),
        ("CA", "partial_sector", "Commission Decision 2002/2/EC"),
        ("FO", "full", "Commission Decision 2010/146/EU"),
        ("GG", "full", "Commission Decision 2003/821/EC"),
        ("IL", "full", "Commission Decision 2011/61/EU"),
        ("IM", "full", "Commission Decision 2004/411/EC"),
        ("JP", "partial_sector", "Commission Implementing Decision (EU) 2019/419"),
        ("JE", "full", "Commission Decision 2008/393/EC"),
        ("NZ", "full", "Commission Implementing Decision 2013/65/EU"),
        ("KR", "partial_sector", "Commission Implementing Decision (EU) 2022/254"),
        ("CH", "full", "Commission Decision 2000/518/EC"),
        ("GB", "full", "19 Dec 2025"),
        ("US", "certified_only", "Commission Implementing Decision (EU) 2023/1795"),
        ("UY", "full", "Commission Implementing Decision 2012/484/EU"),
        ("XEPO", "full", "Commission Implementing Decision (EU) 2025/1382"),
    ],
)
def test_eu_adequacy_decisions(j, code, scope, instrument):
    found = j.adequacy(EU, code)
    assert found is not None and found.scope == AdequacyScope(scope)
    assert instrument in found.instrument
    assert found.as_of and found.source


def test_eu_adequacy_has_nothing_else(j):
    listed = {"AD", "AR", "BR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "GB", "US", "UY", "XEPO"}
    assert {code for code in listed if j.adequacy(EU, code)} == listed
    assert j.adequacy(EU, "IN") is None and j.adequacy(EU, "CN") is None


def test_uk_adequacy_regulations(j):
    carried_over = {"GI", "CH", "CA", "AR", "GG", "IM", "JE", "AD", "IL", "UY", "NZ", "JP"} | j.territory(EU)
    for code in carried_over:
        assert "Schedule 21 paragraph 5" in j.adequacy(UK, code).instrument, code
    assert j.adequacy("uk_gdpr", "DE").instrument == "DPA 2018 Schedule 21 paragraph 5"
    assert j.adequacy(UK, "KR").instrument == "SI 2022/1213"
    us = j.adequacy(UK, "US")
    assert us.instrument == "SI 2023/1028" and us.scope is AdequacyScope.CERTIFIED_ONLY
    assert us.certification == "DPF-UK-Extension"
    assert j.adequacy(EU, "US").certification == "DPF"
    # The UK does not follow EU decisions; the Faroe Islands are unconfirmed for the UK (check).
    for code in ("BR", "XEPO", "FO", "GB"):
        assert j.adequacy(UK, code) is None, code


def test_regions(j):
    assert set(j.region("EU")) == EU_MEMBERS and len(j.region("eu")) == 27
    assert set(j.region("EEA")) == j.territory(EU)
    assert j.region("Worldwide") == [] and j.region("global") == []
    assert j.region("Atlantis") is None


# --- countries ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, code",
    [
        ("gb", "GB"), ("GBR", "GB"), ("United Kingdom", "GB"), ("UK", "GB"), ("  england ", "GB"),
        ("USA", "US"), ("U.S.", "US"), ("United States of America", "US"), ("united states", "US"),
        ("South Korea", "KR"), ("EL", "GR"), ("Holland", "NL"), ("Czech Republic", "CZ"),
        ("no", "NO"), ("XEPO", "XEPO"), ("European Patent Organisation", "XEPO"),
    ],
)
def test_normalise_country_accepts(j, value, code):
    assert j.normalise_country(value) == code


def test_normalise_country_accepts_what_pycountry_knows(j):
    try:
        expected = pycountry.countries.lookup("Deutschland").alpha_2
    except LookupError:
        pytest.skip("pycountry has no entry for 'Deutschland'")
    assert j.normalise_country("Deutschland") == expected


def test_misspelt_country_gets_a_suggestion(j):
    with pytest.raises(UnknownCountryError) as caught:
        j.normalise_country("Untied Kingdom")
    assert caught.value.value == "Untied Kingdom"
    assert caught.value.suggestion == "GB"
    assert str(caught.value) == "unknown country 'Untied Kingdom' (did you mean 'GB', United Kingdom?)"


@pytest.mark.parametrize("value", ["Narnia", "", "ZZ"])
def test_unknown_country_is_rejected_clearly(j, value):
    with pytest.raises(UnknownCountryError, match=f"unknown country '{value}'") as caught:
        j.normalise_country(value)
    assert caught.value.suggestion is None
    assert "ISO 3166" in str(caught.value)


def test_country_name(j):
    assert j.country_name("GB") == "United Kingdom"
    assert j.country_name("gr") == "Greece"
    assert j.country_name("XEPO") == "European Patent Organisation"


# --- transfers ----------------------------------------------------------------------------------


def test_uk_to_eea_is_adequate_under_schedule_21(j):
    result = j.assess(UK, "GB", "DE")
    assert result.status is TransferStatus.ADEQUACY
    assert "Schedule 21" in result.adequacy.instrument


def test_brazil_adequate_for_eu_only(j):
    assert j.assess(EU, "GB", "BR").status is TransferStatus.ADEQUACY
    uk = j.assess(UK, "GB", "BR")
    assert uk.status is TransferStatus.RESTRICTED and uk.adequacy is None
    assert "Article 46" in uk.note


@pytest.mark.parametrize("spelling", ["DPF-UK-Extension", "dpf uk extension", "UK Extension", "DPF_UK_EXTENSION"])
def test_uk_to_us_with_uk_extension(j, spelling):
    result = j.assess(UK, "GB", "US", {spelling})
    assert result.status is TransferStatus.ADEQUACY_CERTIFIED
    assert result.adequacy.instrument == "SI 2023/1028"


@pytest.mark.parametrize("certs", [frozenset(), {"DPF"}, {"ISO 27001"}])
def test_uk_to_us_without_uk_extension_is_restricted(j, certs):
    result = j.assess(UK, "GB", "US", certs)
    assert result.status is TransferStatus.RESTRICTED
    assert "DPF-UK-Extension" in result.note and "no DPF-UK-Extension certification" in result.note


def test_eu_to_us_depends_on_dpf(j):
    assert j.assess(EU, "IE", "US", {"dpf"}).status is TransferStatus.ADEQUACY_CERTIFIED
    assert j.assess(EU, "IE", "US", {"EU-U.S. Data Privacy Framework"}).status is TransferStatus.ADEQUACY_CERTIFIED
    # Joining the UK Extension requires DPF certification, so it satisfies the EU decision too.
    assert j.assess(EU, "IE", "US", {"DPF-UK-Extension"}).status is TransferStatus.ADEQUACY_CERTIFIED
    without = j.assess(EU, "IE", "US")
    assert without.status is TransferStatus.RESTRICTED
    assert "only DPF-certified importers" in without.note and "no DPF certification on record" in without.note
    assert without.adequacy is not None and without.is_restricted


def test_within_eea_and_domestic(j):
    assert j.assess(EU, "DE", "FR").status is TransferStatus.WITHIN_EEA
    assert j.assess(EU, "NO", "DE").status is TransferStatus.WITHIN_EEA
    assert j.assess(EU, "FR", "FR").status is TransferStatus.DOMESTIC
    assert j.assess(UK, "GB", "GB").status is TransferStatus.DOMESTIC
    assert j.assess(UK, "United Kingdom", "uk").status is TransferStatus.DOMESTIC


def test_import_into_the_territory_is_not_a_transfer_and_says_so(j):
    eu = j.assess(EU, "US", "DE")
    assert eu.status is TransferStatus.ENTERS_EEA and "enters the EEA" in eu.note
    uk = j.assess(UK, "IN", "GB")
    assert uk.status is TransferStatus.ENTERS_UK and uk.status.label == "Not a transfer (data enters the UK)"
    assert "Not a transfer under UK GDPR" in uk.note and uk.status is not TransferStatus.DOMESTIC


def test_only_data_leaving_the_territory_from_a_subject_exporter_is_restricted(j):
    # Held outside the territory by an exporter not subject to the regime: not the regime's transfer.
    outside = j.assess(EU, "GB", "IN", subject=False)
    assert outside.status is TransferStatus.OUTSIDE_EEA and not outside.is_restricted
    assert j.assess(UK, "US", "DE", subject=False).status is TransferStatus.OUTSIDE_UK
    # Held inside the territory: leaving it is restricted whoever the exporter is.
    assert j.assess(EU, "IE", "IN", subject=False).status is TransferStatus.RESTRICTED
    # An exporter established in the UK stays subject wherever it holds the data (ICO: sender subject to UK GDPR).
    abroad = j.assess(UK, "IE", "BR", subject=True)
    assert abroad.status is TransferStatus.RESTRICTED and "exporter is subject to UK GDPR" in abroad.note
    assert j.assess(UK, "US", "DE", subject=True).status is TransferStatus.ADEQUACY


@pytest.mark.parametrize("regime", [UK, EU])
def test_india_is_restricted_under_both(j, regime):
    result = j.assess(regime, "GB", "IN")
    assert result.status is TransferStatus.RESTRICTED and result.is_restricted
    assert "India" in result.note


@pytest.mark.parametrize("regime, destination, sector", [(EU, "CA", "PIPEDA"), (UK, "CA", "PIPEDA"), (EU, "JP", "APPI"), (UK, "JP", "APPI")])
def test_partial_sector_adequacy_states_the_condition(j, regime, destination, sector):
    result = j.assess(regime, "GB", destination)
    assert result.status is TransferStatus.ADEQUACY
    assert result.adequacy.scope is AdequacyScope.PARTIAL_SECTOR
    assert sector in result.note and "only" in result.note


def test_korea_under_uk(j):
    result = j.assess(UK, "GB", "KR")
    assert result.status is TransferStatus.ADEQUACY
    assert result.adequacy.instrument == "SI 2022/1213"
    assert "PIPA" in result.note


def test_enum_labels():
    assert Regime.UK_GDPR.label == "UK GDPR" and Regime.EU_GDPR.label == "EU GDPR"
    for status in TransferStatus:
        assert status.label and status.description


# --- malformed data -----------------------------------------------------------------------------


def test_packaged_file_loads_from_a_path(tmp_path):
    assert load_jurisdictions(_write(tmp_path, _raw())).adequacy(UK, "US").instrument == "SI 2023/1028"


def test_missing_source_names_the_entry(tmp_path):
    data = _raw()
    argentina = next(e for e in data["adequacy"]["eu_gdpr"] if e["code"] == "AR")
    del argentina["source"]
    path = _write(tmp_path, data)
    with pytest.raises(JurisdictionsDataError) as caught:
        load_jurisdictions(path)
    message = str(caught.value)
    assert str(path) in message
    assert "adequacy.eu_gdpr" in message and "AR Argentina" in message and "source" in message


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["adequacy"]["uk_gdpr"][1].update(scope="mostly"), "scope"),
        (lambda d: d["eea"][0].pop("as_of"), "AT Austria"),
        (lambda d: d["eea"][0].update(code="ZZ"), "'ZZ' is not an ISO 3166-1 alpha-2 code"),
        (lambda d: d["adequacy"]["eu_gdpr"][0].update(scope="certified_only"), "certification"),
        (lambda d: d["aliases"].update(Narnia="QQ"), "Narnia"),
        (lambda d: d["eea"][-1].update(code=False), "quote country codes"),
    ],
)
def test_bad_entries_are_rejected(tmp_path, mutate, expected):
    data = _raw()
    mutate(data)
    with pytest.raises(JurisdictionsDataError, match="jurisdictions.yaml") as caught:
        load_jurisdictions(_write(tmp_path, data))
    assert expected in str(caught.value)
