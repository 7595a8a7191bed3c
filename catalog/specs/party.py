"""Recipients and clients outside our systems."""

from pydantic import Field

from catalog.specs.common import ContactSpec, CountryCode, DisplayName, Identifier, Spec
from catalog.vocab import PartyRole, TransferMechanism


class PartySpec(Spec):
    """An organisation that receives personal data from us, or for which we process it."""

    id: Identifier
    name: DisplayName = Field(description="Legal or trading name.")
    role: PartyRole = Field(description="processor, sub_processor, joint_controller, independent_controller, group_company, client_controller or public_authority.")
    country: CountryCode
    processing_countries: list[CountryCode] = Field(default_factory=list, description="Other countries where it processes or stores our data.")
    parent: Identifier | None = Field(default=None, description="For a sub-processor: id of the processor that engaged it.")
    description: str = Field(default="", description="Service provided.")
    contact: ContactSpec | None = Field(default=None, description="Contact details.")
    dpo: ContactSpec | None = Field(default=None, description="For a client controller: its DPO (Article 30(2)(a)).")
    representative: ContactSpec | None = Field(default=None, description="For a client controller: its Article 27 representative.")
    contract_ref: str | None = Field(default=None, description="Data processing agreement or contract reference or link (Article 28(3)).")
    transfer_mechanism: TransferMechanism | None = Field(default=None, description="Transfer tool on record for restricted transfers to this party.")
    transfer_assessment_ref: str | None = Field(default=None, description="Link to the transfer impact (EU) or risk (UK) assessment.")
    certifications: list[str] = Field(default_factory=list, description="Certifications on record, e.g. DPF, DPF-UK-Extension, ISO 27001.")
    security_measures: list[str] = Field(default_factory=list, description="Measures the party commits to.")
