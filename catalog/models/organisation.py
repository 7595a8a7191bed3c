"""The controller whose record this is: Article 30(1)(a) and 30(2)(a)."""

from sqlalchemy import JSON
from sqlmodel import Field

from catalog.models.provenance import SeenBySource


class Organisation(SeenBySource, table=True):
    """The organisation keeping the record, with its DPO and representatives.

    Contacts are stored as small JSON objects ``{name, address, email, phone}`` because the record
    shows them as a block, never queries inside them.
    """

    __tablename__ = "organisation"

    id: str = Field(primary_key=True, max_length=80, description="Short id, e.g. kanj.")
    name: str = Field(max_length=300, description="Legal name of the controller.")
    registration: str | None = Field(default=None, max_length=100, description="Company registration number.")
    address: str = Field(default="", max_length=1000, description="Registered address.")
    country: str = Field(default="GB", max_length=4, description="ISO 3166-1 alpha-2 of the main establishment.")
    email: str = Field(default="", max_length=300, description="Contact email for data protection matters.")
    phone: str = Field(default="", max_length=100, description="Contact telephone.")
    dpo: dict | None = Field(default=None, sa_type=JSON, description="Data protection officer contact (Article 37), or the privacy lead.")
    uk_representative: dict | None = Field(default=None, sa_type=JSON, description="UK representative (UK GDPR Article 27), if established outside the UK.")
    eu_representative: dict | None = Field(default=None, sa_type=JSON, description="EU representative (GDPR Article 27), if established outside the EU.")
    regimes: list[str] = Field(default_factory=list, sa_type=JSON, description="Regimes the record is kept under: uk_gdpr, eu_gdpr.")
    privacy_notice_url: str | None = Field(default=None, max_length=500, description="Published privacy notice.")
    children_served: bool = Field(default=False, description="Whether the privacy notice says children's data is processed.")
    privacy_notice: dict | None = Field(default=None, sa_type=JSON, description="What the published privacy notice discloses (PrivacyNoticeSpec), for the notice check.")
