"""Data centres, cloud regions and offices."""

from typing import Literal

from pydantic import Field

from catalog.specs.common import CountryCode, DisplayName, Identifier, Spec


class LocationSpec(Spec):
    """Where data is hosted; its country decides which flows are transfers."""

    id: Identifier
    name: DisplayName = Field(description="Display name, e.g. 'AWS London (eu-west-2)'.")
    provider: str | None = Field(default=None, description="Operator of the site.")
    city: str | None = Field(default=None, description="City.")
    country: CountryCode
    kind: Literal["data_centre", "cloud_region", "office"] = Field(default="data_centre", description="What kind of place it is.")
