"""Private dependencies for the fault tests and the reliability benchmark, on 127.0.0.1.

`PrivatePostgres`, `PrivateRedis` and `Nginx` each run a real server of their own on a free
port, so that a test may stop and restart it without touching the machine's shared ones.
Each is a context manager; `stop()` and `start()` may be called any number of times in
between. A missing binary raises `MissingBinary` (tests turn that into a skip locally and a
failure in CI with `tests.conftest.require`). Importable without pytest.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
import redis

from bgone.db.migrate import upgrade
from tests.api.stack import Server, Stack, free_port

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
REPO = Path(__file__).resolve().parents[2]
NGINX_TEMPLATE = REPO / "deploy" / "nginx.conf"
STARTUP_SECONDS = 30.0


class MissingBinary(RuntimeError):
    """A server binary is not installed (see .ci/run for the packages CI installs)."""


def postgres_available() -> bool:
    return (POSTGRES_BIN / "initdb").exists() and (POSTGRES_BIN / "pg_ctl").exists()


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (str(p) for p in (Path("/usr/sbin/nginx"),) if p.exists()), None
    )


def _wait_for_port(port: int, process: subprocess.Popen[bytes] | None, what: str) -> None:
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


class _Managed:
    """Context-manager plumbing shared by the three servers."""

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


class PrivatePostgres(_Managed):
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


class PrivateRedis(_Managed):
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
        _wait_for_port(self.port, self.process, "redis-server")
        redis.Redis.from_url(self.url, socket_connect_timeout=2).ping()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def render_nginx_config(
    upstreams: list[str], listen: str, runtime_dir: Path, max_body_bytes: int
) -> str:
    servers = "\n        ".join(
        f"server {upstream} max_fails=1 fail_timeout=5s;" for upstream in upstreams
    )
    values = {
        "runtime_dir": str(runtime_dir),
        "listen": listen,
        "upstream_servers": servers,
        "client_max_body_size": str(max_body_bytes),
        "worker_processes": "1",
    }
    lines = []
    for line in NGINX_TEMPLATE.read_text().splitlines():
        if not line.lstrip().startswith("#"):  # the comments name the placeholders
            for name, value in values.items():
                line = line.replace("{{" + name + "}}", value)
            if "{{" in line:
                raise ValueError(f"deploy/nginx.conf: a placeholder left unfilled: {line}")
        lines.append(line)
    return "\n".join(lines) + "\n"


class Nginx(_Managed):
    """Debian's nginx in front of `upstreams` ("127.0.0.1:8001", ...), not daemonised."""

    def __init__(
        self, workdir: Path, upstreams: list[str], max_upload_bytes: int = 25 * 1024 * 1024
    ) -> None:
        binary = nginx_binary()
        if binary is None:
            raise MissingBinary("nginx not found (Debian package nginx; .ci/run installs it)")
        self.binary = binary
        self.port = free_port()
        # Workers drop root; the buffers' directories must be theirs to write.
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="bgone-nginx-"))
        self.runtime_dir.chmod(0o755)
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.runtime_dir / name).mkdir(mode=0o1777)
            (self.runtime_dir / name).chmod(0o1777)
        self.workdir = workdir
        self.config_path = self.runtime_dir / "nginx.conf"
        # The largest body bgone reads (RequestMiddleware): bigger ones stop at nginx.
        max_body = max_upload_bytes * 2 + (1 << 20)
        self.config_path.write_text(
            render_nginx_config(upstreams, f"127.0.0.1:{self.port}", self.runtime_dir, max_body)
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        command = [self.binary, "-p", str(self.runtime_dir), "-c", str(self.config_path)]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected its configuration:\n{check.stderr}")
        self.process = subprocess.Popen(
            [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for_port(self.port, self.process, "nginx")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # fast shutdown of master and workers
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def error_log(self) -> str:
        path = self.runtime_dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        try:
            self.stop()
        finally:
            log = self.error_log()
            if log:
                (self.workdir / f"nginx-{self.port}-error.log").write_text(log)
            shutil.rmtree(self.runtime_dir, ignore_errors=True)


def private_stack(data_dir: Path, model_dir: Path, database_url: str, redis_url: str = "") -> Stack:
    """A `Stack` (tests/api/stack.py) on private servers, its schema migrated."""
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(database_url)
    return Stack("private", data_dir, model_dir, database_url, redis_url)


def start_replicas(stack: Stack, count: int, **settings: str) -> list[Server]:
    """`count` `bgone serve` processes on the same stack (same data directory)."""
    servers: list[Server] = []
    try:
        for _ in range(count):
            servers.append(stack.start_server(**settings))
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


def upstream_of(server: Server) -> str:
    return server.base_url.removeprefix("http://")


def wait_until_healthy(base_url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base_url + "/v2/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{base_url} not healthy in {timeout} s")
