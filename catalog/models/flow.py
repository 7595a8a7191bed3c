"""Movements of personal data: system-level flows and field-level lineage."""

from sqlalchemy import JSON, CheckConstraint, UniqueConstraint
from sqlmodel import Field

from catalog.models.provenance import Provenance, SeenBySource


class Flow(SeenBySource, table=True):
    """Personal data moving from one of our systems to another system or to a party."""

    __tablename__ = "flow"
    __table_args__ = (
        CheckConstraint(
            "(target_system_id IS NULL) <> (target_party_id IS NULL)",
            name="flow_has_one_target",
        ),
    )

    id: str = Field(primary_key=True, max_length=200, description="Short id, e.g. crm-to-billing.")
    source_system_id: str = Field(foreign_key="system.id", index=True, description="Where the data comes from.")
    target_system_id: str | None = Field(default=None, foreign_key="system.id", index=True, description="Receiving system, if ours.")
    target_party_id: str | None = Field(default=None, foreign_key="party.id", index=True, description="Receiving party, if outside our systems.")
    source_dataset_id: int | None = Field(default=None, foreign_key="dataset.id", description="Dataset read, when the flow is known at dataset level.")
    target_dataset_id: int | None = Field(default=None, foreign_key="dataset.id", description="Dataset written, when the receiving system is ours and known at dataset level.")
    activity_id: str | None = Field(default=None, foreign_key="processing_activity.id", description="The processing activity the flow serves.")
    data_categories: list[str] = Field(default_factory=list, sa_type=JSON, description="Data category keys carried.")
    mechanism: str = Field(default="api", max_length=30, description="FlowMechanism.")
    encrypted_in_transit: bool = Field(default=True, description="Whether the channel is encrypted (Article 32(1)(a)).")
    transfer_mechanism: str | None = Field(default=None, max_length=60, description="TransferMechanism for this flow, overriding the party's.")
    transfer_assessment_ref: str | None = Field(default=None, max_length=500, description="Link to this flow's TIA / TRA, overriding the party's.")
    description: str = Field(default="", max_length=4000, description="What moves and why.")


class FieldLineage(Provenance, table=True):
    """A field derived from another field (possibly in another system)."""

    __tablename__ = "field_lineage"
    __table_args__ = (UniqueConstraint("source_field_id", "target_field_id", name="uq_field_lineage_pair"),)

    id: int | None = Field(default=None, primary_key=True)
    source_field_id: int = Field(foreign_key="data_field.id", ondelete="CASCADE")  # indexed by uq_field_lineage_pair
    target_field_id: int = Field(foreign_key="data_field.id", index=True, ondelete="CASCADE")
    transformation: str | None = Field(default=None, max_length=200, description="e.g. DIRECT/IDENTITY, INDIRECT/JOIN, foreign_key.")
    masking: bool = Field(default=False, description="The target is pseudonymised by this step.")
