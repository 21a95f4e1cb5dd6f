"""Debian's nginx in front of `bgone serve` replicas, configured from deploy/nginx.conf.

`Nginx` is one of the private servers of tests/support/services.py (same life cycle: a
context manager whose `stop()` and `start()` may be called any number of times), on a free
port of 127.0.0.1. Importable without pytest.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.services import Managed, MissingBinary, wait_for_port
from tests.support.stack import Server, free_port, stop_process

REPO = Path(__file__).resolve().parents[2]
NGINX_TEMPLATE = REPO / "deploy" / "nginx.conf"
# What every replica behind this nginx is started with (deploy/README.md): nginx's address
# as the one proxy whose X-Forwarded-For is believed.
REPLICA_SETTINGS = {"forwarded_allow_ips": "127.0.0.1"}


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (str(p) for p in (Path("/usr/sbin/nginx"),) if p.exists()), None
    )


def render_nginx_config(
    upstreams: list[str],
    listen: str,
    runtime_dir: Path,
    max_body_bytes: int,
    job_max_body_bytes: int = 1024 * 1024 * 1024,
) -> str:
    servers = "\n        ".join(
        f"server {upstream} max_fails=1 fail_timeout=5s;" for upstream in upstreams
    )
    values = {
        "runtime_dir": str(runtime_dir),
        "listen": listen,
        "upstream_servers": servers,
        "client_max_body_size": str(max_body_bytes),
        "job_max_body_size": str(job_max_body_bytes),
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


class Nginx(Managed):
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
        wait_for_port(self.port, self.process, "nginx")

    def stop(self) -> None:
        if self.process is not None:  # SIGTERM: fast shutdown of master and workers
            stop_process(self.process, grace_seconds=10)

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


def upstream_of(server: Server) -> str:
    return server.base_url.removeprefix("http://")
