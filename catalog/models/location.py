"""Where data is held: data centres, cloud regions, offices."""

from sqlmodel import Field

from catalog.models.provenance import SeenBySource


class Location(SeenBySource, table=True):
    """A data centre, cloud region or office; its country decides transfers."""

    __tablename__ = "location"

    id: str = Field(primary_key=True, max_length=80, description="Short id, e.g. aws-eu-west-2.")
    name: str = Field(max_length=300, description="Display name.")
    provider: str | None = Field(default=None, max_length=200, description="Operator of the site, e.g. Amazon Web Services.")
    city: str | None = Field(default=None, max_length=200, description="City.")
    country: str = Field(max_length=4, description="ISO 3166-1 alpha-2.")
    kind: str = Field(default="data_centre", max_length=40, description="data_centre, cloud_region or office.")
