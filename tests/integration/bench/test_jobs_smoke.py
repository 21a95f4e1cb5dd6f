"""CI runs the jobs benchmark briefly (`--smoke`, tiny images), so that it cannot rot
unnoticed: every scenario runs (the SIGKILL at 50% included), the table comes out, and every
job completes with as many results as charged rows. Its timing targets are judged only by
a full run (bench/jobs.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.environment import REPO


def test_jobs_benchmark_smoke(model_dir: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "bench/jobs.py", "--smoke"],
        cwd=REPO,
        env={**os.environ, "BGONE_MODEL_DIR": str(model_dir)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    out = completed.stdout
    assert "| measure | figure | target | met |" in out
    for row in ("| one worker |", "| two workers |", "| SIGKILL at 50% |", "| worker peak RSS"):
        assert row in out
    assert "completed, 6 results, 6 charged rows, 6 distinct" in out
    assert "all targets met" in out
