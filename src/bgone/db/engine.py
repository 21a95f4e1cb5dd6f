"""Engines and sessions for SQLite (one host) and PostgreSQL (several replicas)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_SECONDS = 3
POSTGRES_POOL_TIMEOUT_SECONDS = 5

SessionFactory = sessionmaker[Session]


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        # Replicas sit behind load balancers and poolers that drop idle connections; a
        # restarted or unreachable server must cost a request seconds, not a hang: bounded
        # connect and pool waits, and keepalives that notice a vanished host.
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_timeout=POSTGRES_POOL_TIMEOUT_SECONDS,
            connect_args={
                "connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS,
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            },
        )
    if url.database and url.database != ":memory:":
        create_private_file(Path(url.database))
    # Threads of one process share pooled connections; SQLite's own locking makes that safe.
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def create_private_file(path: Path) -> None:
    """The database file, created for its owner alone (0600, in a 0700 directory when that
    is new too): it holds key hashes, accounts and usage. SQLite gives its -wal and -shm
    files the database's own permissions; an existing file is left as the operator set it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class WalCheckpointer:
    """Moves SQLite's write-ahead log into the database from a thread of its own.

    By default the commit that crosses 1,000 log pages does that work (and its fsync) on
    the spot, adding milliseconds to one unlucky request. A server turns that off for its
    own connections and checkpoints here, passively, once a second: writers never wait.
    """

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.engine.dialect.name != "sqlite":
            return
        event.listen(self.engine, "connect", _no_auto_checkpoint)
        self.engine.dispose()  # connections made from now on carry the setting
        self._thread = threading.Thread(target=self._run, name="bgone-wal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            try:
                self._checkpoint()
            except Exception as error:  # harmless: SQLite checkpoints the WAL on next open
                log.warning("final WAL checkpoint skipped: %s", error)

    def _checkpoint(self) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._checkpoint()
            except Exception:  # a busy or missing database: try again next time
                continue


def _no_auto_checkpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    finally:
        cursor.close()


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
        # In WAL mode NORMAL syncs at checkpoints instead of every commit: a commit survives
        # a crash of the process, and only an OS crash or power cut can lose the last few.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


READ_ONLY_OPTION = "bgone_read_only"


def _begin_immediate(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY if
    # another writer got in between, whatever the busy timeout. Taking the write lock up
    # front turns that into a wait, at the cost of serialising transactions; SQLite allows
    # a single writer anyway, and PostgreSQL is the answer for more throughput.
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        # Reads take no lock up front: in WAL mode they never wait for the writer, and
        # the writer never waits (nor sleeps in the busy handler) for them.
        connection.exec_driver_sql("BEGIN")
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> SessionFactory:
    # Domain functions return plain dataclasses, so nothing needs reloading after commit.
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_read_session_factory(engine: Engine) -> SessionFactory:
    """Sessions for transactions that only read (on SQLite: a deferred BEGIN)."""
    return sessionmaker(
        bind=engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
    )


@contextmanager
def transaction(sessions: SessionFactory) -> Iterator[Session]:
    """A session in a transaction: committed on success, rolled back on any exception."""
    with sessions() as session, session.begin():
        yield session
