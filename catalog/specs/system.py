"""Our systems with their datasets and fields."""

from pydantic import Field, model_validator

from catalog.specs.common import DataCategories, DataSubjects, DisplayName, Email, Identifier, Spec
from catalog.vocab import SystemRole, SystemStatus


class FieldSpec(Spec):
    """A column or attribute and the personal data it holds."""

    name: str = Field(min_length=1, description="Column or attribute name; nested fields use dots.")
    data_type: str | None = Field(default=None, description="Declared type, e.g. varchar(255).")
    description: str = Field(default="", description="Meaning of the field.")
    data_categories: DataCategories = Field(default_factory=list, alias="categories")
    pseudonymised: bool = Field(default=False, description="Holds a hash or token instead of the identifier (Article 4(5)).")


class DatasetSpec(Spec):
    """A table, collection or resource inside a system."""

    name: str = Field(min_length=1, description="Name inside the system, e.g. public.customers.")
    description: str = Field(default="", description="What the dataset holds.")
    data_subjects: DataSubjects = Field(default_factory=list)
    retention: str | None = Field(default=None, description="Retention, if it differs from the activity's.")
    fields: list[FieldSpec] = Field(default_factory=list, description="Columns or attributes.")

    @model_validator(mode="after")
    def _unique_fields(self):
        _reject_duplicates([f.name for f in self.fields], "field")
        return self


class SystemSpec(Spec):
    """An application, database or service of ours that processes personal data."""

    id: Identifier
    name: DisplayName = Field(description="Display name.")
    description: str = Field(default="", description="What the system does.")
    owner_team: str = Field(default="", description="Team accountable for the system.")
    owner_email: Email = Field(default="", description="Contact of the owning team.")
    role: SystemRole = Field(default=SystemRole.CONTROLLER, description="Our role for the data it holds: controller or processor.")
    status: SystemStatus = Field(default=SystemStatus.ACTIVE, description="Lifecycle state.")
    hosted_in: list[str] = Field(default_factory=list, description="Location ids where the system runs and stores data.")
    security_measures: list[str] = Field(default_factory=list, description="Technical and organisational measures (Article 32).")
    datasets: list[DatasetSpec] = Field(default_factory=list, description="What the system holds.")

    @model_validator(mode="after")
    def _unique_datasets(self):
        _reject_duplicates([d.name for d in self.datasets], "dataset")
        return self


def _reject_duplicates(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate {what} name '{name}'")
        seen.add(name)
