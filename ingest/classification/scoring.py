"""One score per column and category, from its name and a sample of its values.

The name says what a column is meant to hold; the sample says what it holds. A name that the
values confirm scores near 1; a name alone (empty table, or sampling turned off) scores its
rule's strength; a name the values contradict scores lower; values alone count only for
recognisers strict enough to decide by themselves (check digits, fixed formats) and only when
most of the sample matches. Only evidence leaves this module: which recogniser, the share of the
non-null sample that matched, the sample size and the name tokens matched; never a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from catalog.suggestions import SuggestionInput
from ingest.classification.recognisers import Recogniser, normalise_value
from ingest.classification.rules import CANCELLED, NAME_RULES, PERSON_TABLE_TOKENS, NameRule, TypeFamily, match_name
from ingest.classification.tokens import name_tokens, singular

#: Share of the non-null sample that must match for values alone to suggest a category.
MIN_SHARE_ALONE = 0.8
#: Non-null values needed before values alone may suggest, or may contradict a name.
MIN_VALUES_ALONE = 3
MIN_VALUES_TO_CONTRADICT = 5
#: Below this share the values contradict the column name.
CONTRADICTING_SHARE = 0.2
CONTRADICTED_FACTOR = 0.6
#: Values tried first when a high share is needed, and how many of them may miss beyond the share.
PROBE_SIZE = 10
PROBE_SLACK = 2

#: Types that never hold an identifier, whatever the name says (``email_verified BOOLEAN``).
NEVER_PERSONAL = frozenset({TypeFamily.BOOLEAN, TypeFamily.BINARY})


@dataclass(frozen=True)
class Candidate:
    category: str
    score: float
    recogniser: str
    evidence: dict


class _Sample:
    """The non-null sample and the share each recogniser matches, computed once per recogniser."""

    def __init__(self, values: Sequence[object]):
        self.size = len(values)
        normalised = (normalise_value(value) for value in values)
        self.values = [value for value in normalised if value is not None]
        self._shares: dict[str, float] = {}

    def share(self, recogniser: Recogniser, at_least: float = 0.0) -> float:
        """Share of non-null values that match; stops early (returning 0) once ``at_least`` is out of reach.

        When a high share is needed, the first few values are tried first: a column of order
        references is given up after a handful of values instead of a fifth of the sample.
        """
        if recogniser.name in self._shares:
            return self._shares[recogniser.name]
        probe = self.values[:PROBE_SIZE]
        if at_least and len(probe) == PROBE_SIZE and sum(map(recogniser.matches, probe)) < at_least * PROBE_SIZE - PROBE_SLACK:
            return 0.0
        total = len(self.values)
        allowed_misses = total - at_least * total
        matched = misses = 0
        for value in self.values:
            if recogniser.matches(value):
                matched += 1
            else:
                misses += 1
                if misses > allowed_misses:
                    return 0.0
        self._shares[recogniser.name] = matched / total if total else 0.0
        return self._shares[recogniser.name]


def _is_person_table(table_name: str) -> bool:
    return any(singular(token) in PERSON_TABLE_TOKENS for token in name_tokens(table_name))


def _evidence(rule: NameRule, sample: _Sample, tokens: tuple[str, ...] | None, share: float | None, **extra) -> dict:
    evidence = {
        "recogniser": rule.recogniser.name, "name_tokens": list(tokens or ()), "sample_size": sample.size,
        "non_null": len(sample.values),
    }
    if share is not None:
        evidence["matched_share"] = round(share, 4)
    evidence.update(extra)
    return evidence


def _score_rule(rule: NameRule, tokens: tuple[str, ...], type_family: str, sample: _Sample, person_table: bool) -> Candidate | None:
    matched = match_name(tokens, rule)
    if matched == CANCELLED:
        return None
    if matched is not None and rule.needs_person_table and not person_table:
        matched = None
    recogniser = rule.recogniser
    if matched is not None:
        if not sample.values:
            return Candidate(rule.category, rule.strength, f"column-name:{recogniser.name}", _evidence(rule, sample, matched, None))
        share = sample.share(recogniser)
        if share >= 0.5:
            score, kind, extra = rule.strength + (1 - rule.strength) * share, "column-name+values", {}
        elif share < CONTRADICTING_SHARE and len(sample.values) >= MIN_VALUES_TO_CONTRADICT and type_family != TypeFamily.NUMBER:
            score, kind, extra = rule.strength * CONTRADICTED_FACTOR, "column-name", {"values_contradict_name": True}
        else:  # a few odd values, or a number type that lost the written format (leading 0, +)
            score, kind, extra = rule.strength, "column-name", {}
        return Candidate(rule.category, score, f"{kind}:{recogniser.name}", _evidence(rule, sample, matched, share, **extra))
    if recogniser.alone and len(sample.values) >= MIN_VALUES_ALONE:
        share = sample.share(recogniser, at_least=MIN_SHARE_ALONE)
        if share >= MIN_SHARE_ALONE:
            return Candidate(rule.category, recogniser.alone * share, f"values:{recogniser.name}", _evidence(rule, sample, None, share))
    return None


def classify_column(name: str, type_family: str, values: Sequence[object], table_name: str = "") -> list[SuggestionInput]:
    """The category a column most likely holds (at most one), with its score and evidence.

    ``values`` is a sample held in memory only for this call; nothing derived from it but counts
    is returned.
    """
    if type_family in NEVER_PERSONAL:
        return []
    tokens = name_tokens(name)
    sample = _Sample(values)
    person_table = _is_person_table(table_name)
    best: Candidate | None = None
    for rule in NAME_RULES:
        if type_family not in rule.types:
            continue
        candidate = _score_rule(rule, tokens, type_family, sample, person_table)
        if candidate is None or candidate.score < rule.min_score:
            continue
        if candidate.score > rule.max_score:
            candidate = Candidate(candidate.category, rule.max_score, candidate.recogniser, candidate.evidence)
        if best is None or candidate.score > best.score:
            best = candidate
    if best is None:
        return []
    return [SuggestionInput(best.category, round(best.score, 4), best.recogniser, best.evidence)]
