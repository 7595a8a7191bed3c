"""Lawful bases (Article 6(1)) and special-category conditions (Article 9(2))."""

from catalog.vocab.base import DescribedEnum


class LawfulBasis(DescribedEnum):
    """Article 6(1) lawful basis for processing."""

    CONSENT = ("consent", "Consent", "Article 6(1)(a): the data subject has given consent.")
    CONTRACT = ("contract", "Contract", "Article 6(1)(b): necessary for a contract with the data subject or steps before entering one.")
    LEGAL_OBLIGATION = ("legal_obligation", "Legal obligation", "Article 6(1)(c): necessary to comply with a legal obligation.")
    VITAL_INTERESTS = ("vital_interests", "Vital interests", "Article 6(1)(d): necessary to protect someone's life.")
    PUBLIC_TASK = ("public_task", "Public task", "Article 6(1)(e): necessary for a task in the public interest or official authority.")
    LEGITIMATE_INTERESTS = ("legitimate_interests", "Legitimate interests", "Article 6(1)(f): necessary for legitimate interests not overridden by the data subject's.")
    RECOGNISED_LEGITIMATE_INTEREST = (
        "recognised_legitimate_interest",
        "Recognised legitimate interest (UK only)",
        "UK GDPR Article 6(1)(ea) and Annex 1, added by the Data (Use and Access) Act 2025, in force 5 Feb 2026; no balancing test.",
    )

    @property
    def article(self) -> str:
        """The paragraph cited in the record, e.g. 'Art 6(1)(b)'."""
        letter = {
            "consent": "a", "contract": "b", "legal_obligation": "c", "vital_interests": "d",
            "public_task": "e", "legitimate_interests": "f", "recognised_legitimate_interest": "ea",
        }[self.value]
        return f"Art 6(1)({letter})"


class Article9Condition(DescribedEnum):
    """Article 9(2) condition for processing special category data."""

    EXPLICIT_CONSENT = ("explicit_consent", "Explicit consent", "Article 9(2)(a).")
    EMPLOYMENT_SOCIAL_SECURITY = ("employment_social_security", "Employment, social security and social protection law", "Article 9(2)(b); UK: also needs a DPA 2018 Schedule 1 Part 1 condition.")
    VITAL_INTERESTS = ("vital_interests", "Vital interests (subject cannot consent)", "Article 9(2)(c).")
    NOT_FOR_PROFIT = ("not_for_profit", "Not-for-profit body", "Article 9(2)(d).")
    MADE_PUBLIC = ("made_public", "Manifestly made public by the data subject", "Article 9(2)(e).")
    LEGAL_CLAIMS = ("legal_claims", "Legal claims or judicial acts", "Article 9(2)(f).")
    SUBSTANTIAL_PUBLIC_INTEREST = ("substantial_public_interest", "Substantial public interest", "Article 9(2)(g); UK: also needs a DPA 2018 Schedule 1 Part 2 condition.")
    HEALTH_SOCIAL_CARE = ("health_social_care", "Health or social care", "Article 9(2)(h); UK: also needs a DPA 2018 Schedule 1 Part 1 condition.")
    PUBLIC_HEALTH = ("public_health", "Public health", "Article 9(2)(i); UK: also needs a DPA 2018 Schedule 1 Part 1 condition.")
    ARCHIVING_RESEARCH = ("archiving_research", "Archiving, research or statistics", "Article 9(2)(j) with Article 89(1); UK: also needs a DPA 2018 Schedule 1 Part 1 condition.")

    @property
    def article(self) -> str:
        """The paragraph cited in the record, e.g. 'Art 9(2)(a)'."""
        return f"Art 9(2)({'abcdefghij'[list(type(self)).index(self)]})"

    @property
    def needs_schedule1_condition(self) -> bool:
        """UK GDPR: conditions (b), (g), (h), (i), (j) need a DPA 2018 Schedule 1 condition too."""
        return self.value in {
            "employment_social_security", "substantial_public_interest", "health_social_care",
            "public_health", "archiving_research",
        }
