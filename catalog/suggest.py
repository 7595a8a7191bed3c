"""'Did you mean …?' for every place that rejects a mistyped value."""

import difflib
from collections.abc import Iterable
from typing import Any


def nearest(value: Any, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest candidate to a mistyped value, or None when nothing is close."""
    match = difflib.get_close_matches(str(value), list(candidates), n=1, cutoff=cutoff)
    return match[0] if match else None
