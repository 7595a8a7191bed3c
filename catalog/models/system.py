"""Our systems, what they hold (datasets and fields) and where they are hosted."""

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from catalog.models.provenance import Provenance, SeenBySource


class System(SeenBySource, table=True):
    """An application, database or service of ours that processes personal data."""

    __tablename__ = "system"

    id: str = Field(primary_key=True, max_length=80, description="Short id used in references, e.g. crm.")
    name: str = Field(max_length=300, description="Display name.")
    description: str = Field(default="", max_length=4000, description="What the system does.")
    owner_team: str = Field(default="", max_length=200, description="Team accountable for the system.")
    owner_email: str = Field(default="", max_length=300, description="Contact of the owning team.")
    role: str = Field(default="controller", max_length=20, description="SystemRole: controller or processor.")
    status: str = Field(default="active", max_length=20, description="SystemStatus.")
    security_measures: list[str] = Field(default_factory=list, sa_type=JSON, description="Technical and organisational measures (Article 32).")


class SystemLocation(SQLModel, table=True):
    """Hosting: a system runs in a location (possibly several)."""

    __tablename__ = "system_location"

    system_id: str = Field(foreign_key="system.id", primary_key=True, ondelete="CASCADE")
    location_id: str = Field(foreign_key="location.id", primary_key=True)


class Dataset(Provenance, table=True):
    """A table, collection, file set or API resource inside a system."""

    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("system_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    system_id: str = Field(foreign_key="system.id", ondelete="CASCADE", description="Owning system.")  # indexed by the unique (system_id, name)
    name: str = Field(max_length=300, description="Name inside the system, e.g. public.customers.")
    description: str = Field(default="", max_length=4000, description="What the dataset holds.")
    data_subjects: list[str] = Field(default_factory=list, sa_type=JSON, description="Data subject keys (fideslang) the records are about.")
    retention: str | None = Field(default=None, max_length=1000, description="Retention of this dataset, if it differs from the activity's.")


class DataField(Provenance, table=True):
    """A column or attribute, with the personal-data categories it holds."""

    __tablename__ = "data_field"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = Field(foreign_key="dataset.id", ondelete="CASCADE", description="Owning dataset.")  # indexed by the unique (dataset_id, name)
    name: str = Field(max_length=300, description="Column or attribute name; nested fields use dots.")
    data_type: str | None = Field(default=None, max_length=100, description="Declared type.")
    description: str = Field(default="", max_length=4000, description="Meaning of the field.")
    data_categories: list[str] = Field(default_factory=list, sa_type=JSON, description="Data category keys (fideslang or project extension).")
    pseudonymised: bool = Field(default=False, description="Holds a hash or token instead of the identifier (Article 4(5)).")
