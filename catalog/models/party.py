"""Recipients outside our systems: processors, sub-processors, controllers, authorities, clients."""

from sqlalchemy import JSON
from sqlmodel import Field

from catalog.models.provenance import SeenBySource


class Party(SeenBySource, table=True):
    """An organisation that receives personal data from us, or for which we process it."""

    __tablename__ = "party"

    id: str = Field(primary_key=True, max_length=80, description="Short id, e.g. aws.")
    name: str = Field(max_length=300, description="Legal or trading name.")
    role: str = Field(max_length=30, description="PartyRole.")
    country: str = Field(max_length=4, description="ISO 3166-1 alpha-2 of the establishment that receives the data.")
    processing_countries: list[str] = Field(default_factory=list, sa_type=JSON, description="Other countries where it processes or stores our data.")
    parent_id: str | None = Field(default=None, foreign_key="party.id", description="For a sub-processor: the processor that engaged it.")
    description: str = Field(default="", max_length=4000, description="Service provided.")
    contact: dict | None = Field(default=None, sa_type=JSON, description="Contact details {name, address, email, phone}.")
    dpo: dict | None = Field(default=None, sa_type=JSON, description="For a client controller: its DPO (Article 30(2)(a)).")
    representative: dict | None = Field(default=None, sa_type=JSON, description="For a client controller: its Article 27 representative.")
    contract_ref: str | None = Field(default=None, max_length=500, description="DPA / contract reference or link (Article 28(3)).")
    transfer_mechanism: str | None = Field(default=None, max_length=60, description="TransferMechanism on record for restricted transfers to this party.")
    transfer_assessment_ref: str | None = Field(default=None, max_length=500, description="Link to the transfer impact (EU) / risk (UK) assessment.")
    certifications: list[str] = Field(default_factory=list, sa_type=JSON, description="Certifications on record, e.g. DPF, DPF-UK-Extension, ISO 27001.")
    security_measures: list[str] = Field(default_factory=list, sa_type=JSON, description="Measures the party commits to.")
