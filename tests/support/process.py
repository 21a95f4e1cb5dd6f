"""Child processes of the tests and benchmarks: `bgone serve` and the servers they compare.

Every process is started with its output appended to a log file (shown when it fails to
come up) and stopped by its own pid, never by name.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

READY_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes], grace_seconds: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if the process has not ended within the grace period."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_logged(
    command: list[str], env: Mapping[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """Appends to `log_path`, so that a restart on the same log keeps the earlier run's."""
    with log_path.open("ab") as log:
        return subprocess.Popen(command, env=dict(env), stdout=log, stderr=subprocess.STDOUT)


def log_tail(log_path: Path, characters: int = 4000) -> str:
    return log_path.read_text(errors="replace")[-characters:]


def wait_ready(
    process: subprocess.Popen[bytes],
    url: str,
    log_path: Path,
    timeout_seconds: float = READY_TIMEOUT_SECONDS,
) -> None:
    """Until `url` answers 200; a process that exits or never answers is stopped and raised."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_tail(log_path)}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    stop_process(process)
    raise RuntimeError(f"server not ready in {timeout_seconds:g} s:\n{log_tail(log_path)}")


def start_bgone_serve(
    env: Mapping[str, str],
    port: int,
    log_path: Path,
    ready_path: str = "/readyz",
    timeout_seconds: float = READY_TIMEOUT_SECONDS,
) -> subprocess.Popen[bytes]:
    """`bgone serve --port port` with `env` (its BGONE_* settings), once `ready_path` is 200."""
    process = start_logged(
        [sys.executable, "-m", "bgone", "serve", "--port", str(port)], env, log_path
    )
    wait_ready(process, f"http://127.0.0.1:{port}{ready_path}", log_path, timeout_seconds)
    return process


WORKER_READY_LINE = "bgone worker ready"


def start_bgone_worker(
    env: Mapping[str, str], log_path: Path, timeout_seconds: float = READY_TIMEOUT_SECONDS
) -> subprocess.Popen[bytes]:
    """`bgone worker` with `env`, once its log says it consumes the task queue."""
    start = log_path.stat().st_size if log_path.exists() else 0
    process = start_logged([sys.executable, "-m", "bgone", "worker"], env, log_path)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{log_tail(log_path)}")
        if log_path.exists() and WORKER_READY_LINE in log_path.read_text(errors="replace")[start:]:
            return process
        time.sleep(0.05)
    stop_process(process)
    raise RuntimeError(f"worker not ready in {timeout_seconds:g} s:\n{log_tail(log_path)}")
