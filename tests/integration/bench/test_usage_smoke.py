"""CI runs the usage-report benchmark tiny: seeding, rollup and report, so it cannot rot."""

from __future__ import annotations

import subprocess
import sys

from tests.support.environment import REPO


def test_usage_benchmark_smoke() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.usage",
            "--rows",
            "2000",
            "--runs",
            "3",
            "--backend",
            "sqlite",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    assert "| sqlite |" in out and "<= 200 ms" in out
    assert "| 400 |" in out  # the account's rows, every one counted once
