"""Alembic environment: runs against the engine handed over by catalog.store."""

from alembic import context
from sqlmodel import SQLModel

import catalog.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata
config = context.config


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from catalog.store import make_engine, resolve_database_url

        engine = make_engine(resolve_database_url(config.get_main_option("sqlalchemy.url")))
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations()
