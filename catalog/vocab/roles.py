"""Who does what: our role for a system, the role of a recipient outside our systems."""

from catalog.vocab.base import DescribedEnum


class SystemRole(DescribedEnum):
    """Our role for the personal data a system holds (Article 4(7) and 4(8))."""

    CONTROLLER = ("controller", "Controller", "We determine the purposes and means (Article 4(7)); recorded under Article 30(1).")
    PROCESSOR = ("processor", "Processor", "We process on behalf of a client controller (Article 4(8)); recorded under Article 30(2).")


class SystemStatus(DescribedEnum):
    """Lifecycle of a system in the catalogue."""

    ACTIVE = ("active", "Active", "In production and processing personal data.")
    PLANNED = ("planned", "Planned", "Not yet live; a DPIA may be due before it starts (Article 35(1)).")
    DECOMMISSIONED = ("decommissioned", "Decommissioned", "No longer processing; kept for the record.")


class PartyRole(DescribedEnum):
    """The role of a recipient outside our own systems."""

    PROCESSOR = ("processor", "Processor", "Processes on our behalf under an Article 28 contract.")
    SUB_PROCESSOR = ("sub_processor", "Sub-processor", "Engaged by a processor (or by us as processor) under Article 28(2) and (4).")
    JOINT_CONTROLLER = ("joint_controller", "Joint controller", "Determines purposes and means jointly with us (Article 26).")
    INDEPENDENT_CONTROLLER = ("independent_controller", "Independent controller", "Receives data for its own purposes, e.g. a bank or professional adviser.")
    GROUP_COMPANY = ("group_company", "Group company", "A subsidiary or affiliate of the controller.")
    CLIENT_CONTROLLER = ("client_controller", "Client (controller)", "A client on whose behalf we act as processor (Article 30(2)(a)).")
    PUBLIC_AUTHORITY = ("public_authority", "Public authority", "Receives data on request under law, e.g. the police or a regulator (Article 4(9)).")

    @property
    def is_processor(self) -> bool:
        """Processors and sub-processors need an Article 28 contract on record."""
        return self in (PartyRole.PROCESSOR, PartyRole.SUB_PROCESSOR)
