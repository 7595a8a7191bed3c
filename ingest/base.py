"""What every ingest source is: a name, a typed configuration, and a run that yields a report.

Modelled on DataHub's metadata-ingestion, kept small: a source reads its input into a
``CatalogSpec`` and writes it with :func:`apply_and_report`, one transaction per run. A run that
finds problems raises :class:`ingest.errors.IngestError` and writes nothing.
"""

from __future__ import annotations

import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from sqlmodel import Session

from catalog.apply import ApplyResult, Loc, ReferenceErrors, apply_spec
from catalog.collector import collector_paused
from catalog.specs import CatalogSpec
from catalog.store import Catalog, mask_url
from catalog.vocab import RunStatus
from ingest.errors import IngestError, LocatedError, format_field_path, printable


class SourceConfig(BaseModel):
    """Options of one source. Unknown options are errors; every field needs a description,
    because the registry shows them as the source's documented options."""

    model_config = ConfigDict(extra="forbid")

    allow_empty: bool = Field(
        default=False,
        description="Accept an input that yields no entries, and so retire everything this source asserted before "
        "(refused otherwise: an empty or wrong input is far more often a mistake than the end of everything).",
    )


def option_fields(config: type[SourceConfig]) -> list[tuple[str, FieldInfo]]:
    """A Config's fields in the order shown (help, ``ropa sources``): the source's own first, then
    the options every source has."""
    fields = list(config.model_fields.items())
    return [item for item in fields if item[0] not in SourceConfig.model_fields] + [item for item in fields if item[0] in SourceConfig.model_fields]


@dataclass
class IngestReport:
    """What one run did, for the CLI, the dashboard and the audit log."""

    source: str
    target: str
    status: RunStatus = RunStatus.SUCCEEDED
    run_id: int | None = None
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    conflicts: int = 0
    warnings: list[LocatedError] = field(default_factory=list)
    errors: list[LocatedError] = field(default_factory=list)
    duration_seconds: float = 0.0
    changes: list[str] = field(default_factory=list)

    @classmethod
    def failed(cls, source: str, target: str, error: IngestError, duration_seconds: float = 0.0) -> IngestReport:
        """The report of a run that wrote nothing, for callers that show failures as reports."""
        return cls(source, target, RunStatus.FAILED, errors=list(error.errors), warnings=list(error.warnings), duration_seconds=duration_seconds)

    def summary(self) -> str:
        """A few lines for a terminal: outcome, counts, then each warning and error with its place."""
        run = f" as run {self.run_id}" if self.run_id is not None else ""
        lines = [f"{self.source} {self.target}: {self.status.value}{run} in {self.duration_seconds:.2f}s"]
        if self.status == RunStatus.SUCCEEDED:
            lines.append(
                f"  {self.read} read, {self.added} added, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.retired} retired"
                + (f", {self.conflicts} conflict(s) kept for review" if self.conflicts else "")
            )
        else:
            lines.append(f"  nothing written: {len(self.errors)} error(s)")
        lines += [f"  warning: {warning}" for warning in self.warnings]
        lines += [f"  error: {error}" for error in self.errors]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: plain strings, numbers and lists."""
        return {
            "source": self.source, "target": self.target, "status": self.status.value, "run_id": self.run_id,
            "read": self.read, "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "retired": self.retired, "conflicts": self.conflicts, "warnings": [w.as_dict() for w in self.warnings],
            "errors": [e.as_dict() for e in self.errors], "duration_seconds": self.duration_seconds,
            "changes": list(self.changes),
        }


class Source(ABC):
    """An ingest source. Subclasses set ``name``, ``description`` and a nested ``Config``."""

    name: ClassVar[str]
    description: ClassVar[str]
    Config: ClassVar[type[SourceConfig]] = SourceConfig

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls):
            return
        if not getattr(cls, "name", "") or not getattr(cls, "description", ""):
            raise TypeError(f"source {cls.__qualname__} needs a name and a description")
        undocumented = [name for name, info in cls.Config.model_fields.items() if not info.description]
        if undocumented:
            raise TypeError(f"source {cls.name}: option(s) {', '.join(undocumented)} need a description")

    @abstractmethod
    def run(self, catalog: Catalog, config: SourceConfig, actor: str = "") -> IngestReport:
        """Read the input and write it as one run; raise IngestError (writing nothing) on problems."""


def count_entries(spec: CatalogSpec) -> int:
    """Entries a spec asserts: organisation, locations, parties, systems, datasets, fields, activities, flows, field lineage."""
    datasets = [dataset for system in spec.systems for dataset in system.datasets]
    return (
        (spec.organisation is not None) + len(spec.locations) + len(spec.parties) + len(spec.systems)
        + len(datasets) + sum(len(dataset.fields) for dataset in datasets) + len(spec.activities) + len(spec.flows)
        + len(spec.field_lineage)
    )


def nothing_to_ingest(target: str, source: str, would_retire: int, warnings: list[LocatedError]) -> IngestError:
    """The refusal of an input that yields no entries, saying what writing it would have retired."""
    if would_retire:
        message = f"nothing to ingest in {target}: no entries read, so this run would retire the {would_retire} entries earlier {source} runs asserted"
        hint = "check the input; to retire them all, run again with --allow-empty (allow_empty: true in a job file)"
    else:
        message = f"nothing to ingest in {target}: no entries read"
        hint = "check the input, or pass --allow-empty (allow_empty: true in a job file) to record an empty run"
    return IngestError([LocatedError(message, hint=hint)], warnings=warnings)


def apply_and_report(
    catalog: Catalog,
    spec: CatalogSpec,
    *,
    source: str,
    target: str,
    actor: str = "",
    source_refs: Mapping[Loc, str] | None = None,
    warnings: Iterable[LocatedError] = (),
    complete: bool = True,
    started: float | None = None,
    after_apply: Callable[[Session, ApplyResult], None] | None = None,
    allow_empty: bool = False,
    anchors: int = 0,
) -> IngestReport:
    """Write ``spec`` as one run in one transaction and report it; the one way sources write.

    ``started`` is the ``time.monotonic()`` at which the source began reading, so the duration
    covers reading as well as writing. Dangling references become an IngestError.
    ``after_apply`` runs inside the same transaction with the run's result, for what a source
    writes beside the spec (discovery's category suggestions).

    A spec with no entries read from the input is refused unless ``allow_empty``: written, it
    would retire everything the source asserted before, which an empty or mistyped input almost
    never means. ``anchors`` counts the entries the spec only repeats from the catalogue so its
    references resolve (the system a database belongs to, the processor of a vendor list).
    """
    started = time.monotonic() if started is None else started
    warnings = list(warnings)
    target = printable(mask_url(target))  # a URL's credentials never reach the run record
    empty = count_entries(spec) - anchors <= 0 and not allow_empty
    try:
        with collector_paused(), catalog.session() as session:
            result = apply_spec(
                session, spec, source=source, target=target, actor=actor, source_refs=source_refs, complete=complete,
            )
            if empty:  # raised inside the transaction, which rolls back, so the report can say what would go
                raise nothing_to_ingest(target, source, result.retired, warnings)
            result.run.warnings = [str(warning) for warning in warnings]
            if after_apply is not None:
                after_apply(session, result)
    except ReferenceErrors as error:
        raise IngestError(
            LocatedError(problem.message, field_path=format_field_path(problem.loc), suggestion=problem.suggestion)
            for problem in error.problems
        ) from error
    return IngestReport(
        source=source, target=target, status=RunStatus.SUCCEEDED, run_id=result.run.id, read=count_entries(spec),
        added=result.added, updated=result.updated, unchanged=result.unchanged, retired=result.retired, conflicts=result.conflicts,
        warnings=warnings, duration_seconds=time.monotonic() - started, changes=list(result.changes),
    )
