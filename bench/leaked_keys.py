"""Leaked-key propagation: how long after a report to one replica the other refuses the key.

    python -m bench.leaked_keys              # 30 trials
    python -m bench.leaked_keys --trials 100

Two `bgone serve` replicas on a scratch database of the PostgreSQL at 127.0.0.1:5432 (user
postgres, trust) and the Redis at 127.0.0.1:6379 (a key prefix of its own), as the tests use
them. Each trial issues a key, has both replicas cache it (`GET /v1/account`), reports it
to the first (`POST /v1/keys/leaked`) and polls the second every 2 ms until it answers 401.
It prints the report's own latency, and the time from sending the report to the second
replica's first refusal (which includes the report's latency), against the 1 s promise.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import NullPool, create_engine
from tests.support.db_fixtures import POSTGRES_ADMIN_URL, scratch_postgres_database
from tests.support.servers import REDIS_URL
from tests.support.stack import Server, Stack

from bgone.db.migrate import upgrade
from bgone.inference import provision
from bgone.inference.catalog import find_model

PROMISE_SECONDS = 1.0
GIVE_UP_SECONDS = 5.0
POLL_SECONDS = 0.002


@contextmanager
def replicas(stack: Stack, trials: int) -> Iterator[tuple[Server, Server]]:
    """Two replicas that take every trial's report (the per-address limit raised)."""
    limit = {"leak_reports_per_minute": str(max(1000, trials * 2))}
    servers: list[Server] = []
    try:
        servers.append(stack.start_server(**limit))
        servers.append(stack.start_server(**limit))
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def trial(first: httpx.Client, second: httpx.Client, key: str) -> tuple[float, float]:
    """(report latency, send-to-refusal on the other replica), in seconds."""
    for client in (first, second):
        assert client.get("/v1/account", headers={"x-api-key": key}).status_code == 200
    sent = time.perf_counter()
    answer = first.post("/v1/keys/leaked", json=[key])
    answered = time.perf_counter()
    assert answer.status_code == 202, answer.text
    while second.get("/v1/account", headers={"x-api-key": key}).status_code != 401:
        if time.perf_counter() - sent > GIVE_UP_SECONDS:
            return answered - sent, float("inf")
        time.sleep(POLL_SECONDS)
    return answered - sent, time.perf_counter() - sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    options = parser.parse_args()
    model_dir = Path.home() / ".cache" / "bgone" / "test-models"
    provision.pull(find_model("u2netp", model_dir), model_dir)
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with (
        tempfile.TemporaryDirectory(prefix="bgone-leaks-") as scratch,
        scratch_postgres_database(admin) as database_url,
    ):
        upgrade(database_url)
        stack = Stack("bench", Path(scratch), model_dir, database_url, REDIS_URL)
        try:
            with (
                replicas(stack, options.trials) as (first_server, second_server),
                httpx.Client(base_url=first_server.base_url) as first,
                httpx.Client(base_url=second_server.base_url) as second,
            ):
                account = stack.account("business")
                results = [trial(first, second, stack.key(account)) for _ in range(options.trials)]
        finally:
            stack.sessions.kw["bind"].dispose()
            stack.cleanup_redis()
    admin.dispose()
    reports = [report for report, _ in results]
    refusals = [refusal for _, refusal in results]
    print(f"leaked-key propagation, 2 replicas, PostgreSQL + Redis, {options.trials} trials (ms)")
    print(f"{'measure':<44} {'p50':>8} {'p95':>8} {'max':>8}")
    for name, values in (
        ("report answered (POST /v1/keys/leaked)", reports),
        ("refused by the other replica, from sending", refusals),
    ):
        print(
            f"{name:<44} {statistics.median(values) * 1000:>8.1f} "
            f"{percentile(values, 0.95) * 1000:>8.1f} {max(values) * 1000:>8.1f}"
        )
    late = sum(1 for value in refusals if value > PROMISE_SECONDS)
    print(f"trials over the {PROMISE_SECONDS:g} s promise: {late} of {options.trials}")


if __name__ == "__main__":
    main()
