"""Where the suite runs: the repository, the shared datasets, and whether it is CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO.parent / "shared" / "datasets"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally when a real component is missing; in CI, missing parts are failures."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def skipped_in_ci(report: pytest.TestReport) -> bool:
    """In CI nothing may be skipped: a skip there means a real part went missing."""
    return IN_CI and report.skipped and not hasattr(report, "wasxfail")
