"""`python bench/quality.py`, the command the README and the issue give, starts as a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_the_quality_bench_runs_as_a_file_from_anywhere(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "quality.py"), "--help"],
        cwd=tmp_path,  # neither the repository nor bench/ is the working directory
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "--datasets" in completed.stdout
