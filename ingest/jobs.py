"""Job files: several sources run in order, so cron or Airflow can schedule one refresh.

```yaml
jobs:
  - source: manifest
    path: ./catalog-manifests
  - source: database
    url: postgresql+psycopg://reader@crm-db/crm
    system: crm
```

Every job is checked against its source's options before the first one runs; each job is then its
own run and transaction, and the first failing job stops the rest (what the jobs before it wrote
stays written).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from catalog.suggest import nearest
from ingest.errors import IngestError, LocatedError, format_field_path, validation_problems
from ingest.registry import SOURCE_MODULES, get_source
from ingest.yaml_source import load_yaml


class JobFileError(ValueError):
    """The job file is unreadable or names unknown sources or options; nothing ran."""

    def __init__(self, errors: list[LocatedError]):
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


@dataclass(frozen=True)
class Job:
    """One entry of a job file, and where it is, for messages about its run."""

    number: int  # 1-based, in file order
    source: str
    options: dict[str, Any]
    file: str
    line: int | None

    @property
    def where(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


def load_job_file(path: Path) -> list[Job]:
    """The jobs of a job file, each checked against its source's Config."""
    try:
        document = load_yaml(path)
    except IngestError as problem:
        raise JobFileError(problem.errors) from None
    data, file = document.data, document.file
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list) or set(data) - {"jobs"}:
        raise JobFileError([LocatedError("a job file is a mapping with one key, 'jobs', holding a list", file, document.line_of(()))])
    jobs, problems = [], []
    for index, job in enumerate(data["jobs"]):
        where = document.line_of(("jobs", index))
        if not isinstance(job, dict) or "source" not in job:
            problems.append(LocatedError("each job is a mapping with a 'source' key", file, where, field_path=f"jobs[{index}]"))
            continue
        options = {key: value for key, value in job.items() if key != "source"}
        name = str(job["source"])
        if name not in SOURCE_MODULES:
            problems.append(LocatedError(f"unknown source '{name}'", file, where, field_path=f"jobs[{index}].source", suggestion=nearest(name, SOURCE_MODULES)))
            continue
        try:
            config = get_source(name).source_class.Config
            config.model_validate(options)
        except IngestError as unavailable:
            problems += [LocatedError(e.message, file, where, field_path=f"jobs[{index}]") for e in unavailable.errors]
            continue
        except ValidationError as error:
            for problem in validation_problems(error, config):
                loc = ("jobs", index, *problem.loc)
                problems.append(LocatedError(problem.message, file, document.line_of(loc), field_path=format_field_path(loc), suggestion=problem.suggestion))
            continue
        jobs.append(Job(index + 1, name, options, file, where))
    if problems:
        raise JobFileError(problems)
    if not jobs:
        raise JobFileError([LocatedError("the job file lists no jobs", file, document.line_of(()))])
    return jobs
