"""Dashboard pages (each a script run by ``st.navigation``) and the wording they share.

Catalogue text reaches the screen only through dataframes, ``st.text``, widgets' option labels
and ``st.code``: never through markdown or HTML, so a name like ``<b>x</b>`` or ``[x](http://…)``
shows as typed.
"""

from __future__ import annotations

from enum import Enum

from catalog.jurisdictions import Regime, load_jurisdictions
from catalog.taxonomy import TaxonomyKind, load_taxonomy
from catalog.vocab import PartyRole, SystemRole

ALL = "All"


def enum_label(enum: type[Enum], value: str | None) -> str:
    """Display label of a stored enum value; the raw value when it is not a member."""
    if value is None:
        return ""
    try:
        member = enum(value)
    except ValueError:
        return str(value)
    return getattr(member, "label", None) or str(member.value)


def country_name(code: str) -> str:
    """'India (IN)': the name people read, with the code filters and exports use."""
    return f"{load_jurisdictions().country_name(code)} ({code})" if code else ""


def regime_label(regime: str) -> str:
    return enum_label(Regime, regime)


def role_label(role: str) -> str:
    """A transfer end's role: our system, a party role, or our role for a system."""
    if role == "system":
        return "Our system"
    if role in PartyRole.choices():
        return enum_label(PartyRole, role)
    return enum_label(SystemRole, role)


def category_label(key: str) -> str:
    return load_taxonomy().label(TaxonomyKind.DATA_CATEGORY, key)


def categories_text(keys) -> str:
    return "; ".join(sorted({category_label(key) for key in keys}, key=str.casefold))
