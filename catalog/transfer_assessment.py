"""What each derived transfer needs: the instrument by the parties' roles, and the assessment.

A transfer's status under each regime comes from :mod:`catalog.transfers`. This module adds what
a privacy team asks next: which EU SCC module fits the exporter's and importer's roles (Decision
(EU) 2021/914: module 1 controller to controller, 2 controller to processor, 3 processor to
processor, 4 processor to controller), that the UK needs the IDTA or the UK Addendum (appended
to the EU SCCs, so recorded it stands for both), whether
adequacy already covers it, and whether a transfer impact assessment (EU, for Article 46 tools;
Schrems II, C-311/18) or transfer risk assessment (UK, with the IDTA or the Addendum) is expected
and on record. Both regimes are answered side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.graph import CatalogGraph, NodeKind
from catalog.jurisdictions import Jurisdictions, Regime, TransferStatus
from catalog.transfers import Transfer, as_mechanism, derive_transfers, mechanism_covers
from catalog.vocab import PartyRole, SystemRole, TransferMechanism

#: EU SCC module by (exporter role, importer role), Decision (EU) 2021/914.
SCC_MODULES: dict[tuple[SystemRole, SystemRole], TransferMechanism] = {
    (SystemRole.CONTROLLER, SystemRole.CONTROLLER): TransferMechanism.EU_SCC_MODULE_1,
    (SystemRole.CONTROLLER, SystemRole.PROCESSOR): TransferMechanism.EU_SCC_MODULE_2,
    (SystemRole.PROCESSOR, SystemRole.PROCESSOR): TransferMechanism.EU_SCC_MODULE_3,
    (SystemRole.PROCESSOR, SystemRole.CONTROLLER): TransferMechanism.EU_SCC_MODULE_4,
}

#: UK instruments for a restricted transfer: the IDTA, or the Addendum appended to the EU SCCs.
UK_INSTRUMENTS = (TransferMechanism.UK_IDTA, TransferMechanism.UK_ADDENDUM)

#: The assessment each regime expects with an Article 46 tool.
ASSESSMENT_NAMES = {Regime.EU_GDPR: "TIA", Regime.UK_GDPR: "TRA"}


def contract_role(role: str | None) -> SystemRole:
    """The role a party plays in a transfer contract: processors and sub-processors are processors;
    everyone else (controllers of any kind, group companies, authorities) is a controller."""
    if role in (SystemRole.PROCESSOR.value, PartyRole.PROCESSOR.value, PartyRole.SUB_PROCESSOR.value):
        return SystemRole.PROCESSOR
    return SystemRole.CONTROLLER


def scc_module(exporter_role: str | None, importer_role: str | None) -> TransferMechanism:
    """The EU SCC module for the roles of exporter and importer."""
    return SCC_MODULES[(contract_role(exporter_role), contract_role(importer_role))]


@dataclass(frozen=True)
class RegimeRequirement:
    """What one transfer needs under one regime, and what is on record."""

    regime: Regime
    """The regime answered."""
    status: TransferStatus
    """The transfer's status under the regime (from catalog.transfers)."""
    adequacy_covers: bool
    """Not restricted: domestic, inside or entering the territory, outside the regime's reach, or
    covered by adequacy (with certification where needed)."""
    instruments: tuple[TransferMechanism, ...]
    """Instruments that fit when restricted: the SCC module by roles (EU), the IDTA or the Addendum (UK)."""
    mechanism: TransferMechanism | None
    """Mechanism on record for the transfer: the one covering this regime when one does, else the first."""
    mechanism_covers: bool
    """A mechanism on record covers this regime (an IDTA does not cover EU GDPR)."""
    mechanism_fits_roles: bool | None
    """For EU SCCs on record: whether the module matches the roles; None when not an SCC."""
    assessment_name: str
    """TIA (EU) or TRA (UK)."""
    assessment_expected: bool
    """Restricted and not relying on an Article 49 derogation: an assessment is expected."""
    assessment_on_record: bool
    """A TIA / TRA reference is on record for the transfer."""

    @property
    def needs_mechanism(self) -> bool:
        """Restricted and no mechanism on record covers this regime."""
        return not self.adequacy_covers and not self.mechanism_covers

    @property
    def needs_assessment(self) -> bool:
        return self.assessment_expected and not self.assessment_on_record

    @property
    def coverage_text(self) -> str:
        """Whether the mechanism on record covers this regime, in words ('' when none is on record)."""
        if self.mechanism is None:
            return ""
        if self.mechanism_covers:
            return "yes"
        return f"no: {self.mechanism.label} does not cover {self.regime.label}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value, "adequacy_covers": self.adequacy_covers,
            "instruments": [m.value for m in self.instruments],
            "mechanism": self.mechanism.value if self.mechanism else None, "mechanism_covers": self.mechanism_covers,
            "mechanism_fits_roles": self.mechanism_fits_roles, "needs_mechanism": self.needs_mechanism,
            "assessment": self.assessment_name, "assessment_expected": self.assessment_expected,
            "assessment_on_record": self.assessment_on_record, "needs_assessment": self.needs_assessment,
        }


@dataclass(frozen=True)
class TransferRequirements:
    """One transfer with what it needs under UK GDPR and EU GDPR side by side."""

    transfer: Transfer
    """The derived transfer."""
    exporter_contract_role: SystemRole
    """Exporter as controller or processor in a transfer contract."""
    importer_contract_role: SystemRole
    """Importer as controller or processor in a transfer contract."""
    same_organisation: bool
    """The importer is one of our own systems and no provider holds the data there: no contract can
    be made with ourselves, and EDPB Guidelines 05/2021 do not treat it as a Chapter V transfer; the
    record still shows the move. At a provider's site the provider is the importer in the contract."""
    uk: RegimeRequirement
    """Answer under UK GDPR."""
    eu: RegimeRequirement
    """Answer under EU GDPR."""

    @property
    def scc_module(self) -> TransferMechanism:
        return SCC_MODULES[(self.exporter_contract_role, self.importer_contract_role)]

    def requirement(self, regime: Regime | str) -> RegimeRequirement:
        return self.uk if Regime(regime) == Regime.UK_GDPR else self.eu

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.transfer.as_dict(),
            "exporter_contract_role": self.exporter_contract_role.value,
            "importer_contract_role": self.importer_contract_role.value,
            "scc_module": self.scc_module.value, "same_organisation": self.same_organisation,
            "requirements": {"uk_gdpr": self.uk.as_dict(), "eu_gdpr": self.eu.as_dict()},
        }


def _requirement(transfer: Transfer, regime: Regime, module: TransferMechanism) -> RegimeRequirement:
    status = transfer.assessment(regime).status
    on_record = [m for m in map(as_mechanism, transfer.on_record) if m is not None]
    covering = [m for m in on_record if mechanism_covers(m, regime)]
    mechanism = covering[0] if covering else (on_record[0] if on_record else None)
    adequate = status is not TransferStatus.RESTRICTED
    sccs = [m for m in on_record if m.value.startswith("eu_scc_")]
    fits = (module in sccs) if sccs else None
    relies_on_derogation = bool(covering) and all(m.is_derogation for m in covering)
    return RegimeRequirement(
        regime=regime, status=status, adequacy_covers=adequate,
        instruments=() if adequate else ((module,) if regime == Regime.EU_GDPR else UK_INSTRUMENTS),
        mechanism=mechanism, mechanism_covers=bool(covering), mechanism_fits_roles=fits,
        assessment_name=ASSESSMENT_NAMES[regime],
        assessment_expected=not adequate and not relies_on_derogation,
        assessment_on_record=bool(transfer.assessment_ref),
    )


def assess_transfer(graph: CatalogGraph, transfer: Transfer) -> TransferRequirements:
    """What one transfer needs, under both regimes. Into our own system at a provider's site, the
    provider is the importer in the contract."""
    importer = graph.node(transfer.host or transfer.importer)
    own_system = importer["kind"] == NodeKind.SYSTEM
    importer_role = importer.get("role") if own_system or transfer.host else transfer.importer_role
    exporter_role, importer_role = contract_role(transfer.exporter_role), contract_role(importer_role)
    module = SCC_MODULES[(exporter_role, importer_role)]
    return TransferRequirements(
        transfer=transfer, exporter_contract_role=exporter_role, importer_contract_role=importer_role,
        same_organisation=own_system,
        uk=_requirement(transfer, Regime.UK_GDPR, module), eu=_requirement(transfer, Regime.EU_GDPR, module),
    )


def assess_transfers(graph: CatalogGraph, jurisdictions: Jurisdictions | None = None) -> list[TransferRequirements]:
    """What every derived transfer needs, in the order of derive_transfers."""
    return [assess_transfer(graph, transfer) for transfer in derive_transfers(graph, jurisdictions)]
