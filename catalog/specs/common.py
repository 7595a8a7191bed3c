"""Building blocks shared by the specs: ids, countries, taxonomy keys, contacts."""

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from catalog.jurisdictions import load_jurisdictions
from catalog.taxonomy import TaxonomyKind, load_taxonomy


class Spec(BaseModel):
    """Base of every spec: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True, use_enum_values=True)


#: What an id looks like: lower-case letters, digits, '-' and '_'.
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
ID_MAX_LENGTH = 80

Identifier = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN, max_length=ID_MAX_LENGTH),
    Field(description="Lower-case id: letters, digits, '-' and '_'; referenced from other entries."),
]


def slug(text: str, max_length: int = 60) -> str:
    """An Identifier (ID_PATTERN) from free text: deterministic, ASCII, cut at a word
    boundary to at most ``max_length`` (so editing the end of a long purpose keeps the id)."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(character for character in decomposed if not unicodedata.combining(character)).casefold()
    value = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_]+", "-", plain)).strip("-_")
    if len(value) > max_length:
        cut = value[: max_length + 1]
        value = (cut.rsplit("-", 1)[0] if "-" in cut[1:] else cut[:max_length]).strip("-_")
    return value


def unique_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... when taken; adds the result to ``taken``."""
    candidate, counter = base, 1
    while candidate in taken:
        counter += 1
        suffix = f"-{counter}"
        candidate = base[: ID_MAX_LENGTH - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")  # local@localhost is an address too


def _email(value: str) -> str:
    """Blank (not recorded) or one address: a typo here leaves a system or controller unreachable."""
    if value and not _EMAIL.match(value):
        raise ValueError(f"'{value}' is not an email address (the form is name@example.com)")
    return value


#: An email address, or blank when not recorded.
Email = Annotated[str, AfterValidator(_email)]

#: A name shown to people (in the record, the dashboard, the map): never blank.
DisplayName = Annotated[str, StringConstraints(min_length=1)]


def _country(value: str) -> str:
    return load_jurisdictions().normalise_country(value)


def _taxonomy_key(kind: TaxonomyKind):
    """Validate one key, so every bad key of a list is reported with its index."""
    return AfterValidator(lambda value: load_taxonomy().check(kind, value))


CountryCode = Annotated[
    str,
    AfterValidator(_country),
    Field(description="Country as ISO 3166-1 alpha-2 (names and common abbreviations such as UK and USA are accepted and normalised)."),
]
DataCategories = Annotated[list[Annotated[str, _taxonomy_key(TaxonomyKind.DATA_CATEGORY)]], Field(description="Data category keys (fideslang taxonomy or project extension), e.g. user.contact.email.")]
DataUses = Annotated[list[Annotated[str, _taxonomy_key(TaxonomyKind.DATA_USE)]], Field(description="Data use keys (fideslang taxonomy), e.g. essential.service.operations.support.")]
DataSubjects = Annotated[list[Annotated[str, _taxonomy_key(TaxonomyKind.DATA_SUBJECT)]], Field(description="Data subject keys (fideslang taxonomy), e.g. customer, employee.")]


class ContactSpec(Spec):
    """Name and contact details, as Article 30(1)(a) asks for."""

    name: str = Field(description="Person, role or organisation name.")
    address: str = Field(default="", description="Postal address.")
    email: Email = Field(default="", description="Email address.")
    phone: str = Field(default="", description="Telephone number.")
