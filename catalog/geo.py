"""Country centroids: one point per ISO 3166-1 alpha-2 code, for the world map of transfers.

Offline data (``catalog/data/country_centroids.yaml``) with the date it was checked and where it
came from; nothing is geocoded or fetched. A point is roughly the middle of a country, enough to
draw an arc from one country to another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

import yaml

DATA_FILE = "country_centroids.yaml"


@dataclass(frozen=True)
class Centroid:
    """Where a country's point goes on the map."""

    code: str
    lat: float
    lon: float
    name: str


@dataclass(frozen=True)
class Centroids:
    """Every country's point, with the date the data was checked and its sources."""

    as_of: date
    sources: tuple[str, ...]
    points: dict[str, Centroid]

    def get(self, code: str | None) -> Centroid | None:
        """The point of a country code (any case); None when unknown or empty."""
        return self.points.get((code or "").strip().upper())

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None

    def __len__(self) -> int:
        return len(self.points)


class CentroidDataError(ValueError):
    """The centroid file is malformed (a bad code or a coordinate out of range)."""


def _parse(data: dict) -> Centroids:
    points: dict[str, Centroid] = {}
    for code, entry in (data.get("countries") or {}).items():
        if not isinstance(code, str) or len(code) != 2 or not code.isalpha() or not code.isupper():
            raise CentroidDataError(f"bad country code {code!r} (quote codes: YAML reads NO as false)")
        lat, lon = float(entry["lat"]), float(entry["lon"])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise CentroidDataError(f"{code}: coordinates out of range ({lat}, {lon})")
        points[code] = Centroid(code, lat, lon, str(entry.get("name") or code))
    as_of = data.get("as_of")
    if not isinstance(as_of, date):
        raise CentroidDataError("as_of must be a date")
    sources = tuple(str(s) for s in data.get("sources") or ())
    if not sources:
        raise CentroidDataError("sources must name where the points come from")
    return Centroids(as_of, sources, points)


@lru_cache(maxsize=1)
def load_centroids() -> Centroids:
    """The bundled centroids (read once per process)."""
    text = resources.files("catalog").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text))


__all__ = ["Centroid", "CentroidDataError", "Centroids", "load_centroids"]
