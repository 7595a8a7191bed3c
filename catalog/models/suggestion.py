"""Categories suggested by discovery, waiting for a person to confirm or reject them."""

from datetime import datetime

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field

from catalog.models.provenance import Provenance


class CategorySuggestion(Provenance, table=True):
    """A data category a recogniser suggests for a field, with the evidence (never sampled values).

    Confirming adds the category to the field; a rejected suggestion is never suggested again;
    a re-run re-evaluates the ones still only suggested.
    """

    __tablename__ = "category_suggestion"
    __table_args__ = (UniqueConstraint("field_id", "category"),)

    id: int | None = Field(default=None, primary_key=True)
    field_id: int = Field(foreign_key="data_field.id", ondelete="CASCADE", description="The field.")  # indexed by the unique (field_id, category)
    category: str = Field(max_length=200, description="Suggested data category key.")
    score: float = Field(description="Confidence from 0 to 1.")
    recogniser: str = Field(max_length=100, description="What recognised it, e.g. column-name:email, values:luhn.")
    evidence: dict = Field(default_factory=dict, sa_type=JSON, description="Why: name tokens matched, share of the sample that matched, sample size.")
    status: str = Field(default="suggested", max_length=20, description="suggested, confirmed or rejected.")
    decided_by: str | None = Field(default=None, max_length=200, description="Who confirmed or rejected it.")
    decided_at: datetime | None = Field(default=None, description="When (UTC).")
