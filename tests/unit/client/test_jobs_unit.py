"""The SDK's jobs against scripted responses: the body kind each submission sends, waiting,
and a download that never writes outside its directory."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path

import httpx

from bgone_client import AsyncClient, Client, Job, RemoveOptions
from bgone_client._jobs import submission_call

JOB = {
    "id": "job_1",
    "state": "running",
    "counts": {"total": 1, "succeeded": 0},
    "progress": 0.0,
    "items": [],
}


def test_urls_go_as_json_files_as_repeated_fields_and_one_zip_as_image_zip(tmp_path: Path) -> None:
    urls = submission_call(
        ["https://a.example/1.jpg"], RemoveOptions(size="hd"), "https://h.example"
    )
    assert urls.json == {
        "image_urls": ["https://a.example/1.jpg"],
        "size": "hd",
        "format": "png",
        "webhook_url": "https://h.example",
    }
    files = submission_call([b"one", b"two"], None, None)
    assert [name for name, _ in files.file_list] == ["image_file", "image_file"]
    archive = tmp_path / "photos.zip"
    archive.write_bytes(b"PK")
    assert [name for name, _ in submission_call([archive], None, None).file_list] == ["image_zip"]


def test_wait_polls_until_the_job_ends_and_download_keeps_to_its_directory(tmp_path: Path) -> None:
    states = iter(["queued", "running", "completed"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("0000-a.png", b"png")
        archive.writestr("../escape.png", b"no")
        archive.writestr("errors.json", "[]")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/results.zip"):
            return httpx.Response(200, content=buffer.getvalue())
        return httpx.Response(200, json={**JOB, "state": next(states)})

    seen: list[str] = []
    with Client("k", transport=httpx.MockTransport(answer), sleep=lambda _: None) as client:
        job = client.jobs.wait("job_1", on_progress=lambda j: seen.append(j.state))
        written = client.jobs.download(job, tmp_path / "out")
    assert seen == ["queued", "running", "completed"] and job.finished
    assert sorted(p.name for p in written) == ["0000-a.png", "errors.json"]
    assert not (tmp_path / "escape.png").exists()
    assert json.loads((tmp_path / "out" / "errors.json").read_text()) == []


def test_the_async_client_waits_and_downloads_as_the_sync_one_does(tmp_path: Path) -> None:
    states = iter(["queued", "completed"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("0000-a.png", b"png")
        archive.writestr("../escape.png", b"no")
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.method == "POST":
            return httpx.Response(202, json={"id": "job_1", "state": "queued", "items": []})
        if request.url.path.endswith("/results.zip"):
            return httpx.Response(200, content=buffer.getvalue())
        return httpx.Response(200, json={**JOB, "state": next(states)})

    async def no_sleep(_: float) -> None:
        return None

    async def run() -> tuple[Job, list[Path]]:
        transport = httpx.MockTransport(answer)
        async with AsyncClient("k", transport=transport, sleep=no_sleep) as client:
            job = await client.jobs.submit([b"one", b"two"])
            assert job.id == "job_1" and job.state == "queued"
            ended = await client.jobs.wait(job)
            return ended, await client.jobs.download(ended, tmp_path / "out")

    ended, written = asyncio.run(run())
    assert ended.finished and [p.name for p in written] == ["0000-a.png"]
    assert (tmp_path / "out" / "0000-a.png").read_bytes() == b"png"
    assert not (tmp_path / "escape.png").exists()
    assert not list((tmp_path / "out").glob("*.part"))
    assert b'name="image_file"' in sent[0].content
