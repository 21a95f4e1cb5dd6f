"""CI runs the reliability benchmark briefly, so that it cannot rot unnoticed.

Load, battery and fuzz only (about 25 s): the fault scenarios restart replicas and
databases, which takes the full --smoke past what CI should spend here, and the same
faults are tested in tests/hardening/test_faults_*.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.environment import REPO, require
from tests.support.nginx import nginx_binary
from tests.support.services import postgres_available, redis_available

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_reliability_benchmark_smoke(model_dir: Path) -> None:
    require(postgres_available(), "PostgreSQL 15 server binaries")
    require(redis_available(), "redis-server")
    require(nginx_binary() is not None, "nginx")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.reliability",
            "--smoke",
            "--scenarios",
            "load,battery,fuzz",
        ],
        cwd=REPO,
        env={**os.environ, "BGONE_MODEL_DIR": str(model_dir)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    out = completed.stdout
    assert "| scenario | requests | outcomes by status |" in out
    for row in ("| load |", "| bad-input battery |", "| decode fuzz |"):
        assert row in out
    assert "/v2/health under load" in out and "peak RSS" in out
    assert "FAILED" not in out
