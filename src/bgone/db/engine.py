"""Engines and sessions for SQLite (one host) and PostgreSQL (several replicas)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000

SessionFactory = sessionmaker[Session]


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        # Replicas sit behind load balancers and poolers that drop idle connections.
        return create_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # Threads of one process share pooled connections; SQLite's own locking makes that safe.
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy (see _begin_immediate); the driver's own
    # implicit BEGIN would also commit silently before DDL, breaking migrations' atomicity.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # First, so that even switching to WAL waits for other processes instead of failing.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL lets readers proceed while one writer writes; it persists in the file.
        cursor.execute("PRAGMA journal_mode=WAL")
        # SQLite ignores foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _begin_immediate(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY if
    # another writer got in between, whatever the busy timeout. Taking the write lock up
    # front turns that into a wait, at the cost of serialising transactions; SQLite allows
    # a single writer anyway, and PostgreSQL is the answer for more throughput.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> SessionFactory:
    # Domain functions return plain dataclasses, so nothing needs reloading after commit.
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: SessionFactory) -> Iterator[Session]:
    """A session in a transaction: committed on success, rolled back on any exception."""
    with sessions() as session, session.begin():
        yield session
