"""Two replicas behind nginx (deploy/nginx.conf), one SIGKILLed under load: clients see only
errors worth a retry, every request succeeds on retry, and the dead replica's reservations
are released (by the survivor, from its journal) instead of ending up as charges.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bgone.db.engine import transaction
from bgone.db.tables import UsageRecordRow
from bgone.domain.metering import LOST_CODE
from bgone.domain.pricing import FULL_COST_MILLI
from tests.support.db_fixtures import scratch_postgres_database
from tests.support.environment import require
from tests.support.nginx import REPLICA_SETTINGS, Nginx, upstream_of
from tests.support.services import MissingBinary, private_stack, running_replicas
from tests.support.stack import Server, Stack
from tests.support.traffic import MEDIUM_PNG, Traffic, wait_for_invariants

pytestmark = pytest.mark.postgres

CUT_OFF = {"RemoteProtocolError", "ReadError"}


@pytest.fixture
def stack(postgres_admin: Engine, tmp_path: Path, model_dir: Path) -> Iterator[Stack]:
    with (
        scratch_postgres_database(postgres_admin) as url,
        private_stack(tmp_path / "data", model_dir, url) as built,
    ):
        yield built


@pytest.fixture
def replicas(stack: Stack) -> Iterator[list[Server]]:
    with running_replicas(stack, 2, **REPLICA_SETTINGS) as servers:
        yield servers


@pytest.fixture
def nginx(replicas: list[Server], tmp_path: Path) -> Iterator[Nginx]:
    try:
        balancer = Nginx(tmp_path, [upstream_of(server) for server in replicas])
    except MissingBinary as missing:
        require(False, str(missing))
        raise
    with balancer:
        yield balancer


def lost_rows(stack: Stack, account_id: int) -> int:
    with transaction(stack.sessions) as session:
        return session.execute(
            select(func.count()).where(
                UsageRecordRow.account_id == account_id, UsageRecordRow.error_code == LOST_CODE
            )
        ).scalar_one()


def test_sigkill_of_one_replica_costs_retries_and_no_credits(
    stack: Stack, replicas: list[Server], nginx: Nginx
) -> None:
    account_id = stack.account("business", rate_per_minute=100_000)
    traffic = Traffic(
        nginx.base_url,
        stack.key(account_id),
        removers=4,
        account_readers=1,
        image=MEDIUM_PNG,
        retries=5,
    ).start()
    try:
        traffic.run_phase("before", 2.0)
        traffic.phase = "after"
        replicas[0].process.kill()
        replicas[0].process.wait()
        traffic.run_phase("after", 3.0)
    finally:
        traffic.stop()

    summary = traffic.summary()
    assert traffic.removed_in("after"), summary
    # Every request succeeded in the end; the attempts that failed were worth a retry.
    assert {o.status for o in traffic.finals} == {200}, summary
    # nginx answers a request the dead replica had not begun to answer with a 503; one whose
    # answer it had begun to relay (headers sent) can only be cut off.
    for outcome in traffic.outcomes:
        if outcome.error is not None:
            assert outcome.error in CUT_OFF, outcome
        elif outcome.status != 200:
            assert outcome.status == 503 and outcome.retry_after, outcome
            assert outcome.code == "service_unavailable", outcome
    # The survivor finds the dead replica's journal and ends its pending requests. Attempts
    # no replica answered (nginx's 503, or cut off) may each have been charged if the kill
    # fell between their charge's commit and their first byte; none else may be.
    unanswered = [
        o for o in traffic.outcomes if o.path == "/v2" and (o.from_proxy or o.error is not None)
    ]
    report = wait_for_invariants(
        traffic.ledger,
        stack.sessions,
        [account_id],
        timeout=30,
        in_doubt_milli=len(unanswered) * FULL_COST_MILLI,
    )
    assert not report.failures, "\n".join([*report.failures, str(summary)])
    leftovers = [p.name for p in (stack.data_dir / "journal").glob("*.lock")]
    assert len(leftovers) == 1, f"the dead replica's journal was not recovered: {leftovers}"
    print(f"\nrequests lost with the replica: {lost_rows(stack, account_id)}; {summary}")
