"""Redis stopped under load, behind two replicas: authentication and removal keep working,
rate limits fall back to a per-replica local limit, a revoked key is refused everywhere
within 5 s, and once Redis is back the replicas share it again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import Engine

from bgone.infra.keycache import channel_name
from tests.support.db_fixtures import scratch_postgres_database
from tests.support.environment import require
from tests.support.invariants import Ledger
from tests.support.services import (
    PrivateRedis,
    private_stack,
    redis_available,
    running_replicas,
)
from tests.support.stack import Server, Stack
from tests.support.traffic import SMALL_PNG, Traffic, wait_for_invariants

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REVOCATION_BOUND_SECONDS = 5.0  # the documented bound while Redis is away
LIMIT = 4  # images per minute for the rate-limited accounts
# The rate-limited accounts' images are counted by the limiter and removed (a 402 would not
# count: a request refused for credits uses up no rate-limit quota).
COUNTED = 200


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    require(redis_available(), "redis-server (Debian package redis-server)")
    with PrivateRedis(tmp_path) as server:
        yield server


@pytest.fixture
def stack(
    postgres_admin: Engine, private_redis: PrivateRedis, tmp_path: Path, model_dir: Path
) -> Iterator[Stack]:
    with (
        scratch_postgres_database(postgres_admin) as url,
        private_stack(tmp_path / "data", model_dir, url, private_redis.url) as built,
    ):
        yield built


@pytest.fixture
def replicas(stack: Stack) -> Iterator[list[Server]]:
    with running_replicas(stack, 2) as servers:
        yield servers


def remove(server: Server, key: str, ledger: Ledger) -> httpx.Response:
    response = httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key},
        files={"image_file": ("a.png", SMALL_PNG, "image/png")},
        timeout=30,
    )
    return ledger.record(response)


def seconds_until_refused(servers: list[Server], key: str, since: float) -> list[float]:
    """For each replica, how long after `since` it first answered 401 to `key`."""
    refused_after: list[float] = []
    for server in servers:
        while True:
            status = httpx.get(
                server.base_url + "/v1/account", headers={"x-api-key": key}, timeout=10
            ).status_code
            elapsed = time.monotonic() - since
            if status == 401 or elapsed > REVOCATION_BOUND_SECONDS * 2:
                refused_after.append(elapsed)
                break
            time.sleep(0.05)
    return refused_after


def statuses_until_limited(server: Server, key: str, ledger: Ledger) -> list[int]:
    statuses = []
    for _ in range(LIMIT + 2):
        response = remove(server, key, ledger)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers.get("retry-after"), response.headers
            break
    return statuses


def test_redis_outage_keeps_serving_with_local_limits_and_short_key_cache(
    private_redis: PrivateRedis, stack: Stack, replicas: list[Server]
) -> None:
    first, second = replicas
    account_id = stack.account("business", rate_per_minute=100_000)
    key = stack.key(account_id)
    manager = {"x-api-key": stack.key(account_id)}
    victim = httpx.post(
        first.base_url + "/api/keys", headers=manager, json={"name": "victim"}, timeout=10
    ).json()["data"]
    limited_ids = [stack.account("business", rate_per_minute=LIMIT) for _ in range(2)]
    limited_before, limited_after = (stack.key(account) for account in limited_ids)
    extra = Ledger()
    traffics = [Traffic(server.base_url, key, removers=1).start() for server in replicas]
    try:
        time.sleep(1.0)
        # With Redis, the replicas share one limit: 2 + 2 images, then the fifth is refused.
        shared = [remove(server, limited_before, extra).status_code for server in replicas * 2]
        assert shared == [COUNTED] * LIMIT, shared
        assert remove(second, limited_before, extra).status_code == 429
        for server in replicas:  # the victim key is in both replicas' caches
            warm = httpx.get(
                server.base_url + "/v1/account", headers={"x-api-key": victim["key"]}, timeout=10
            )
            assert extra.record(warm).status_code == 200

        for traffic in traffics:
            traffic.phase = "outage"
        private_redis.stop()
        time.sleep(0.5)
        revoked_at = time.monotonic()
        revoked = httpx.delete(
            first.base_url + f"/api/keys/{victim['id']}", headers=manager, timeout=10
        )
        assert revoked.status_code == 200, revoked.text
        refused_after = seconds_until_refused(replicas, victim["key"], revoked_at)
        assert max(refused_after) <= REVOCATION_BOUND_SECONDS, refused_after
        # Each replica now enforces the limit on its own: LIMIT images on each.
        on_first = statuses_until_limited(first, limited_after, extra)
        on_second = statuses_until_limited(second, limited_after, extra)
        assert on_first == on_second == [COUNTED] * LIMIT + [429], (on_first, on_second)
        time.sleep(0.5)

        for traffic in traffics:
            traffic.phase = "after"
        private_redis.start()
        back = redis.Redis.from_url(private_redis.url)
        channel = channel_name(stack.redis_key_prefix)
        deadline = time.monotonic() + 20
        # Both replicas listen for key invalidations again, and count limits in Redis again.
        while back.pubsub_numsub(channel)[0][1] < 2 or not back.keys(
            f"{stack.redis_key_prefix}:ratelimit*"
        ):
            assert time.monotonic() < deadline, "the replicas did not go back to Redis"
            time.sleep(0.2)
        back.close()
        time.sleep(0.5)
    finally:
        for traffic in traffics:
            traffic.stop()

    for traffic in traffics:
        summary = traffic.summary()
        assert all(o.error is None for o in traffic.outcomes), summary
        # Authentication and removal never noticed the outage.
        assert {o.status for o in traffic.outcomes} == {200}, summary
        assert traffic.removed_in("outage"), summary
    ledger = Ledger(seen=[s for t in traffics for s in t.ledger.seen] + extra.seen)
    report = wait_for_invariants(ledger, stack.sessions, [account_id, *limited_ids])
    assert not report.failures, "\n".join(report.failures)
