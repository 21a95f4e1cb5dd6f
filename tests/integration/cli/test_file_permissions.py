"""What bgone writes into its data directory is the operator's alone: the database (with its
key hashes, accounts and usage), the secret, the journal. Files 0600, directories 0700."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.process import free_port, start_bgone_serve, stop_process


def shared_with_others(root: Path) -> list[str]:
    """Everything under `root` (itself included) that its group or others may read."""
    paths = [root, *root.rglob("*")]
    return [
        f"{path} {stat.filemode(path.stat().st_mode)}"
        for path in paths
        if path.stat().st_mode & 0o077
    ]


def test_bgone_db_upgrade_creates_a_private_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    completed = subprocess.run(
        [sys.executable, "-m", "bgone", "db", "upgrade"],
        env={**os.environ, "BGONE_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert (data_dir / "bgone.db").exists()
    assert shared_with_others(data_dir) == []


def test_bgone_serve_keeps_its_data_directory_private(tmp_path: Path, model_dir: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    env = {
        **os.environ,
        "BGONE_DATA_DIR": str(data_dir),
        "BGONE_MODEL_DIR": str(model_dir),
        "BGONE_INTRA_OP_THREADS": "1",
    }
    process = start_bgone_serve(env, port, tmp_path / "serve.log")
    try:
        # One request, so that the usage journal and the database's log are written too.
        httpx.get(f"http://127.0.0.1:{port}/v1/account", headers={"x-api-key": "nope"})
        assert (data_dir / "bgone.db").exists() and (data_dir / "secret_key").exists()
        assert shared_with_others(data_dir) == []
    finally:
        stop_process(process)
