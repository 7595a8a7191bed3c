"""How personal data moves along a flow."""

from catalog.vocab.base import DescribedEnum


class FlowMechanism(DescribedEnum):
    """The technical mechanism of a data flow."""

    API = ("api", "API call", "Online request/response between systems.")
    BATCH_EXPORT = ("batch_export", "Batch export", "Scheduled file or bulk export.")
    REPLICATION = ("replication", "Replication", "Database or storage replication.")
    BACKUP = ("backup", "Backup", "Copies kept for recovery; holds the same categories as the source.")
    REMOTE_ACCESS = ("remote_access", "Remote access", "Access from another place without copying; a transfer when from a third country (EDPB Guidelines 05/2021).")
    STREAMING = ("streaming", "Event stream", "Messages or events on a broker.")
    EMAIL = ("email", "Email", "Sent by email.")
    MANUAL = ("manual", "Manual", "Entered or handed over by a person.")
    DISCLOSURE = ("disclosure", "Disclosure on request", "Disclosed on a properly made request, e.g. to law enforcement.")
