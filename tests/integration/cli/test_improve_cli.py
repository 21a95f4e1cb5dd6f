"""remove.bg's /v1.0/improve end to end: a client submits to a real server, the operator
lists and exports the submissions with `bgone improve`."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.imagegen import encode, gradient_rgb
from tests.support.stack import Server, Stack

PHOTO = encode(gradient_rgb(40, 30), "PNG")


def bgone(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgone", *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_submissions_are_listed_and_exported_for_the_operator(
    server: Server, stack: Stack, tmp_path: Path
) -> None:
    account_id = stack.account("business")
    key = stack.key(account_id)
    submitted = httpx.post(
        server.base_url + "/v1.0/improve",
        headers={"X-Api-Key": key},
        files={"image_file": ("duck.png", PHOTO)},
        data={"tag": "beak edges", "image_filename": "duck.png"},
        timeout=60,
    )
    assert submitted.status_code == 200, submitted.text
    submission_id = submitted.json()["id"]
    stored = stack.data_dir / "improve" / f"{submission_id}.png"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    listed = bgone(stack, "improve", "list")
    assert listed.returncode == 0, listed.stderr
    (line,) = [line for line in listed.stdout.splitlines() if submission_id in line]
    assert "beak edges" in line and "duck.png" in line

    out = tmp_path / "export"
    exported = bgone(stack, "improve", "export", str(out))
    assert exported.returncode == 0, exported.stderr
    assert (out / f"{submission_id}.png").read_bytes() == PHOTO
    assert stat.S_IMODE((out / f"{submission_id}.png").stat().st_mode) == 0o600
    manifest = [json.loads(row) for row in (out / "manifest.jsonl").read_text().splitlines()]
    (entry,) = [row for row in manifest if row["id"] == submission_id]
    assert entry["tag"] == "beak edges" and entry["filename"] == "duck.png"
    assert entry["file"] == f"{submission_id}.png" and entry["size_bytes"] == len(PHOTO)
    assert entry["account_id"] == account_id and entry["submitted_at"].endswith("+00:00")
