"""Flows of personal data between systems and to parties."""

from pydantic import Field

from catalog.specs.common import DataCategories, Identifier, Spec
from catalog.vocab import FlowMechanism, TransferMechanism


class FlowSpec(Spec):
    """Personal data moving from one of our systems to another system or a party."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.>-]*$", max_length=200, description="Short id of lower-case letters, digits, '-', '_', '.' and '>', e.g. crm-to-billing.")
    from_system: Identifier = Field(alias="from", description="Id of the sending system.")
    to: Identifier = Field(description="Id of the receiving system or party.")
    from_dataset: str | None = Field(default=None, description="Name of the dataset read in the sending system, when known.")
    to_dataset: str | None = Field(default=None, description="Name of the dataset written in the receiving system, when it is ours and known.")
    data_categories: DataCategories = Field(default_factory=list, alias="categories")
    activity: Identifier | None = Field(default=None, description="Id of the processing activity the flow serves.")
    mechanism: FlowMechanism = Field(default=FlowMechanism.API, description="How the data moves.")
    encrypted_in_transit: bool = Field(default=True, description="Whether the channel is encrypted.")
    transfer_mechanism: TransferMechanism | None = Field(default=None, description="Transfer tool for this flow, overriding the receiving party's.")
    transfer_assessment_ref: str | None = Field(default=None, description="Link to this flow's TIA / TRA, overriding the party's.")
    description: str = Field(default="", description="What moves and why.")


class FieldRef(Spec):
    """A field named by its system, dataset and field names (names may contain dots)."""

    system: Identifier
    dataset: str = Field(min_length=1, description="Dataset name inside the system.")
    field: str = Field(min_length=1, description="Field name inside the dataset.")

    @property
    def path(self) -> str:
        return f"{self.system}.{self.dataset}.{self.field}"


class FieldLineageSpec(Spec):
    """A field derived from another field: field-level lineage, e.g. from OpenLineage columnLineage."""

    from_field: FieldRef = Field(alias="from", description="The field read.")
    to_field: FieldRef = Field(alias="to", description="The field written.")
    transformation: str | None = Field(default=None, description="How: e.g. DIRECT/IDENTITY, INDIRECT/JOIN, foreign_key.")
    masking: bool = Field(default=False, description="The step hashes or otherwise masks the value: the target is pseudonymised.")
