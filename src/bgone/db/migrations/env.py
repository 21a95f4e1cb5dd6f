"""Alembic's entry point. `bgone.db.migrate` passes an open connection in the config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bgone.db.engine import make_engine
from bgone.db.tables import Base

CONNECTION_ATTRIBUTE = "connection"
DATABASE_URL_ATTRIBUTE = "database_url"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead, and is a
        # plain ALTER on PostgreSQL, so generated revisions work on both.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    config = context.config
    connection = config.attributes.get(CONNECTION_ATTRIBUTE)
    if isinstance(connection, Connection):
        _run(connection)
        return
    engine = make_engine(config.attributes[DATABASE_URL_ATTRIBUTE])
    try:
        with engine.connect() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


def run_offline() -> None:
    """`--sql` mode: print the SQL for an operator to review or run by hand."""
    context.configure(
        url=context.config.attributes[DATABASE_URL_ATTRIBUTE],
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
