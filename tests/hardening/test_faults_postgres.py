"""PostgreSQL stopped under load: 503 `service_unavailable` with Retry-After, never a 500 or a
hang; service resumes by itself when it returns, and no usage row or credit goes astray.

A private cluster (tests/support/services.py) is stopped and started under a running
`bgone serve`, with client threads sending real removals and `/v1/account` calls throughout.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.environment import require
from tests.support.services import PrivatePostgres, postgres_available, private_stack
from tests.support.stack import Server, Stack
from tests.support.traffic import CLIENT_TIMEOUT_SECONDS, Traffic, wait_for_invariants

pytestmark = pytest.mark.postgres

# "A request must finish within a few seconds" while the database is away.
OUTAGE_REQUEST_BOUND_SECONDS = 8.0


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    require(postgres_available(), "PostgreSQL 15 server binaries in /usr/lib/postgresql/15/bin")
    with PrivatePostgres(tmp_path) as server:
        yield server


@pytest.fixture
def stack(postgres: PrivatePostgres, tmp_path: Path, model_dir: Path) -> Iterator[Stack]:
    with private_stack(tmp_path / "data", model_dir, postgres.url) as built:
        yield built


@pytest.fixture
def server(stack: Stack) -> Iterator[Server]:
    running = stack.start_server()
    yield running
    running.stop()


def test_postgres_outage_answers_503_and_recovers_without_losing_rows(
    postgres: PrivatePostgres, stack: Stack, server: Server
) -> None:
    account_id = stack.account("business")
    traffic = Traffic(server.base_url, stack.key(account_id), removers=2, account_readers=1)
    traffic.start()
    try:
        traffic.run_phase("before", 1.5)
        traffic.phase = "outage"
        postgres.stop()
        traffic.run_phase("outage", 3.0)
        traffic.phase = "after"
        postgres.start()
        # Resumes by itself: a fresh removal succeeds within seconds, nobody restarts bgone.
        assert traffic.wait_for_removal("after", 15), f"no recovery: {traffic.summary()}"
        traffic.run_phase("after", 1.0)
    finally:
        traffic.stop()

    summary = traffic.summary()
    assert [o for o in traffic.in_phase("before") if o.status == 200], summary
    outage = traffic.in_phase("outage")
    assert all(o.error is None for o in traffic.outcomes), f"transport errors: {summary}"
    assert {o.status for o in outage} <= {200, 503}, summary
    unavailable = [o for o in outage if o.status == 503]
    assert unavailable, f"the outage was never noticed: {summary}"
    assert {o.code for o in unavailable} == {"service_unavailable"}, summary
    assert all(o.retry_after for o in unavailable), summary
    slowest = max(o.seconds for o in outage)
    assert slowest < OUTAGE_REQUEST_BOUND_SECONDS < CLIENT_TIMEOUT_SECONDS, summary

    # Rows of the responses given during the outage were spooled and are now replayed.
    report = wait_for_invariants(traffic.ledger, stack.sessions, [account_id])
    assert not report.failures, "\n".join([*report.failures, str(summary)])
    journal = stack.data_dir / "journal"
    assert not list(journal.glob("*.spool.jsonl")), "spooled rows left unreplayed"
    assert "could not record" not in server.log()
