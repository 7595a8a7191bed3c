"""Validation problems a person can act on: the path in the input, a message, the nearest valid value.

Shared by every way input reaches the catalogue (manifests, ingest sources, the registration form):
:func:`validation_problems` turns a pydantic ``ValidationError`` on a spec into problems keyed by
the input's own keys (YAML aliases), with suggestions for unknown keys, enum values, taxonomy keys
and countries.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from catalog.specs.common import slug
from catalog.suggest import nearest
from catalog.taxonomy import UnknownTaxonomyKey

Loc = tuple[str | int, ...]


def printable(text: str) -> str:
    """``text`` as it can be shown and stored: a file name's bytes that are not UTF-8 (which Python
    keeps as lone surrogates, and which a database or a terminal refuses) become ``\\xff`` escapes."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that does not stand for a byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def format_field_path(loc: Loc) -> str:
    """``('systems', 2, 'datasets', 0)`` -> ``systems[2].datasets[0]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def did_you_mean(suggestion: str | None) -> str:
    """The hint appended to a message, in the one wording used everywhere."""
    return f" (did you mean '{suggestion}'?)" if suggestion else ""


@dataclass(frozen=True)
class ValidationProblem:
    """A validation error keyed by its path in the input (keys as the input wrote them)."""

    loc: Loc
    message: str
    suggestion: str | None = None


def _types_in(annotation: Any) -> list[Any]:
    """The annotation and every type nested in it (list[X], X | None, Annotated[X, ...])."""
    found = [annotation]
    for arg in get_args(annotation):
        found.extend(_types_in(arg))
    return found


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for candidate in _types_in(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _allowed_values(annotation: Any) -> list[str]:
    """Values of the enum or Literal a field takes, for 'did you mean'."""
    for candidate in _types_in(annotation):
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return [str(member.value) for member in candidate]
        if get_origin(candidate) is Literal:
            return [str(value) for value in get_args(candidate)]
    return []


def _field_named(model: type[BaseModel], key: Any) -> tuple[str, FieldInfo] | None:
    """The field a key names, by field name or by alias."""
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return name, info
    return None


def _yaml_key(name: str, info: FieldInfo) -> str:
    """The key a manifest writes for a field: its alias if it has one."""
    return info.alias or name


@dataclass(frozen=True)
class ResolvedPath:
    """A path followed through the models: keys converted to aliases, and what it ends at."""

    loc: Loc
    model: type[BaseModel] | None  # the model the path points into (None past a scalar or unknown key)
    field: FieldInfo | None  # the field of the last key (of the list, when the path ends in an index)


def resolve_path(model: type[BaseModel], loc: Loc) -> ResolvedPath:
    """Follow ``loc`` through nested models, converting field names to the aliases the input uses."""
    current: type[BaseModel] | None = model
    field: FieldInfo | None = None
    converted: list[str | int] = []
    for part in loc:
        if isinstance(part, int):
            converted.append(part)
            continue
        named = _field_named(current, part) if current is not None else None
        if named is None:
            converted.append(part)
            current, field = None, None
            continue
        name, field = named
        converted.append(_yaml_key(name, field))
        current = _model_in(field.annotation)
    return ResolvedPath(tuple(converted), current, field)


_TRAILING_HINT = re.compile(r"\s*\(did you mean [^()]*\)$")


def _strip_hint(message: str, suggestion: str | None) -> str:
    """Messages from catalog helpers end with their own hint; LocatedError adds it once, in one wording."""
    return _TRAILING_HINT.sub("", message) if suggestion else message


def _fitting_id(given: Any, pattern: str) -> str | None:
    """``given`` made into an id the pattern takes ('Bad ID!' -> 'bad-id'), when that works."""
    if not isinstance(given, str):
        return None
    candidate = slug(given)
    return candidate if candidate and re.fullmatch(pattern, candidate) else None


def validation_problems(error: ValidationError, model: type[BaseModel]) -> list[ValidationProblem]:
    """Every error of a failed ``model.model_validate``, with a message and suggestion a person can act on.

    Unknown keys suggest the nearest valid key, enum and literal values the nearest allowed value,
    taxonomy and country errors pass their own suggestion through. An unknown taxonomy key in a
    list is located at its item, not at the list.
    """
    problems: list[ValidationProblem] = []
    for detail in error.errors():
        loc: Loc = tuple(detail["loc"])
        kind, given = detail["type"], detail.get("input")
        cause = (detail.get("ctx") or {}).get("error")
        suggestion: str | None = None
        if kind == "extra_forbidden":
            owner = resolve_path(model, loc[:-1]).model
            keys = [_yaml_key(name, info) for name, info in owner.model_fields.items()] if owner else []
            message, suggestion = f"unknown key '{loc[-1]}'", nearest(loc[-1], keys)
        elif kind in ("enum", "literal_error"):
            field = resolve_path(model, loc).field
            allowed = _allowed_values(field.annotation) if field else []
            message = f"invalid value '{given}': expected {detail['ctx']['expected']}"
            suggestion = nearest(given, allowed)
        elif kind == "missing":
            message = f"missing required key '{loc[-1]}'"
        elif kind == "string_pattern_mismatch":
            field = resolve_path(model, loc).field
            rule = f": {field.description}" if field is not None and field.description else f" (pattern {detail['ctx']['pattern']})"
            message = f"'{given}' is not of the form this key takes{rule}"
            suggestion = _fitting_id(given, detail["ctx"]["pattern"])
        elif kind == "string_too_short" and detail.get("ctx", {}).get("min_length") == 1:
            message = f"'{loc[-1]}' must not be blank"
        elif isinstance(cause, Exception):
            suggestion = getattr(cause, "suggestion", None)
            message = _strip_hint(str(cause), suggestion)
            if isinstance(cause, UnknownTaxonomyKey) and isinstance(given, list) and cause.key in given:
                loc = (*loc, given.index(cause.key))
        else:
            message = detail["msg"]
        problems.append(ValidationProblem(loc, message, suggestion))
    return problems
