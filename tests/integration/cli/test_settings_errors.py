"""A bad BGONE_* setting stops any `bgone` command with one line naming it, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def bgone(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BGONE_DATA_DIR": str(tmp_path / "data"), **variables}
    return subprocess.run(
        [sys.executable, "-m", "bgone", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_plain_network_value_is_accepted(tmp_path: Path) -> None:
    completed = bgone(tmp_path, "db", "current", BGONE_URL_FETCH_ALLOWED_NETWORKS="127.0.0.1/32")
    assert completed.returncode == 0, completed.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BGONE_URL_FETCH_ALLOWED_NETWORKS", "intranet"),
        ("BGONE_FORWARDED_ALLOW_IPS", "127.0.0.1,proxy.local"),
        ("BGONE_PORT", "eighty"),
        ("BGONE_HEADER_TIMEOUT_SECONDS", "0"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    tmp_path: Path, name: str, value: str
) -> None:
    completed = bgone(tmp_path, "serve", **{name: value})
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert name in lines[0] and "Traceback" not in completed.stderr
