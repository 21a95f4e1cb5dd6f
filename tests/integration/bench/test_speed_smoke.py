"""CI runs the speed benchmark briefly: every part once, so it cannot rot unnoticed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.environment import REPO


def test_speed_benchmark_smoke(model_dir: Path, datasets: Path, tmp_path: Path) -> None:
    # A model directory of its own: the benchmark makes u2netp-int8 in it.
    shutil.copyfile(model_dir / "u2netp.onnx", tmp_path / "u2netp.onnx")
    completed = subprocess.run(
        [sys.executable, "-m", "bench.speed", "--smoke"],
        cwd=REPO,
        env={**os.environ, "BGONE_MODEL_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    rows = (
        "bare model",
        "bgone server 1 MP c4 (alternating with bare)",
        "bgone server 1 MP c1",
        "bgone u2netp-int8 1 MP c1",
        "bgone quality=best 1 MP c1",
        "auth only GET /v1/account c8",
    )
    for row in rows:
        assert row in out
    assert "in-process pipeline" in out and "cold start" in out
    assert "| errors |" in out
