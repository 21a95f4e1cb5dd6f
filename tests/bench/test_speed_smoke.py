"""CI runs the speed benchmark briefly: every part once, so it cannot rot unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_speed_benchmark_smoke(model_dir: Path, datasets: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "speed.py"), "--smoke"],
        env={**os.environ, "BGONE_MODEL_DIR": str(model_dir)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    for row in ("bare model", "bgone server 1 MP c1", "auth only GET /v1/account c8"):
        assert row in out
    assert "in-process pipeline" in out and "cold start" in out
    assert "| errors |" in out
