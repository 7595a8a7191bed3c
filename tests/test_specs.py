"""Input validation shared by manifests and the registration form."""

import pytest
from pydantic import ValidationError

from catalog.specs import CatalogSpec, FlowSpec, PartySpec, SystemSpec, check_references
from tests.factories import small_spec_data


def test_country_names_are_normalised():
    party = PartySpec.model_validate({"id": "x", "name": "X", "role": "processor", "country": "USA", "processing_countries": ["United Kingdom", "ie"]})
    assert party.country == "US" and party.processing_countries == ["GB", "IE"]


def test_unknown_keys_are_rejected():
    with pytest.raises(ValidationError, match="ownr_team"):
        SystemSpec.model_validate({"id": "crm", "name": "CRM", "ownr_team": "Sales"})


def test_bad_id_and_enum_values_are_rejected():
    with pytest.raises(ValidationError):
        SystemSpec.model_validate({"id": "CRM System", "name": "CRM"})
    with pytest.raises(ValidationError, match="controller"):
        SystemSpec.model_validate({"id": "crm", "name": "CRM", "role": "owner"})


def test_duplicate_field_names_are_rejected():
    with pytest.raises(ValidationError, match="duplicate field name 'email'"):
        SystemSpec.model_validate({"id": "crm", "name": "CRM", "datasets": [{"name": "t", "fields": [{"name": "email"}, {"name": "email"}]}]})


def test_flow_uses_yaml_aliases():
    flow = FlowSpec.model_validate({"id": "a-b", "from": "a", "to": "b", "categories": ["user.name"]})
    assert flow.from_system == "a" and flow.data_categories == ["user.name"]


def test_references_resolve_in_the_small_catalogue():
    assert check_references(CatalogSpec.model_validate(small_spec_data())) == []


def test_reference_problems_are_located_with_suggestions():
    data = small_spec_data()
    data["systems"][0]["hosted_in"] = ["londn"]
    data["activities"][1]["controller"] = None
    data["parties"].append(dict(data["parties"][0]))
    problems = check_references(CatalogSpec.model_validate(data))
    by_loc = {problem.loc: problem for problem in problems}
    assert by_loc[("systems", 0, "hosted_in", 0)].suggestion == "lon"
    assert "must name the client controller" in by_loc[("activities", 1, "controller")].message
    assert "duplicate party id 'cloudco'" in by_loc[("parties", 4, "id")].message


def test_system_and_party_ids_must_differ():
    data = small_spec_data()
    data["parties"][0]["id"] = "crm"
    messages = [p.message for p in check_references(CatalogSpec.model_validate(data))]
    assert any("used by a system and a party" in m for m in messages)
