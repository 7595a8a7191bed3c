"""Write a new migration from the difference between the models and a catalogue at head.

Usage: python -m catalog.migrations.autogen "what changed"
Review the generated file before committing it: autogenerate misses renames and data moves.
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from catalog.store import alembic_config, init_catalog


def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        catalog = init_catalog(f"sqlite:///{Path(tmp) / 'autogen.db'}")
        versions = Path(__file__).parent / "versions"
        number = len(list(versions.glob("[0-9]*.py"))) + 1
        config = alembic_config(catalog.engine)
        command.revision(config, message=message, autogenerate=True, rev_id=f"{number:04d}")
        catalog.dispose()


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "schema change")
