"""Errors that point at the place to fix: file, line, field path, and the nearest valid value.

Every ingest source reports problems as :class:`LocatedError` and fails with :class:`IngestError`
when nothing may be written. Turning a pydantic ``ValidationError`` into located problems is
shared with the rest of the product in :mod:`catalog.specs.problems`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from catalog.specs.problems import (  # noqa: F401  (re-exported for the sources)
    ResolvedPath,
    ValidationProblem,
    did_you_mean,
    format_field_path,
    printable,
    resolve_path,
    validation_problems,
)


@dataclass(frozen=True)
class LocatedError:
    """One problem with where it is (any part may be unknown) and the likely fix.

    ``suggestion`` is a value to write instead, shown as "did you mean"; ``hint`` is advice in
    words (what to do), which reads wrongly as a value.
    """

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    field_path: str = ""
    suggestion: str | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.file is not None:  # a file name from disk may hold bytes that are not UTF-8
            object.__setattr__(self, "file", printable(self.file))

    def __str__(self) -> str:
        place = ""
        if self.file:
            place = self.file
            if self.line is not None:
                place += f":{self.line}"
                if self.column is not None:
                    place += f":{self.column}"
        parts = [part for part in (place, self.field_path) if part]
        prefix = "".join(f"{part}: " for part in parts)
        advice = f"; {self.hint}" if self.hint else ""
        return f"{prefix}{self.message}{did_you_mean(self.suggestion)}{advice}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class IngestError(Exception):
    """The input has problems; the run wrote nothing. Carries every problem found, not just the
    first, and the warnings found on the way when they explain the problem (why nothing was read)."""

    def __init__(self, errors: Iterable[LocatedError], warnings: Iterable[LocatedError] = ()):
        self.errors = list(errors)
        self.warnings = list(warnings)
        if not self.errors:
            raise ValueError("IngestError needs at least one error")
        super().__init__("\n".join(str(error) for error in self.errors))


__all__ = [
    "IngestError",
    "LocatedError",
    "ResolvedPath",
    "ValidationProblem",
    "did_you_mean",
    "format_field_path",
    "resolve_path",
    "validation_problems",
]
