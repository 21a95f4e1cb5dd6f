"""Batch jobs on the asyncio client: `await client.jobs.submit(...)`, `.wait()`, `.download()`.

The same calls and shapes as the synchronous `Jobs` (bgone_client._jobs); reading the
images to submit, writing the results ZIP and extracting it run in a thread, so that a
large job never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bgone_client._jobs import (
    JOBS_PATH,
    Deadline,
    Job,
    archive_path,
    extract_results,
    job_path,
    submission_call,
)
from bgone_client._requests import Call, RemoveOptions, Source

if TYPE_CHECKING:
    from bgone_client._async import AsyncClient


class AsyncJobs:
    """`AsyncClient.jobs`: submit, read, wait for, cancel and download batch jobs."""

    def __init__(
        self, client: AsyncClient, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        self._client = client
        self._sleep = sleep

    async def submit(
        self,
        sources: Iterable[Source],
        options: RemoveOptions | None = None,
        *,
        webhook_url: str | None = None,
    ) -> Job:
        """Submit the images as one job; its credits are reserved now (202)."""
        call = await asyncio.to_thread(submission_call, list(sources), options, webhook_url)
        answer = await self._client._send(call)
        return Job.from_json(answer.json())

    async def get(self, job: Job | str) -> Job:
        return Job.from_json((await self._client._send(Call("GET", job_path(job)))).json())

    async def recent(self, limit: int = 20) -> list[Job]:
        """The account's latest jobs, newest first."""
        answer = await self._client._send(Call("GET", JOBS_PATH, params={"limit": str(limit)}))
        return [Job.from_json(job) for job in answer.json()["jobs"]]

    async def cancel(self, job: Job | str) -> Job:
        return Job.from_json((await self._client._send(Call("DELETE", job_path(job)))).json())

    async def wait(
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
            current = await self.get(job)
            if on_progress is not None:
                on_progress(current)
            if current.finished:
                return current
            deadline.check(current)
            await self._sleep(poll_seconds)

    async def download(self, job: Job | str, directory: str | os.PathLike[str]) -> list[Path]:
        """Write the job's results into `directory` (and its errors.json); their paths."""
        archive = await asyncio.to_thread(archive_path, job, directory)
        with archive.open("wb") as out:
            async with self._client._stream("GET", f"{job_path(job)}/results.zip") as response:
                async for chunk in response.aiter_bytes():
                    await asyncio.to_thread(out.write, chunk)
        return await asyncio.to_thread(extract_results, archive)
