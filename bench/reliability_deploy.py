"""The deployment the reliability benchmark runs against, all on 127.0.0.1.

A private PostgreSQL cluster and a private Redis (tests/support/services.py), two
`bgone serve` replicas on them, and Debian's nginx in front (tests/support/nginx.py,
deploy/nginx.conf). Replicas are started on fixed ports so that one can be killed and
brought back behind the same nginx upstream. Every process started here is stopped by its
pid when the context exits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.cases import SERVER_SETTINGS
from tests.support.nginx import REPLICA_SETTINGS, Nginx
from tests.support.services import PrivatePostgres, PrivateRedis, private_stack
from tests.support.stack import Server, Stack, free_port, stop_process


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
        return Replica(port, log_path, self.stack.start_server_on(port, log_path, self.settings))

    def replace(self, index: int) -> Replica:
        """Bring replica `index` back on its port once its process has ended."""
        old = self.replicas[index]
        stop_process(old.server.process)
        self.replicas[index] = self.start_replica(old.port)
        return self.replicas[index]

    def signal_replica(self, index: int, signal_number: int) -> None:
        os.kill(self.replicas[index].pid, signal_number)


@contextmanager
def deployment(workdir: Path, model_dir: Path, replicas: int = 2) -> Iterator[Deployment]:
    with ExitStack() as cleanup:
        postgres = cleanup.enter_context(PrivatePostgres(workdir))
        redis_server = cleanup.enter_context(PrivateRedis(workdir))
        stack = cleanup.enter_context(
            private_stack(workdir / "data", model_dir, postgres.url, redis_server.url)
        )
        # The battery's byte limit (1 MiB), so that over-limit bodies stay cheap to send.
        settings = {**SERVER_SETTINGS, **REPLICA_SETTINGS, "intra_op_threads": "1"}
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
