"""Processing activities: one row of the Article 30 record each."""

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from catalog.models.provenance import SeenBySource


class ProcessingActivity(SeenBySource, table=True):
    """A processing activity as Article 30(1) or 30(2) records it."""

    __tablename__ = "processing_activity"

    id: str = Field(primary_key=True, max_length=80, description="Short id, e.g. client-billing.")
    name: str = Field(max_length=300, description="Name of the activity.")
    business_function: str = Field(default="", max_length=200, description="Business function (ICO column 1).")
    role: str = Field(default="controller", max_length=20, description="SystemRole: controller (30(1)) or processor (30(2)).")
    controller_id: str | None = Field(default=None, foreign_key="party.id", description="For a processor record: the client controller we act for.")
    joint_controller_id: str | None = Field(default=None, foreign_key="party.id", description="Joint controller, if any (Article 26).")
    purposes: list[str] = Field(default_factory=list, sa_type=JSON, description="Data use keys (fideslang).")
    purpose_text: str = Field(default="", max_length=4000, description="Purpose in plain words (Article 30(1)(b)).")
    data_subjects: list[str] = Field(default_factory=list, sa_type=JSON, description="Data subject keys (Article 30(1)(c)).")
    data_categories: list[str] = Field(default_factory=list, sa_type=JSON, description="Declared data category keys; the record adds those its systems carry.")
    lawful_basis: str | None = Field(default=None, max_length=40, description="LawfulBasis (Article 6(1)).")
    article9_condition: str | None = Field(default=None, max_length=40, description="Article9Condition, for special category data.")
    schedule1_condition: str | None = Field(default=None, max_length=300, description="DPA 2018 Schedule 1 condition (UK), e.g. 'Para 6 statutory and government purposes'.")
    article10_authority: str | None = Field(default=None, max_length=500, description="Authority for criminal offence data (Article 10; DPA 2018 s10).")
    legitimate_interest: str | None = Field(default=None, max_length=2000, description="The legitimate interest pursued, when the basis is legitimate interests.")
    lia_link: str | None = Field(default=None, max_length=500, description="Link to the legitimate interests assessment.")
    retention: str | None = Field(default=None, max_length=2000, description="Envisaged time limits for erasure (Article 30(1)(f)).")
    retention_policy_link: str | None = Field(default=None, max_length=500, description="Link to the retention and erasure policy document (DPA 2018 Sch 1 para 41).")
    retention_policy_followed: bool | None = Field(default=None, description="Whether data is retained and erased per the policy document.")
    retention_policy_deviation: str | None = Field(default=None, max_length=2000, description="Reasons for not adhering to the policy document.")
    security_measures: list[str] = Field(default_factory=list, sa_type=JSON, description="General description of measures (Article 30(1)(g)); the record adds those of its systems.")
    data_source: str | None = Field(default=None, max_length=1000, description="Source of the personal data when not collected from the subject (Article 14).")
    automated_decision_making: str | None = Field(default=None, max_length=2000, description="Automated decision-making including profiling (Article 22); None means none.")
    dpia_required: bool | None = Field(default=None, description="Whether a DPIA is required (Article 35).")
    dpia_progress: str | None = Field(default=None, max_length=20, description="DpiaProgress.")
    dpia_link: str | None = Field(default=None, max_length=500, description="Link to the DPIA.")
    consent_record_link: str | None = Field(default=None, max_length=500, description="Link to the record of consent (Article 7(1)).")
    breach_record_link: str | None = Field(default=None, max_length=500, description="Link to the record of a personal data breach, if one occurred (Article 33(5)).")
    transfer_safeguards: str | None = Field(default=None, max_length=2000, description="Documentation of suitable safeguards for Article 49(1) second-subparagraph transfers (Article 30(1)(e)).")


class ActivitySystem(SQLModel, table=True):
    """An activity is carried out in a system."""

    __tablename__ = "activity_system"

    activity_id: str = Field(foreign_key="processing_activity.id", primary_key=True, ondelete="CASCADE")
    system_id: str = Field(foreign_key="system.id", primary_key=True)


class ActivityRecipient(SQLModel, table=True):
    """An activity discloses personal data to a party (Article 30(1)(d))."""

    __tablename__ = "activity_recipient"

    activity_id: str = Field(foreign_key="processing_activity.id", primary_key=True, ondelete="CASCADE")
    party_id: str = Field(foreign_key="party.id", primary_key=True)
