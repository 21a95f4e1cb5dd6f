"""A batch job through outages (PostgreSQL and Redis private to the test, a real `bgone
serve` and a real `bgone worker`): Redis unreachable, then the database stopped, then the
API replica restarted, all while the job runs. Work pauses and resumes by itself; the job
completes with every result delivered once and charged once, nothing left reserved."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import CreditPeriodRow, UsageRecordRow
from tests.support.environment import require
from tests.support.imagegen import encode, gradient_rgb
from tests.support.services import (
    PrivatePostgres,
    PrivateRedis,
    postgres_available,
    private_stack,
    redis_available,
)
from tests.support.stack import Server, Stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SETTINGS = {"job_lease_seconds": "3", "queue_poll_seconds": "0.1", "serve_jobs": "off"}
PHOTO = encode(gradient_rgb(1600, 1200), "JPEG")
COUNT = 40
OUTAGE_SECONDS = 3.0


@pytest.fixture
def stack(tmp_path: Path, model_dir: Path) -> Iterator[tuple[Stack, PrivatePostgres, PrivateRedis]]:
    require(postgres_available(), "PostgreSQL 15 server binaries in /usr/lib/postgresql/15/bin")
    require(redis_available(), "redis-server (Debian package redis-server)")
    with (
        PrivatePostgres(tmp_path) as postgres,
        PrivateRedis(tmp_path) as private_redis,
        private_stack(tmp_path / "data", model_dir, postgres.url, private_redis.url) as built,
    ):
        yield built, postgres, private_redis


def job_state(base_url: str, key: str, job_id: str) -> dict[str, Any] | None:
    try:
        answer = httpx.get(f"{base_url}/v1/jobs/{job_id}", headers={"x-api-key": key}, timeout=10)
    except httpx.TransportError:
        return None  # the replica is restarting
    if answer.status_code != 200:
        return None  # 503 while the database is away
    found: dict[str, Any] = answer.json()
    return found


def wait_until(base_url: str, key: str, job_id: str, succeeded: int) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = job_state(base_url, key, job_id)
        if job is not None and (
            job["counts"]["succeeded"] >= succeeded or job["state"] not in ("queued", "running")
        ):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not reach {succeeded} results")


def test_outages_pause_a_job_that_then_completes_charged_once(
    stack: tuple[Stack, PrivatePostgres, PrivateRedis],
) -> None:
    built, postgres, private_redis = stack
    account_id = built.account("business")
    key = built.key(account_id)
    server: Server = built.start_server(**SETTINGS)
    worker = built.start_worker(**SETTINGS)
    try:
        files = [("image_file", (f"p{n}.jpg", PHOTO, "image/jpeg")) for n in range(COUNT)]
        answer = httpx.post(
            f"{server.base_url}/v1/jobs",
            headers={"x-api-key": key},
            files=files,
            data={"size": "full"},
            timeout=120,
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        base = server.base_url
        # Redis unreachable (its process paused: clients time out, as across a network cut).
        assert wait_until(base, key, job_id, 2)["state"] == "running"
        assert private_redis.process is not None
        os.kill(private_redis.process.pid, signal.SIGSTOP)
        time.sleep(OUTAGE_SECONDS)
        os.kill(private_redis.process.pid, signal.SIGCONT)
        # The database stopped, then started again.
        job = wait_until(base, key, job_id, 6)
        assert job["state"] == "running", "the job ended before the database outage"
        postgres.stop()
        time.sleep(OUTAGE_SECONDS)
        postgres.start()
        # The API replica restarted on its port.
        job = wait_until(base, key, job_id, 10)
        assert job["state"] == "running", "the job ended before the replica restart"
        port = int(base.rsplit(":", 1)[1])
        server.stop()
        server = built.start_server_on(port, server.log_path, SETTINGS)
        job = wait_until(base, key, job_id, COUNT)
    finally:
        worker.stop()
        server.stop()
    assert job["state"] == "completed", job["counts"]
    assert job["counts"]["succeeded"] == COUNT
    with transaction(built.sessions) as session:
        rows = session.execute(
            select(UsageRecordRow.request_id, UsageRecordRow.credits_milli).where(
                UsageRecordRow.request_id.startswith(job_id)
            )
        ).all()
        period = session.scalars(
            select(CreditPeriodRow).where(CreditPeriodRow.account_id == account_id)
        ).one()
    assert len(rows) == COUNT == len({request_id for request_id, _ in rows})
    assert all(credits == 1000 for _, credits in rows)
    assert (period.used_milli, period.reserved_milli) == (COUNT * 1000, 0)
