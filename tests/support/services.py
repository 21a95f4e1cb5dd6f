"""Private dependencies for the fault tests and the reliability benchmark, on 127.0.0.1.

`PrivatePostgres`, `PrivateRedis` (and `Nginx`, in tests/support/nginx.py) each run a real
server of their own on a free port, so that a test may stop and restart it without touching
the machine's shared ones. Each is a context manager; `stop()` and `start()` may be called
any number of times in between. A missing binary raises `MissingBinary` (tests turn that into
a skip locally and a failure in CI with `tests.support.environment.require`). `private_stack` and
`running_replicas` put `bgone serve` processes on them. Importable without pytest.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

import redis

from bgone.db.migrate import upgrade
from tests.support.stack import Server, Stack, free_port, stop_process

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
STARTUP_SECONDS = 30.0


class MissingBinary(RuntimeError):
    """A server binary is not installed (see .ci/run for the packages CI installs)."""


def postgres_available() -> bool:
    return (POSTGRES_BIN / "initdb").exists() and (POSTGRES_BIN / "pg_ctl").exists()


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, what: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} in {STARTUP_SECONDS} s")


class Managed:
    """Context-manager plumbing shared by the private servers."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class PrivatePostgres(Managed):
    """A throw-away PostgreSQL cluster: trust auth, TCP on 127.0.0.1 only, no fsync."""

    def __init__(self, workdir: Path) -> None:
        if not postgres_available():
            raise MissingBinary(f"PostgreSQL 15 binaries not found in {POSTGRES_BIN}")
        self.workdir = workdir
        self.port = free_port()
        # PostgreSQL refuses to run as root: as root, the cluster belongs to `postgres`, in a
        # directory of its own (pytest's temporary directories are private to root).
        self._as_root = os.geteuid() == 0
        self.cluster_dir = Path(tempfile.mkdtemp(prefix="bgone-pg-"))
        self.data_dir = self.cluster_dir / "data"
        self.log_path = self.cluster_dir / "postgres.log"
        self._initialised = False
        self._running = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        result = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=STARTUP_SECONDS * 2
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def _initialise(self) -> None:
        if self._as_root:
            self.cluster_dir.chmod(0o755)
            shutil.chown(self.cluster_dir, "postgres", "postgres")
        self._run(
            str(POSTGRES_BIN / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
            "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.cluster_dir}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 200\n"
            )
        self._initialised = True

    def start(self) -> None:
        if self._running:
            return
        if not self._initialised:
            self._initialise()
        pg_ctl = str(POSTGRES_BIN / "pg_ctl")
        self._run(pg_ctl, "-D", str(self.data_dir), "-l", str(self.log_path), "-w", "start")
        self._running = True

    def stop(self) -> None:
        """Fast shutdown: open sessions are ended, as when an operator restarts the server."""
        if not self._running:
            return
        pg_ctl = str(POSTGRES_BIN / "pg_ctl")
        self._run(pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        self._running = False

    def close(self) -> None:
        try:
            self.stop()
        finally:
            if self.log_path.exists():
                shutil.copy(self.log_path, self.workdir / f"postgres-{self.port}.log")
            shutil.rmtree(self.cluster_dir, ignore_errors=True)


class PrivateRedis(Managed):
    """redis-server without persistence, as a child process."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise MissingBinary("redis-server not found (Debian package redis-server)")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        with (self.workdir / f"redis-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
                ],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for_port(self.port, self.process, "redis-server")
        redis.Redis.from_url(self.url, socket_connect_timeout=2).ping()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace_seconds=10)


@contextmanager
def private_stack(
    data_dir: Path, model_dir: Path, database_url: str, redis_url: str = ""
) -> Iterator[Stack]:
    """A `Stack` (tests/support/stack.py) on private servers, its schema migrated; its engine's
    connections are closed on exit, before the database they point at goes away."""
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(database_url)
    stack = Stack("private", data_dir, model_dir, database_url, redis_url)
    try:
        yield stack
    finally:
        stack.sessions.kw["bind"].dispose()


@contextmanager
def running_replicas(stack: Stack, count: int, **settings: str) -> Iterator[list[Server]]:
    """`count` `bgone serve` processes on the same stack (same data directory) with BGONE_
    `settings`, stopped on exit."""
    servers: list[Server] = []
    try:
        for _ in range(count):
            servers.append(stack.start_server(**settings))
        yield servers
    finally:
        for server in servers:
            server.stop()
