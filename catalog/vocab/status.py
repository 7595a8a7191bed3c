"""Progress states recorded in the catalogue."""

from catalog.vocab.base import DescribedEnum


class DpiaProgress(DescribedEnum):
    """Progress of a Data Protection Impact Assessment (Article 35)."""

    NOT_STARTED = ("not_started", "Not started", "Required but not begun.")
    IN_PROGRESS = ("in_progress", "In progress", "Being carried out.")
    COMPLETED = ("completed", "Completed", "Signed off; link it in dpia_link.")
    NOT_REQUIRED = ("not_required", "Not required", "Screened out; keep the screening reasoning.")


class RunStatus(DescribedEnum):
    """Outcome of an ingest run."""

    SUCCEEDED = ("succeeded", "Succeeded", "Every change was written in one transaction.")
    FAILED = ("failed", "Failed", "Nothing was written.")
