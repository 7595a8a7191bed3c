"""Each rule fires on a minimal catalogue and stays silent on a compliant one; suppressions; SARIF."""

from datetime import date

import pytest
from sqlmodel import select

from catalog.apply import apply_spec
from catalog.models import DataField, Dataset, FieldLineage
from catalog.rules import (
    RULES,
    CatalogFacts,
    Severity,
    SuppressionFileError,
    apply_suppressions,
    findings_to_sarif,
    load_suppressions,
    run_rules,
)
from catalog.specs import CatalogSpec
from tests.factories import small_spec_data


def compliant_data() -> dict:
    """tests.factories.small_spec_data() with every gap closed."""
    data = small_spec_data()
    parties = {party["id"]: party for party in data["parties"]}
    parties["helpdesk-in"].update(contract_ref="SUB-2024-01", transfer_mechanism="uk_addendum", transfer_assessment_ref="TIA-2024-03")
    parties["metrics"].update(transfer_mechanism="uk_addendum", transfer_assessment_ref="TIA-2024-04")
    for system in data["systems"]:
        system.setdefault("owner_team", "Platform")
    _activity(data)["data_categories"].append("user.financial.bank_account")  # the CRM's bank details, accounted for
    return data


def _party(data, party_id):
    return next(p for p in data["parties"] if p["id"] == party_id)


def _activity(data, activity_id="client-management"):
    return next(a for a in data["activities"] if a["id"] == activity_id)


def _crm_fields(data):
    return data["systems"][0]["datasets"][0]["fields"]


def _findings(catalog, data, source_refs=None, lineage=()):
    with catalog.session() as session:
        apply_spec(session, CatalogSpec.model_validate(data), source="manifest", target="tests", source_refs=source_refs)
        if lineage:
            paths = {f"{d.system_id}.{d.name}.{f.name}": f.id for f, d in session.exec(select(DataField, Dataset).where(DataField.dataset_id == Dataset.id)).all()}
            for source, target, transformation in lineage:
                session.add(FieldLineage(source_field_id=paths[source], target_field_id=paths[target], transformation=transformation))
    with catalog.session() as session:
        return run_rules(session)


def _hits(findings, rule_id):
    return [(f.item_kind, f.item_id) for f in findings if f.rule_id == rule_id]


def test_compliant_catalogue_has_no_findings(catalog):
    assert _findings(catalog, compliant_data()) == []


def test_small_spec_gaps_are_found(catalog):
    findings = _findings(catalog, small_spec_data())
    assert _hits(findings, "ROPA-A28-001") == [("party", "helpdesk-in")]
    assert ("transfer", "crm-helpdesk") in _hits(findings, "ROPA-A46-001")
    assert ("transfer", "crm-cloudco>helpdesk-in") in _hits(findings, "ROPA-A46-002")
    assert _hits(findings, "ROPA-A46-004") == [("transfer", "crm-metrics")]  # IDTA on record, no TRA
    assert findings == sorted(findings, key=lambda f: f.sort_key)
    assert findings[0].severity >= findings[-1].severity


def test_activity_without_lawful_basis(catalog):
    data = compliant_data()
    del _activity(data)["lawful_basis"]
    findings = _findings(catalog, data)
    assert _hits(findings, "ROPA-A6-001") == [("activity", "client-management")]
    finding = next(f for f in findings if f.rule_id == "ROPA-A6-001")
    assert finding.severity == Severity.HIGH and finding.article == "Art 6(1)" and "client-management" in finding.message


def test_special_category_without_condition_and_with_one(catalog):
    data = compliant_data()
    _crm_fields(data).append({"name": "allergies", "categories": ["user.health_and_medical"]})
    _activity(data)["data_categories"].append("user.health_and_medical")
    findings = _findings(catalog, data)
    assert _hits(findings, "ROPA-A9-001") == [("activity", "client-management")]
    assert "user.health_and_medical" in next(f.message for f in findings if f.rule_id == "ROPA-A9-001")


def test_special_category_data_no_activity_declares_is_high_under_a30_001(catalog):
    """What the record does not state for an activity is not that activity's Art 9 finding: the
    system's unaccounted data is, and at HIGH, since no Art 9 condition covers it anywhere."""
    data = compliant_data()
    _crm_fields(data).append({"name": "allergies", "categories": ["user.health_and_medical"]})
    findings = _findings(catalog, data)
    assert _hits(findings, "ROPA-A9-001") == []
    [finding] = [f for f in findings if f.rule_id == "ROPA-A30-001"]
    assert (finding.item_kind, finding.item_id, finding.severity) == ("system", "crm", Severity.HIGH)


def test_article9_condition_present_is_silent(catalog):
    data = compliant_data()
    _crm_fields(data).append({"name": "allergies", "categories": ["user.health_and_medical"]})
    _activity(data)["data_categories"].append("user.health_and_medical")
    _activity(data)["article9_condition"] = "explicit_consent"
    assert _hits(_findings(catalog, data), "ROPA-A9-001") == []


def test_uk_condition_needs_schedule1(catalog):
    data = compliant_data()
    _activity(data)["article9_condition"] = "health_social_care"
    assert _hits(_findings(catalog, data), "ROPA-A9-002") == [("activity", "client-management")]


def test_schedule1_condition_given_or_eu_only_is_silent(catalog):
    data = compliant_data()
    _activity(data)["article9_condition"] = "health_social_care"
    _activity(data)["schedule1_condition"] = "Sch 1 Part 1 para 2 health or social care"
    assert _hits(_findings(catalog, data), "ROPA-A9-002") == []


def test_schedule1_not_needed_under_eu_gdpr_only(catalog):
    data = compliant_data()
    data["organisation"]["regimes"] = ["eu_gdpr"]
    _activity(data)["article9_condition"] = "employment_social_security"
    assert _hits(_findings(catalog, data), "ROPA-A9-002") == []


def test_criminal_offence_data_without_authority(catalog):
    data = compliant_data()
    _crm_fields(data).append({"name": "convictions", "categories": ["user.criminal_history"]})
    _activity(data)["data_categories"].append("user.criminal_history")
    assert _hits(_findings(catalog, data), "ROPA-A10-001") == [("activity", "client-management")]


def test_criminal_offence_data_with_authority_is_silent(catalog):
    data = compliant_data()
    _crm_fields(data).append({"name": "convictions", "categories": ["user.criminal_history"]})
    _activity(data)["data_categories"].append("user.criminal_history")
    _activity(data)["article10_authority"] = "DPA 2018 Sch 1 para 33 legal claims"
    assert _hits(_findings(catalog, data), "ROPA-A10-001") == []


def test_transfer_without_mechanism_per_regime_and_critical_for_special_data(catalog):
    data = compliant_data()
    data["organisation"]["regimes"] = ["uk_gdpr"]
    for key in ("transfer_mechanism", "transfer_assessment_ref"):
        del _party(data, "helpdesk-in")[key]
    _crm_fields(data).append({"name": "diagnosis", "categories": ["user.health_and_medical"]})
    _activity(data)["article9_condition"] = "explicit_consent"
    data["flows"][3]["categories"] = ["user.health_and_medical"]
    findings = _findings(catalog, data)
    # Cloudco's sub-processor is reached twice: with what the CRM sends Cloudco, and from the backup Cloudco hosts in Dublin
    assert sorted(_hits(findings, "ROPA-A46-001")) == [
        ("transfer", "crm-backup>helpdesk-in"), ("transfer", "crm-cloudco>helpdesk-in"), ("transfer", "crm-helpdesk"),
    ]
    assert _hits(findings, "ROPA-A46-002") == []  # the organisation keeps no EU GDPR record
    severities = {f.item_id: f.severity for f in findings if f.rule_id == "ROPA-A46-001"}
    # the onward transfer carries what reached Cloudco (email), the direct one health data
    assert severities == {"crm-helpdesk": Severity.CRITICAL, "crm-cloudco>helpdesk-in": Severity.HIGH, "crm-backup>helpdesk-in": Severity.HIGH}


def test_transfer_with_mechanism_but_no_assessment(catalog):
    data = compliant_data()
    del _party(data, "metrics")["transfer_assessment_ref"]
    findings = _findings(catalog, data)
    assert _hits(findings, "ROPA-A46-003") == [("transfer", "crm-metrics")]
    assert _hits(findings, "ROPA-A46-004") == [("transfer", "crm-metrics")]
    assert "TIA" in next(f.message for f in findings if f.rule_id == "ROPA-A46-003")


def test_derogation_needs_no_assessment(catalog):
    data = compliant_data()
    _party(data, "metrics").update(transfer_mechanism="derogation_explicit_consent")
    del _party(data, "metrics")["transfer_assessment_ref"]
    findings = _findings(catalog, data)
    assert _hits(findings, "ROPA-A46-003") == _hits(findings, "ROPA-A46-004") == []


def test_scc_module_must_match_roles(catalog):
    data = compliant_data()
    _party(data, "metrics")["transfer_mechanism"] = "eu_scc_module_1"
    findings = _findings(catalog, data)
    assert _hits(findings, "ROPA-A46-005") == [("transfer", "crm-metrics")]
    assert "EU SCCs Module 2" in next(f.message for f in findings if f.rule_id == "ROPA-A46-005")


def test_processor_without_contract(catalog):
    data = compliant_data()
    del _party(data, "cloudco")["contract_ref"]
    assert _hits(_findings(catalog, data), "ROPA-A28-001") == [("party", "cloudco")]


def test_activity_without_retention(catalog):
    data = compliant_data()
    del _activity(data)["retention"]
    assert _hits(_findings(catalog, data), "ROPA-A5-001") == [("activity", "client-management")]


def test_system_without_owner(catalog):
    data = compliant_data()
    data["systems"][0].update(owner_team="", owner_email="")
    assert _hits(_findings(catalog, data), "ROPA-A5-002") == [("system", "crm")]


def test_system_holding_personal_data_without_a_location(catalog):
    data = compliant_data()
    data["systems"][0]["hosted_in"] = []
    data["systems"].append({"id": "scratch", "name": "Scratch", "owner_team": "IT"})  # no personal data: no finding
    findings = _findings(catalog, data)
    assert _hits(findings, "ROPA-A30-003") == [("system", "crm")]
    assert "cannot be assessed" in next(f.message for f in findings if f.rule_id == "ROPA-A30-003")


def test_personal_field_used_by_no_activity(catalog):
    data = compliant_data()
    data["systems"].append({"id": "legacy", "name": "Legacy", "owner_team": "IT", "datasets": [{"name": "users", "fields": [
        {"name": "email", "categories": ["user.contact.email"]}, {"name": "build", "categories": ["system.operations"]},
    ]}]})
    findings = [f for f in _findings(catalog, data) if f.rule_id == "ROPA-A5-003"]
    assert [(f.item_kind, f.item_id) for f in findings] == [("system", "legacy")]
    assert "1 field(s) (legacy.users.email)" in findings[0].message  # the operations field is not personal data


def test_unused_system_finding_names_ten_fields_then_counts(catalog):
    data = compliant_data()
    data["systems"].append({"id": "legacy", "name": "Legacy", "owner_team": "IT", "datasets": [{"name": "users", "fields": [
        {"name": f"email_{n:02d}", "categories": ["user.contact.email"]} for n in range(12)
    ]}]})
    [finding] = [f for f in _findings(catalog, data) if f.rule_id == "ROPA-A5-003"]
    assert "12 field(s)" in finding.message and "legacy.users.email_09 and 2 more" in finding.message
    assert "email_10" not in finding.message


def test_held_category_no_activity_using_the_system_declares(catalog):
    data = compliant_data()
    _activity(data)["data_categories"].remove("user.financial.bank_account")
    findings = [f for f in _findings(catalog, data) if f.rule_id == "ROPA-A30-001"]
    assert [(f.item_kind, f.item_id, f.severity) for f in findings] == [("system", "crm", Severity.LOW)]
    assert "Bank Account Information (user.financial.bank_account)" in findings[0].message
    assert "(client-management)" in findings[0].message and findings[0].article == "Art 30(1)(c)"
    # another activity using the CRM that declares the bank details accounts for them
    data["activities"].append({
        "id": "billing", "name": "Billing", "purpose": "Bill clients", "lawful_basis": "contract", "retention": "6 years",
        "data_subjects": ["customer"], "data_categories": ["user.financial"], "systems": ["crm"],
    })
    assert _hits(_findings(catalog, data), "ROPA-A30-001") == []


def test_an_activity_declaring_nothing_accounts_for_what_its_systems_hold(catalog):
    """The record shows the systems' data for such an activity (marked), so nothing is unaccounted."""
    data = compliant_data()
    _activity(data)["data_categories"] = []
    assert _hits(_findings(catalog, data), "ROPA-A30-001") == []


def test_declared_category_no_system_holds(catalog):
    data = compliant_data()
    _activity(data)["data_categories"].append("user.financial.credit_card")
    findings = _findings(catalog, data)
    assert _hits(findings, "ROPA-A30-002") == [("activity", "client-management")]
    assert "user.financial.credit_card" in next(f.message for f in findings if f.rule_id == "ROPA-A30-002")


def test_childrens_data_when_not_served(catalog):
    data = compliant_data()
    _crm_fields(data).append({"name": "child_name", "categories": ["user.childrens"]})
    assert _hits(_findings(catalog, data), "ROPA-CHILD-001") == [("field", "crm.contacts.child_name")]


def test_childrens_data_when_served_is_silent(catalog):
    data = compliant_data()
    data["organisation"]["children_served"] = True
    _crm_fields(data).append({"name": "child_name", "categories": ["user.childrens"]})
    assert _hits(_findings(catalog, data), "ROPA-CHILD-001") == []


def _hr_activity(**extra):
    return {
        "id": "hr-scoring", "name": "Staff performance scoring", "purposes": ["employment"], "data_subjects": ["employee"],
        "lawful_basis": "legitimate_interests", "retention": "2 years", "systems": ["crm"],
        "automated_decision_making": "Scores decide bonus eligibility", **extra,
    }


def test_dpia_likely_needed_on_two_criteria(catalog):
    data = compliant_data()
    data["activities"].append(_hr_activity())
    findings = [f for f in _findings(catalog, data) if f.rule_id == "ROPA-A35-001"]
    assert [(f.item_id, f.severity) for f in findings] == [("hr-scoring", Severity.MEDIUM)]
    assert "automated decision-making" in findings[0].message and "vulnerable data subjects" in findings[0].message


def test_dpia_automated_decisions_on_special_data_is_high(catalog):
    data = compliant_data()
    data["activities"].append(_hr_activity(data_subjects=["customer"], data_categories=["user.health_and_medical"], article9_condition="explicit_consent"))
    _crm_fields(data).append({"name": "health", "categories": ["user.health_and_medical"]})
    _activity(data)["article9_condition"] = "explicit_consent"
    findings = [f for f in _findings(catalog, data) if f.rule_id == "ROPA-A35-001"]
    assert [(f.item_id, f.severity) for f in findings] == [("hr-scoring", Severity.HIGH)]


def test_dpia_matching_datasets_and_monitoring(catalog):
    data = compliant_data()
    _activity(data)["purposes"].append("personalize.profiling")
    findings = _findings(catalog, data, lineage=[("crm.contacts.email", "backup.snapshots.blob", "INDIRECT/JOIN")])
    finding = next(f for f in findings if f.rule_id == "ROPA-A35-001")
    assert "matching or combining datasets" in finding.message and "systematic monitoring or profiling" in finding.message


def test_a_recorded_no_is_no_automated_decision_criterion(catalog):
    data = compliant_data()
    data["activities"].append(_hr_activity(automated_decision_making="No"))
    assert _hits(_findings(catalog, data), "ROPA-A35-001") == []  # vulnerable subjects alone: one criterion


def test_dpia_on_record_is_silent(catalog):
    data = compliant_data()
    data["activities"].append(_hr_activity(dpia_required=True, dpia_link="https://dpia.example/hr"))
    assert _hits(_findings(catalog, data), "ROPA-A35-001") == []


def test_severity_is_ordered():
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW > Severity.INFO
    assert Severity("medium") >= "medium" and max([Severity.LOW, Severity.HIGH]) == Severity.HIGH


def test_rules_run_on_facts_and_a_selection(loaded_catalog):
    with loaded_catalog.session() as session:
        facts = CatalogFacts.load(session)
    assert {f.rule_id for f in run_rules(facts, rule_ids=["ROPA-A28-001"])} == {"ROPA-A28-001"}


# ---- suppressions -----------------------------------------------------------------------------------


def _write(tmp_path, text):
    path = tmp_path / "suppressions.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_suppressions_apply_until_they_expire(loaded_catalog, tmp_path):
    path = _write(tmp_path, (
        "- rule_id: ROPA-A28-001\n  item_id: helpdesk-in\n  reason: DPA in signature\n  reviewed_by: DPO\n  expires: 2026-12-31\n"
        "- rule_id: ROPA-A5-002\n  item_id: backup\n  reason: owner being hired\n  reviewed_by: DPO\n  expires: 2026-01-31\n"
    ))
    suppressions = load_suppressions(path)
    assert suppressions[1].source_ref == f"{path}:6"
    with loaded_catalog.session() as session:
        findings = run_rules(session)
    result = apply_suppressions(findings, suppressions, today=date(2026, 6, 1))
    assert [(f.rule_id, f.item_id) for f, _ in result.suppressed] == [("ROPA-A28-001", "helpdesk-in")]
    assert ("ROPA-A5-002", "backup") in [(f.rule_id, f.item_id) for f in result.findings]
    expired = [f for f in result.findings if f.rule_id == "ROPA-SUP-001"]
    assert [(f.severity, f.item_id) for f in expired] == [(Severity.INFO, "ROPA-A5-002:backup")]
    later = apply_suppressions(findings, suppressions, today=date(2027, 1, 1))
    assert not later.suppressed and len([f for f in later.findings if f.rule_id == "ROPA-SUP-001"]) == 2
    with loaded_catalog.session() as session:
        assert run_rules(session, suppressions=suppressions, today=date(2026, 6, 1)) == result.findings


def test_bad_suppression_file_names_entry_and_nearest_rule(tmp_path):
    path = _write(tmp_path, "- rule_id: ROPA-A28-01\n  item_id: x\n  reason: r\n  reviewed_by: me\n  expires: 2027-01-01\n- rule_id: ROPA-A6-001\n  item_id: y\n")
    with pytest.raises(SuppressionFileError) as problem:
        load_suppressions(path)
    text = str(problem.value)
    assert "did you mean 'ROPA-A28-001'" in text and f"{path}:6: entry 1: reason" in text


# ---- SARIF ----------------------------------------------------------------------------------------


def test_sarif_output(catalog, tmp_path):
    data = compliant_data()
    del _party(data, "cloudco")["contract_ref"]
    data["systems"][0].update(owner_team="", owner_email="")
    findings = _findings(catalog, data, source_refs={("parties", 0): "manifests/parties.yml:3"})
    suppressions = load_suppressions(_write(tmp_path, "- {rule_id: ROPA-A5-002, item_id: crm, reason: accepted, reviewed_by: DPO, expires: 2099-01-01}\n"))
    outcome = apply_suppressions(findings, suppressions)
    sarif = findings_to_sarif(outcome.findings, outcome.suppressed)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == set(RULES)
    assert all(r["helpUri"].startswith("https://") and r["shortDescription"]["text"] for r in rules)
    contract, owner = run["results"]
    assert contract["ruleId"] == "ROPA-A28-001" and contract["level"] == "error"
    assert rules[contract["ruleIndex"]]["id"] == "ROPA-A28-001"
    location = contract["locations"][0]
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "party:cloudco"
    assert location["physicalLocation"] == {"artifactLocation": {"uri": "manifests/parties.yml"}, "region": {"startLine": 3}}
    assert owner["level"] == "warning" and owner["suppressions"][0]["justification"] == "accepted"
    assert "physicalLocation" not in owner["locations"][0]


def test_retired_entries_are_not_checked(catalog):
    data = compliant_data()
    data["activities"].append({"id": "old-campaign", "name": "Old campaign", "systems": ["crm"]})
    assert _hits(_findings(catalog, data), "ROPA-A6-001") == [("activity", "old-campaign")]
    assert _findings(catalog, compliant_data()) == []  # the second run retires the activity
