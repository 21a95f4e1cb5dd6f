"""INSERT ... ON CONFLICT, which SQLAlchemy only offers per dialect."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bgone.db.tables import Base

DialectInsert = postgresql.Insert | sqlite.Insert


def dialect_insert(session: Session, table: type[Base]) -> DialectInsert:
    """An INSERT for `table` with `on_conflict_do_nothing` / `on_conflict_do_update`.

    Both dialects spell the clauses the same way, so callers need not know which one is in use.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"bgone supports SQLite and PostgreSQL, not {dialect}")
