"""Processing activities: rows of the Article 30 record."""

from pydantic import Field

from catalog.specs.common import DataCategories, DataSubjects, DataUses, DisplayName, Identifier, Spec
from catalog.vocab import Article9Condition, DpiaProgress, LawfulBasis, SystemRole


class ActivitySpec(Spec):
    """One processing activity (Article 30(1) for controller, 30(2) for processor records)."""

    id: Identifier
    name: DisplayName = Field(description="Name of the activity.")
    business_function: str = Field(default="", description="Business function (ICO column 1).")
    role: SystemRole = Field(default=SystemRole.CONTROLLER, description="controller: an Article 30(1) row; processor: an Article 30(2) row.")
    controller: Identifier | None = Field(default=None, description="For a processor record: id of the client controller party we act for.")
    joint_controller: Identifier | None = Field(default=None, description="Id of a joint controller party (Article 26), if any.")
    purposes: DataUses = Field(default_factory=list)
    purpose_text: str = Field(default="", alias="purpose", description="Purpose in plain words (Article 30(1)(b)).")
    data_subjects: DataSubjects = Field(default_factory=list)
    data_categories: DataCategories = Field(default_factory=list)
    lawful_basis: LawfulBasis | None = Field(default=None, description="Article 6(1) basis.")
    article9_condition: Article9Condition | None = Field(default=None, description="Article 9(2) condition, for special category data.")
    schedule1_condition: str | None = Field(default=None, description="DPA 2018 Schedule 1 condition (UK), e.g. 'Part 1 para 1 employment'.")
    article10_authority: str | None = Field(default=None, description="Authority for criminal offence data (Article 10; DPA 2018 s10).")
    legitimate_interest: str | None = Field(default=None, description="The legitimate interest pursued.")
    lia_link: str | None = Field(default=None, description="Link to the legitimate interests assessment.")
    retention: str | None = Field(default=None, description="Envisaged time limits for erasure (Article 30(1)(f)).")
    retention_policy_link: str | None = Field(default=None, description="Link to the retention and erasure policy (DPA 2018 Sch 1 para 41).")
    retention_policy_followed: bool | None = Field(default=None, description="Whether data is retained and erased per the policy.")
    retention_policy_deviation: str | None = Field(default=None, description="Reasons for not adhering to the policy.")
    security_measures: list[str] = Field(default_factory=list, description="Measures specific to the activity (Article 30(1)(g)).")
    data_source: str | None = Field(default=None, alias="source_of_data", description="Source of the data when not collected from the subject (Article 14(2)(f)).")
    automated_decision_making: str | None = Field(default=None, description="Automated decision-making including profiling (Article 22); omit if none.")
    dpia_required: bool | None = Field(default=None, description="Whether a DPIA is required (Article 35).")
    dpia_progress: DpiaProgress | None = Field(default=None, description="Progress of the DPIA.")
    dpia_link: str | None = Field(default=None, description="Link to the DPIA.")
    consent_record_link: str | None = Field(default=None, description="Link to the record of consent (Article 7(1)).")
    breach_record_link: str | None = Field(default=None, description="Link to a personal data breach record (Article 33(5)).")
    transfer_safeguards: str | None = Field(default=None, description="Safeguards documented for Article 49(1) second-subparagraph transfers.")
    systems: list[Identifier] = Field(default_factory=list, description="Ids of the systems the activity runs in.")
    recipients: list[Identifier] = Field(default_factory=list, description="Ids of parties data is disclosed to (Article 30(1)(d)).")
