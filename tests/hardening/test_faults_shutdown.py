"""SIGTERM during load: requests in flight complete with 200, new ones are refused cleanly
(refused connection, or 503 with Retry-After), and every answer has its usage row.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.support.db_fixtures import scratch_postgres_database
from tests.support.invariants import Ledger
from tests.support.services import private_stack
from tests.support.stack import Server, Stack
from tests.support.traffic import MEDIUM_PNG, wait_for_invariants

pytestmark = pytest.mark.postgres

IN_FLIGHT = 8


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str | None
    finished_at: float
    retry_after: str | None = None


@pytest.fixture
def stack(postgres_admin: Engine, tmp_path: Path, model_dir: Path) -> Iterator[Stack]:
    with (
        scratch_postgres_database(postgres_admin) as url,
        private_stack(tmp_path / "data", model_dir, url) as built,
    ):
        yield built


@pytest.fixture
def server(stack: Stack) -> Iterator[Server]:
    # One image at a time: the requests sent before SIGTERM are still queued when it comes.
    # Many requests of one account in flight at once: its share of the pools is not under test.
    running = stack.start_server(pipeline_workers="1", queue_size="32", account_share="64")
    yield running
    running.stop()


def send(server: Server, key: str, ledger: Ledger, lock: threading.Lock) -> Answer:
    try:
        response = httpx.post(
            server.base_url + "/v2",
            headers={"x-api-key": key},
            files={"image_file": ("a.png", MEDIUM_PNG, "image/png")},
            timeout=30,
        )
    except httpx.HTTPError as error:
        return Answer(None, type(error).__name__, time.monotonic())
    with lock:
        ledger.record(response)
    return Answer(response.status_code, None, time.monotonic(), response.headers.get("retry-after"))


def test_sigterm_drains_in_flight_requests_and_refuses_new_ones(
    stack: Stack, server: Server
) -> None:
    account_id = stack.account("business", rate_per_minute=100_000)
    key = stack.key(account_id)
    ledger, lock = Ledger(), threading.Lock()
    assert send(server, key, ledger, lock).status == 200  # warm: the first run loads caches

    with ThreadPoolExecutor(max_workers=IN_FLIGHT + 1) as pool:
        early = [pool.submit(send, server, key, ledger, lock) for _ in range(IN_FLIGHT)]
        time.sleep(0.5)  # every one of them is on the server, most still queued
        assert not all(future.done() for future in early), "nothing left in flight"
        server.process.send_signal(signal.SIGTERM)
        terminated_at = time.monotonic()
        late: list[Answer] = []
        while server.process.poll() is None and time.monotonic() - terminated_at < 30:
            late.append(send(server, key, ledger, lock))
            time.sleep(0.05)
        in_flight = [future.result() for future in early]
    exit_code = server.process.wait(timeout=30)
    # A server that drains fast can exit right after serving a late request that slipped in
    # (seen in CI): the last try, after the exit, finds nothing listening.
    late.append(send(server, key, ledger, lock))

    assert [answer.status for answer in in_flight] == [200] * IN_FLIGHT, in_flight
    assert any(answer.finished_at > terminated_at for answer in in_flight), "none drained"
    # uvicorn finishes its shutdown, then re-raises the signal to end with its usual status.
    assert exit_code in (0, -signal.SIGTERM), server.log()[-2000:]
    assert "Application shutdown complete" in server.log()
    # Refused cleanly: no connection, or a 503 that says when to come back. A request that
    # slipped in before the listener closed is served in full.
    for answer in late:
        if answer.status == 503:
            assert answer.retry_after, answer
        else:
            assert answer.status == 200 or answer.error == "ConnectError", late
    assert late and late[-1].error == "ConnectError", late
    report = wait_for_invariants(ledger, stack.sessions, [account_id], timeout=5)
    assert not report.failures, "\n".join(report.failures)
    assert not list((stack.data_dir / "journal").iterdir()), "a clean exit leaves no journal"
