"""Batch jobs against real processes: `bgone serve` and `bgone worker` with the real model,
on SQLite (the embedded default: serve consumes too) and on PostgreSQL + Redis (only the
worker consumes). A worker SIGKILLed mid-item: the item runs again on another worker, is
finished once and charged once."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from typing import Any

import httpx
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import CreditPeriodRow, JobItemRow, UsageRecordRow
from tests.support.imagegen import encode, gradient_rgb
from tests.support.servers import POSTGRES_REDIS, SQLITE, server_fixtures
from tests.support.stack import Server, Stack

SETTINGS = {"job_lease_seconds": "3", "queue_poll_seconds": "0.1"}
# Only the workers consume, on SQLite too, so that the kill below hits an item in hand.
jobs_stack, jobs_server = server_fixtures(
    "jobs", kinds=(SQLITE, POSTGRES_REDIS), serve_jobs="off", **SETTINGS
)

PHOTO = encode(gradient_rgb(320, 240), "JPEG")
LARGE = encode(gradient_rgb(1600, 1200), "JPEG")


def wait_for_end(base_url: str, key: str, job_id: str, seconds: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job: dict[str, Any] = httpx.get(
            f"{base_url}/v1/jobs/{job_id}", headers={"x-api-key": key}
        ).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never ended: {job['counts']}")


def submit(base_url: str, key: str, images: list[bytes], **data: str) -> dict[str, Any]:
    files = [
        ("image_file", (f"photo{n}.jpg", image, "image/jpeg")) for n, image in enumerate(images)
    ]
    answer = httpx.post(
        f"{base_url}/v1/jobs", headers={"x-api-key": key}, files=files, data=data, timeout=60
    )
    assert answer.status_code == 202, answer.text
    accepted: dict[str, Any] = answer.json()
    return accepted


def job_usage(stack: Stack, job_id: str) -> list[tuple[int, int]]:
    with transaction(stack.sessions) as session:
        rows = session.execute(
            select(UsageRecordRow.status, UsageRecordRow.credits_milli).where(
                UsageRecordRow.request_id.startswith(job_id)
            )
        )
        return sorted((status, credits) for status, credits in rows)


def period(stack: Stack, account_id: int) -> tuple[int, int]:
    with transaction(stack.sessions) as session:
        row = session.scalars(
            select(CreditPeriodRow).where(CreditPeriodRow.account_id == account_id)
        ).one()
        return row.used_milli, row.reserved_milli


def thread_nice_values(pid: int) -> set[int]:
    """The nice value of each of the process's threads (Linux keeps one per thread)."""
    values = set()
    for task in os.scandir(f"/proc/{pid}/task"):
        stat = open(f"{task.path}/stat").read()  # noqa: SIM115 (a /proc file, read at once)
        values.add(int(stat.rsplit(")", 1)[1].split()[16]))  # field 19, after "comm)"
    return values


def test_a_worker_runs_the_items_and_a_corrupt_one_fails_uncharged(
    jobs_stack: Stack, jobs_server: Server
) -> None:
    account_id = jobs_stack.account("business")
    key = jobs_stack.key(account_id)
    worker = jobs_stack.start_worker(**SETTINGS)
    try:
        accepted = submit(jobs_server.base_url, key, [PHOTO, PHOTO[:200], PHOTO], size="full")
        job = wait_for_end(jobs_server.base_url, key, accepted["id"])
        # BGONE_WORKER_NICE (10): every thread of the worker, the model's included, yields
        # the CPU to the API replica's.
        assert thread_nice_values(worker.process.pid) == {min(19, os.nice(0) + 10)}
    finally:
        worker.stop()
    assert job["state"] == "completed", job
    assert [(i["state"], i["error_code"]) for i in job["items"]] == [
        ("succeeded", None),
        ("failed", "failed_to_read_image"),
        ("succeeded", None),
    ]
    assert job_usage(jobs_stack, accepted["id"]) == [(200, 1000), (200, 1000), (400, 0)]
    assert period(jobs_stack, account_id) == (2000, 0)
    with httpx.stream(
        "GET",
        f"{jobs_server.base_url}/v1/jobs/{accepted['id']}/results.zip",
        headers={"x-api-key": key},
    ) as answer:
        assert answer.status_code == 200
        assert "content-length" not in answer.headers  # streamed, not built first
        body = b"".join(answer.iter_bytes())
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.namelist() == ["0000-photo0.png", "0002-photo2.png", "errors.json"]
        assert archive.read("0000-photo0.png").startswith(b"\x89PNG")


def test_a_worker_killed_mid_item_loses_nothing_and_charges_once(
    jobs_stack: Stack, jobs_server: Server
) -> None:
    account_id = jobs_stack.account("business")
    key = jobs_stack.key(account_id)
    count = 10
    first = jobs_stack.start_worker(**SETTINGS)
    second: Server | None = None
    try:
        accepted = submit(jobs_server.base_url, key, [LARGE] * count, size="full")
        job_id = accepted["id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not running_items(jobs_stack, job_id):
            time.sleep(0.05)
        assert running_items(jobs_stack, job_id), "no item ever ran"
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        second = jobs_stack.start_worker(**SETTINGS)
        job = wait_for_end(jobs_server.base_url, key, job_id)
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert job["state"] == "completed", job
    assert [item["state"] for item in job["items"]] == ["succeeded"] * count
    with transaction(jobs_stack.sessions) as session:
        attempts = session.scalars(
            select(JobItemRow.attempts).where(JobItemRow.job_id == job_id)
        ).all()
    assert max(attempts) >= 2  # an item the killed worker held ran again
    assert job_usage(jobs_stack, job_id) == [(200, 1000)] * count  # one charged row each
    assert period(jobs_stack, account_id) == (count * 1000, 0)


def running_items(stack: Stack, job_id: str) -> list[int]:
    with transaction(stack.sessions) as session:
        return list(
            session.scalars(
                select(JobItemRow.index).where(
                    JobItemRow.job_id == job_id, JobItemRow.state == "running"
                )
            )
        )


def test_the_embedded_serve_runs_jobs_with_nothing_else_started(jobs_stack: Stack) -> None:
    if jobs_stack.name != SQLITE:
        return  # with Redis, workers run the items (above)
    server = jobs_stack.start_server(**SETTINGS)
    try:
        key = jobs_stack.key(jobs_stack.account("business"))
        accepted = submit(server.base_url, key, [PHOTO])
        job = wait_for_end(server.base_url, key, accepted["id"])
    finally:
        server.stop()
    assert [item["state"] for item in job["items"]] == ["succeeded"]


def test_cancel_releases_what_has_not_started(jobs_stack: Stack, jobs_server: Server) -> None:
    account_id = jobs_stack.account("business")
    key = jobs_stack.key(account_id)
    headers = {"x-api-key": key}
    # No worker is running: every item is still queued when the job is cancelled.
    accepted = submit(jobs_server.base_url, key, [PHOTO, PHOTO], size="full")
    assert period(jobs_stack, account_id) == (0, 2000)
    cancelled = httpx.delete(f"{jobs_server.base_url}/v1/jobs/{accepted['id']}", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    again = httpx.delete(f"{jobs_server.base_url}/v1/jobs/{accepted['id']}", headers=headers)
    assert again.status_code == 200 and again.json()["state"] == "cancelled"
    assert period(jobs_stack, account_id) == (0, 0)
    assert job_usage(jobs_stack, accepted["id"]) == [(409, 0), (409, 0)]
    job = httpx.get(f"{jobs_server.base_url}/v1/jobs/{accepted['id']}", headers=headers).json()
    assert [(i["state"], i["error_code"]) for i in job["items"]] == [
        ("cancelled", "job_cancelled")
    ] * 2


def test_worker_processes_split_the_cores_and_stop_on_sigterm(jobs_stack: Stack) -> None:
    if jobs_stack.name != SQLITE:
        return  # the supervisor is the same whatever the storage
    log_path = jobs_stack.data_dir / "supervisor.log"
    env = {**jobs_stack.env, "BGONE_INTRA_OP_THREADS": ""}
    env.pop("BGONE_INTRA_OP_THREADS")
    command = [sys.executable, "-m", "bgone", "worker", "--processes", "2"]
    with log_path.open("ab") as log:
        supervisor = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and log_path.read_text().count("worker ready") < 2:
            assert supervisor.poll() is None, log_path.read_text()
            time.sleep(0.2)
        assert log_path.read_text().count("bgone worker ready") == 2
    finally:
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0, log_path.read_text()
