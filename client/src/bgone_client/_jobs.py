"""Batch jobs: `client.jobs.submit(...)`, `.wait()`, `.download()` (`/v1/jobs`).

A job holds many images (paths, bytes, file objects, one `.zip` path, or URLs); workers
process them while the client polls. `download` streams the results ZIP to disk and
extracts its image entries (never into memory whole, never outside the directory).
"""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from bgone_client._requests import Call, RemoveOptions, Source, source_part

if TYPE_CHECKING:
    from bgone_client._sync import Client

JOBS_PATH = "/v1/jobs"
ENDED = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class JobItem:
    index: int
    name: str
    state: str  # queued, running, succeeded, failed, cancelled
    error_code: str | None
    credits_charged: float
    result_url: str | None


@dataclass(frozen=True)
class Job:
    id: str
    state: str  # queued, running, completed, failed, cancelled
    counts: dict[str, int]
    progress: float  # 0 to 1
    items: tuple[JobItem, ...]
    document: dict[str, Any]  # the whole JSON answer

    @property
    def finished(self) -> bool:
        return self.state in ENDED

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Job:
        if "counts" not in document:  # the 202 of a submission
            document = {**document, "counts": {}, "progress": 0.0}
        items = tuple(
            JobItem(
                item["index"],
                item["name"],
                item["state"],
                item.get("error_code"),
                float(item.get("credits_charged", 0)),
                item.get("result_url"),
            )
            for item in document.get("items") or ()
        )
        return cls(
            document["id"],
            document["state"],
            dict(document["counts"]),
            float(document["progress"]),
            items,
            document,
        )


def submission_call(
    sources: Iterable[Source], options: RemoveOptions | None, webhook_url: str | None
) -> Call:
    """One job's request: JSON when every source is a URL, else multipart."""
    parts = [source_part(source) for source in sources]
    fields = (options or RemoveOptions()).form_fields()
    if webhook_url:
        fields["webhook_url"] = webhook_url
    if parts and all(isinstance(part, str) for part in parts):
        return Call("POST", JOBS_PATH, json={"image_urls": parts, **fields})
    if any(isinstance(part, str) for part in parts):
        raise ValueError("a job holds either URLs or files, not both")
    files = [part for part in parts if not isinstance(part, str)]
    if len(files) == 1 and files[0][0].lower().endswith(".zip"):
        return Call("POST", JOBS_PATH, data=fields, file_list=[("image_zip", files[0])])
    return Call("POST", JOBS_PATH, data=fields, file_list=[("image_file", f) for f in files])


class Jobs:
    """`client.jobs`: submit, read, wait for, cancel and download batch jobs."""

    def __init__(self, client: Client, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._sleep = sleep

    def submit(
        self,
        sources: Iterable[Source],
        options: RemoveOptions | None = None,
        *,
        webhook_url: str | None = None,
    ) -> Job:
        """Submit the images as one job; its credits are reserved now (202)."""
        answer = self._client._send(submission_call(sources, options, webhook_url))
        return Job.from_json(answer.json())

    def get(self, job: Job | str) -> Job:
        return Job.from_json(self._client._send(Call("GET", job_path(job))).json())

    def recent(self, limit: int = 20) -> list[Job]:
        """The account's latest jobs, newest first."""
        answer = self._client._send(Call("GET", JOBS_PATH, params={"limit": str(limit)}))
        return [Job.from_json(job) for job in answer.json()["jobs"]]

    def cancel(self, job: Job | str) -> Job:
        return Job.from_json(self._client._send(Call("DELETE", job_path(job))).json())

    def wait(
        self,
        job: Job | str,
        *,
        poll_seconds: float = 1.0,
        timeout: float | None = None,
        on_progress: Callable[[Job], None] | None = None,
    ) -> Job:
        """Poll until the job has ended; `on_progress` sees each state. TimeoutError past
        `timeout` seconds."""
        deadline = Deadline(timeout)
        while True:
            current = self.get(job)
            if on_progress is not None:
                on_progress(current)
            if current.finished:
                return current
            deadline.check(current)
            self._sleep(poll_seconds)

    def download(self, job: Job | str, directory: str | os.PathLike[str]) -> list[Path]:
        """Write the job's results into `directory` (and its errors.json); their paths."""
        archive = archive_path(job, directory)
        with (
            self._client._stream("GET", f"{job_path(job)}/results.zip") as response,
            archive.open("wb") as out,
        ):
            for chunk in response.iter_bytes():
                out.write(chunk)
        return extract_results(archive)


class Deadline:
    """How long `wait` may poll: TimeoutError once `timeout` seconds have passed."""

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self._end = None if timeout is None else time.monotonic() + timeout

    def check(self, current: Job) -> None:
        if self._end is not None and time.monotonic() > self._end:
            raise TimeoutError(f"job {current.id} still {current.state} after {self.timeout} s")


def archive_path(job: Job | str, directory: str | os.PathLike[str]) -> Path:
    """Where a download keeps the results ZIP until it is extracted (the directory made)."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    return target / f".{job_id(job)}.zip.part"


def extract_results(archive: Path) -> list[Path]:
    """The ZIP's plain entries written beside it (never a path from the archive), then the
    ZIP deleted; the paths written."""
    target = archive.parent
    written: list[Path] = []
    try:
        with zipfile.ZipFile(archive) as opened:
            for info in opened.infolist():
                name = PurePosixPath(info.filename).name
                if not name or name != info.filename:
                    continue
                with opened.open(info) as entry, (target / name).open("wb") as out:
                    shutil.copyfileobj(entry, out)
                written.append(target / name)
    finally:
        archive.unlink(missing_ok=True)
    return written


def job_id(job: Job | str) -> str:
    return job.id if isinstance(job, Job) else job


def job_path(job: Job | str) -> str:
    return f"{JOBS_PATH}/{job_id(job)}"
