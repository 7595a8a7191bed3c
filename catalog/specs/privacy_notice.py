"""What the organisation's published privacy notice discloses, for checking the catalogue against it."""

from pydantic import Field

from catalog.specs.common import CountryCode, DataCategories, DataSubjects, DataUses, Spec
from catalog.vocab import PartyRole


class PrivacyNoticeSpec(Spec):
    """The disclosures of a privacy notice (Articles 13 and 14), as declared by the organisation.

    The notice check compares the catalogue with this both ways: processing the notice does not
    disclose, and disclosures that nothing in the catalogue supports. A key covers its
    sub-categories (declaring ``user.contact`` discloses ``user.contact.email``).
    """

    url: str | None = Field(default=None, description="Where the notice is published.")
    as_of: str | None = Field(default=None, description="Date of the notice version declared, e.g. 2024-05-01.")
    purposes: DataUses = Field(default_factory=list, description="Data uses the notice discloses (Article 13(1)(c)).")
    data_categories: DataCategories = Field(default_factory=list, alias="categories", description="Categories of personal data the notice names (Article 14(1)(d)).")
    data_subjects: DataSubjects = Field(default_factory=list, description="Groups of people the notice addresses.")
    recipient_roles: list[PartyRole] = Field(default_factory=list, description="Kinds of recipient the notice discloses (Article 13(1)(e)).")
    countries: list[CountryCode] = Field(default_factory=list, description="Countries data is said to be transferred to (Article 13(1)(f)); empty with transfers_worldwide means 'around the world'.")
    transfers_worldwide: bool = Field(default=False, description="The notice says data may be stored anywhere in the world, naming no countries.")
    retention_stated: bool = Field(default=False, description="The notice states retention periods or criteria (Article 13(2)(a)).")
    rights: list[str] = Field(default_factory=list, description="Rights the notice describes, by article number as text, e.g. '15', '17', '20'.")
