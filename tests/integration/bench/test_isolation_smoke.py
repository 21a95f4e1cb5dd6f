"""CI runs the isolation benchmark briefly (`--smoke`, about a minute), so that it cannot rot
unnoticed: every scenario runs, the table comes out, and the victim and the probes see no
error. Its timing targets are judged only by a full run (bench/isolation.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.environment import REPO


def test_isolation_benchmark_smoke(model_dir: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "bench/isolation.py", "--smoke"],
        cwd=REPO,
        env={**os.environ, "BGONE_MODEL_DIR": str(model_dir)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    out = completed.stdout
    assert "| scenario | victim requests | victim errors |" in out
    for row in ("| unloaded |", "| (a) ", "| (b) ", "| (c) ", "| (d) "):
        assert row in out
    assert "429 rate_limit_exceeded" in out and "401 revoked_api_key" in out
    assert "all targets met" in out
