"""The catalogue's fixed vocabulary: typed enums whose values are stored and whose
descriptions cite the article they come from, so that every cell of the record can be traced."""

from catalog.vocab.base import DescribedEnum
from catalog.vocab.bases import Article9Condition, LawfulBasis
from catalog.vocab.flows import FlowMechanism
from catalog.vocab.roles import PartyRole, SystemRole, SystemStatus
from catalog.vocab.status import DpiaProgress, RunStatus
from catalog.vocab.transfer_mechanisms import TransferMechanism

__all__ = [
    "Article9Condition",
    "DescribedEnum",
    "DpiaProgress",
    "FlowMechanism",
    "LawfulBasis",
    "PartyRole",
    "RunStatus",
    "SystemRole",
    "SystemStatus",
    "TransferMechanism",
]
