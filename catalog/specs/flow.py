"""Flows of personal data between systems and to parties."""

from pydantic import Field

from catalog.specs.common import DataCategories, Identifier, Spec
from catalog.vocab import FlowMechanism, TransferMechanism


class FlowSpec(Spec):
    """Personal data moving from one of our systems to another system or a party."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.>-]*$", max_length=200, description="Short id, e.g. crm-to-billing.")
    from_system: Identifier = Field(alias="from", description="Id of the sending system.")
    to: Identifier = Field(description="Id of the receiving system or party.")
    data_categories: DataCategories = Field(default_factory=list, alias="categories")
    activity: Identifier | None = Field(default=None, description="Id of the processing activity the flow serves.")
    mechanism: FlowMechanism = Field(default=FlowMechanism.API, description="How the data moves.")
    encrypted_in_transit: bool = Field(default=True, description="Whether the channel is encrypted.")
    transfer_mechanism: TransferMechanism | None = Field(default=None, description="Transfer tool for this flow, overriding the receiving party's.")
    transfer_assessment_ref: str | None = Field(default=None, description="Link to this flow's TIA / TRA, overriding the party's.")
    description: str = Field(default="", description="What moves and why.")
