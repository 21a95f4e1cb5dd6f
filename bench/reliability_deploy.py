"""The deployment the reliability benchmark runs against, all on 127.0.0.1.

A private PostgreSQL cluster and a private Redis (tests/hardening/services.py), two
`bgone serve` replicas on them, and Debian's nginx in front (deploy/nginx.conf). Replicas are
started on fixed ports so that one can be killed and brought back behind the same nginx
upstream. Every process started here is stopped by its pid when the context exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.api.stack import Server, Stack, free_port
from tests.hardening.cases import SERVER_SETTINGS
from tests.hardening.services import Nginx, PrivatePostgres, PrivateRedis, private_stack

READY_SECONDS = 60.0


@dataclass
class Replica:
    port: int
    log_path: Path
    server: Server

    @property
    def pid(self) -> int:
        return self.server.process.pid

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def alive(self) -> bool:
        return self.server.process.poll() is None


@dataclass
class Deployment:
    postgres: PrivatePostgres
    redis: PrivateRedis
    stack: Stack
    replicas: list[Replica]
    nginx: Nginx
    settings: dict[str, str]

    @property
    def base_url(self) -> str:
        return self.nginx.base_url

    def start_replica(self, port: int) -> Replica:
        """`bgone serve` on `port` (again, after a kill), waiting until it is ready."""
        log_path = self.stack.data_dir / f"replica-{port}.log"
        env = {
            **self.stack.env,
            **{f"BGONE_{name.upper()}": value for name, value in self.settings.items()},
        }
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bgone", "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        replica = Replica(port, log_path, Server(process, f"http://127.0.0.1:{port}", log_path))
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"replica exited early:\n{replica.server.log()[-3000:]}")
            try:
                if httpx.get(replica.base_url + "/readyz", timeout=1).status_code == 200:
                    return replica
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        stop_process(process)
        raise RuntimeError(f"replica not ready in {READY_SECONDS} s")

    def replace(self, index: int) -> Replica:
        """Bring replica `index` back on its port once its process has ended."""
        old = self.replicas[index]
        stop_process(old.server.process)
        self.replicas[index] = self.start_replica(old.port)
        return self.replicas[index]

    def signal_replica(self, index: int, signal_number: int) -> None:
        os.kill(self.replicas[index].pid, signal_number)


def stop_process(process: subprocess.Popen[bytes], grace_seconds: float = 30.0) -> None:
    """SIGTERM by pid, then SIGKILL if it does not end within the grace period."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def deployment(workdir: Path, model_dir: Path, replicas: int = 2) -> Iterator[Deployment]:
    with ExitStack() as cleanup:
        postgres = cleanup.enter_context(PrivatePostgres(workdir))
        redis_server = cleanup.enter_context(PrivateRedis(workdir))
        stack = private_stack(workdir / "data", model_dir, postgres.url, redis_server.url)
        cleanup.callback(lambda: stack.sessions.kw["bind"].dispose())
        # The battery's byte limit (1 MiB), so that over-limit bodies stay cheap to send.
        settings = {**SERVER_SETTINGS, "intra_op_threads": "1"}
        ports = [free_port() for _ in range(replicas)]
        nginx = Nginx(
            workdir,
            [f"127.0.0.1:{port}" for port in ports],
            max_upload_bytes=int(SERVER_SETTINGS["max_upload_bytes"]),
        )
        deployed = Deployment(postgres, redis_server, stack, [], nginx, settings)

        def stop_replicas() -> None:
            for replica in deployed.replicas:
                stop_process(replica.server.process)

        cleanup.callback(stop_replicas)
        for port in ports:
            deployed.replicas.append(deployed.start_replica(port))
        cleanup.enter_context(nginx)
        yield deployed
