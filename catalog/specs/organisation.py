"""The organisation keeping the record."""

from pydantic import Field

from catalog.jurisdictions import Regime
from catalog.specs.common import ContactSpec, CountryCode, DisplayName, Email, Identifier, Spec
from catalog.specs.privacy_notice import PrivacyNoticeSpec


class OrganisationSpec(Spec):
    """The controller: Article 30(1)(a)."""

    id: Identifier
    name: DisplayName = Field(description="Legal name of the controller.")
    registration: str | None = Field(default=None, description="Company registration number.")
    address: str = Field(default="", description="Registered address.")
    country: CountryCode = "GB"
    email: Email = Field(default="", description="Contact email for data protection matters.")
    phone: str = Field(default="", description="Contact telephone.")
    dpo: ContactSpec | None = Field(default=None, description="Data protection officer (Article 37), or the privacy lead if no DPO is designated.")
    uk_representative: ContactSpec | None = Field(default=None, description="UK representative (UK GDPR Article 27), if any.")
    eu_representative: ContactSpec | None = Field(default=None, description="EU representative (GDPR Article 27), if any.")
    regimes: list[Regime] = Field(default_factory=lambda: [Regime.UK_GDPR], description="Regimes the record is kept under.")
    privacy_notice_url: str | None = Field(default=None, description="Published privacy notice.")
    children_served: bool = Field(default=False, description="Whether the privacy notice says children's data is processed.")
    privacy_notice: PrivacyNoticeSpec | None = Field(default=None, description="What the published privacy notice discloses, for the notice check.")
