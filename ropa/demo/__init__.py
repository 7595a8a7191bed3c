"""Demo organisation of the ROPA catalogue: Kanj Technologies Ltd as catalog-as-code manifests.

The manifests in ``kanj/`` are derived from Kanj Technologies' published privacy policy; each
entry carries a YAML comment quoting the sentence it comes from. Where the policy is silent and an
IT services firm obviously has something (a bank, a colocation rack), the entry is marked
"assumed" so a reviewer can tell record from illustration.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["demo_manifest_dir"]


def demo_manifest_dir() -> Path:
    """The directory holding the Kanj Technologies manifests (``*.yml``, ``systems/*.yml``)."""
    traversable = resources.files(__name__).joinpath("kanj")
    if isinstance(traversable, Path):
        return traversable
    return Path(__file__).resolve().parent / "kanj"  # pragma: no cover - zipped installs only
