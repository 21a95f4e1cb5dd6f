"""Runs examples/web-proxy/server.py as its README says, as a subprocess on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.environment import REPO
from tests.support.stack import free_port

EXAMPLE_DIR = REPO / "examples" / "web-proxy"


@dataclass
class Proxy:
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_proxy(key: str, bgone_url: str, log_dir: Path) -> Iterator[Proxy]:
    port = free_port()
    log_path = log_dir / f"web-proxy-{port}.log"
    env = {**os.environ, "BGONE_API_KEY": key, "BGONE_URL": bgone_url}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(EXAMPLE_DIR / "server.py"), "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    proxy = Proxy(f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the example exited early:\n{proxy.log()}")
            try:
                if httpx.get(proxy.base_url + "/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the example did not answer in 30 s:\n{proxy.log()}")
            time.sleep(0.1)
        yield proxy
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
