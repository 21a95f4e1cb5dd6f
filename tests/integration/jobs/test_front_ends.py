"""The SDK's `client.jobs` and `bgone jobs submit` against a real embedded `bgone serve`
(SQLite, its in-process consumer, the real model)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from bgone_client import AsyncClient, Client, RemoveOptions
from tests.support.imagegen import encode, gradient_rgb
from tests.support.servers import server_fixtures
from tests.support.stack import Server, Stack

fronts_stack, fronts_server = server_fixtures("fronts", queue_poll_seconds="0.1")

PHOTO = encode(gradient_rgb(320, 240), "JPEG")


def photos(folder: Path) -> Path:
    folder.mkdir()
    (folder / "a.jpg").write_bytes(PHOTO)
    (folder / "b.jpg").write_bytes(PHOTO[:100])  # corrupt
    (folder / "c.png").write_bytes(encode(gradient_rgb(200, 100), "PNG"))
    (folder / "notes.txt").write_text("not submitted")
    return folder


def test_the_sdk_submits_waits_and_downloads(
    fronts_stack: Stack, fronts_server: Server, tmp_path: Path
) -> None:
    key = fronts_stack.key(fronts_stack.account("business"))
    folder = photos(tmp_path / "in")
    with Client(key, fronts_server.base_url) as client:
        job = client.jobs.submit(sorted(folder.glob("*.*g")), RemoveOptions(size="full"))
        seen: list[str] = []
        ended = client.jobs.wait(job, poll_seconds=0.2, on_progress=lambda j: seen.append(j.state))
        written = client.jobs.download(ended, tmp_path / "out")
        assert [j.id for j in client.jobs.recent()] == [job.id]
    assert ended.state == "completed" and seen[-1] == "completed"
    assert [(item.state, item.error_code) for item in ended.items] == [
        ("succeeded", None),
        ("failed", "failed_to_read_image"),
        ("succeeded", None),
    ]
    assert sorted(path.name for path in written) == ["0000-a.png", "0002-c.png", "errors.json"]
    assert (tmp_path / "out" / "0000-a.png").read_bytes().startswith(b"\x89PNG")


def test_the_async_sdk_submits_waits_and_downloads(
    fronts_stack: Stack, fronts_server: Server, tmp_path: Path
) -> None:
    key = fronts_stack.key(fronts_stack.account("business"))
    folder = photos(tmp_path / "in")

    async def run() -> list[Path]:
        async with AsyncClient(key, fronts_server.base_url) as client:
            job = await client.jobs.submit(sorted(folder.glob("*.*g")))
            ended = await client.jobs.wait(job, poll_seconds=0.2, timeout=120)
            assert ended.state == "completed"
            assert [item.state for item in ended.items] == ["succeeded", "failed", "succeeded"]
            assert [j.id for j in await client.jobs.recent()] == [job.id]
            return await client.jobs.download(ended, tmp_path / "out")

    written = asyncio.run(run())
    assert sorted(path.name for path in written) == ["0000-a.png", "0002-c.png", "errors.json"]
    assert (tmp_path / "out" / "0002-c.png").read_bytes().startswith(b"\x89PNG")


def test_the_cli_submits_a_directory_and_writes_the_results(
    fronts_stack: Stack, fronts_server: Server, tmp_path: Path
) -> None:
    key = fronts_stack.key(fronts_stack.account("business"))
    folder = photos(tmp_path / "in")
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "bgone", "jobs", "submit", str(folder), "--wait",
        "--out", str(out), "--server", fronts_server.base_url, "--key", key,
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "2 succeeded, 1 failed" in finished.stdout
    assert "0001 b: failed_to_read_image" in finished.stdout
    assert sorted(p.name for p in out.iterdir()) == ["0000-a.png", "0002-c.png", "errors.json"]
