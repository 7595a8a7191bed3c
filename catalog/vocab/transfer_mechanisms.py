"""Instruments that make a restricted transfer lawful (Articles 46, 47 and 49; UK IDTA)."""

from catalog.vocab.base import DescribedEnum


class TransferMechanism(DescribedEnum):
    """A transfer tool on record for a restricted transfer."""

    EU_SCC_MODULE_1 = ("eu_scc_module_1", "EU SCCs Module 1 (C2C)", "Decision (EU) 2021/914, controller to controller; Article 46(2)(c).")
    EU_SCC_MODULE_2 = ("eu_scc_module_2", "EU SCCs Module 2 (C2P)", "Decision (EU) 2021/914, controller to processor; Article 46(2)(c).")
    EU_SCC_MODULE_3 = ("eu_scc_module_3", "EU SCCs Module 3 (P2P)", "Decision (EU) 2021/914, processor to processor; Article 46(2)(c).")
    EU_SCC_MODULE_4 = ("eu_scc_module_4", "EU SCCs Module 4 (P2C)", "Decision (EU) 2021/914, processor to controller; Article 46(2)(c).")
    UK_IDTA = ("uk_idta", "UK IDTA", "International Data Transfer Agreement, UK GDPR Article 46(2)(d), in force 21 Mar 2022.")
    UK_ADDENDUM = ("uk_addendum", "UK Addendum to EU SCCs", "International Data Transfer Addendum to the EU SCCs, UK GDPR Article 46(2)(d), in force 21 Mar 2022.")
    BCR = ("bcr", "Binding corporate rules", "Article 46(2)(b) and Article 47.")
    UK_BCR = ("uk_bcr", "UK binding corporate rules", "UK GDPR Article 46(2)(b) and Article 47, approved by the ICO.")
    LEGALLY_BINDING_INSTRUMENT = ("legally_binding_instrument", "Instrument between public authorities", "Article 46(2)(a).")
    CODE_OF_CONDUCT = ("code_of_conduct", "Approved code of conduct", "Article 46(2)(e) with binding commitments of the importer.")
    CERTIFICATION = ("certification", "Approved certification", "Article 46(2)(f) with binding commitments of the importer.")
    AD_HOC_CLAUSES = ("ad_hoc_clauses", "Ad hoc contractual clauses", "Article 46(3)(a), authorised by the supervisory authority.")
    ADMINISTRATIVE_ARRANGEMENT = ("administrative_arrangement", "Administrative arrangement", "Article 46(3)(b), authorised by the supervisory authority.")
    DEROGATION_CONSENT = ("derogation_explicit_consent", "Derogation: explicit consent", "Article 49(1)(a).")
    DEROGATION_CONTRACT = ("derogation_contract", "Derogation: contract with the data subject", "Article 49(1)(b).")
    DEROGATION_CONTRACT_INTEREST = ("derogation_contract_in_interest", "Derogation: contract in the data subject's interest", "Article 49(1)(c).")
    DEROGATION_PUBLIC_INTEREST = ("derogation_public_interest", "Derogation: important public interest", "Article 49(1)(d).")
    DEROGATION_LEGAL_CLAIMS = ("derogation_legal_claims", "Derogation: legal claims", "Article 49(1)(e).")
    DEROGATION_VITAL_INTERESTS = ("derogation_vital_interests", "Derogation: vital interests", "Article 49(1)(f).")
    DEROGATION_PUBLIC_REGISTER = ("derogation_public_register", "Derogation: public register", "Article 49(1)(g).")
    DEROGATION_COMPELLING_INTERESTS = (
        "derogation_compelling_legitimate_interests",
        "Derogation: compelling legitimate interests",
        "Article 49(1) second subparagraph; the safeguards must be documented in the Article 30 record (Article 30(1)(e)).",
    )

    @property
    def is_derogation(self) -> bool:
        """Article 49 derogations are for occasional transfers; no TIA is expected for them."""
        return self.value.startswith("derogation_")

    @property
    def regimes(self) -> frozenset[str]:
        """Regimes whose restricted transfers this instrument covers.

        UK instruments (IDTA, UK BCRs) cover UK GDPR only; EU SCCs and EU-approved BCRs cover EU GDPR
        only; the UK Addendum is appended to the EU SCCs, so together they cover both; derogations and
        the other Article 46 tools exist under both regimes.
        """
        if self in (TransferMechanism.UK_IDTA, TransferMechanism.UK_BCR):
            return frozenset({"uk_gdpr"})
        if self.value.startswith("eu_scc_") or self is TransferMechanism.BCR:
            return frozenset({"eu_gdpr"})
        return frozenset({"uk_gdpr", "eu_gdpr"})

    @property
    def is_article46_tool(self) -> bool:
        """Article 46 tools expect a transfer impact / risk assessment (Schrems II, C-311/18)."""
        return not self.is_derogation
