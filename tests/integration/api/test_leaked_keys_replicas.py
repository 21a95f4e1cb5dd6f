"""A key reported as leaked to one replica is refused by every replica (PostgreSQL + Redis).

The report revokes the key within its own request; the other replica learns it through the
key cache's Redis channel. The promise is a second; this test polls for up to 5 s so that a
loaded machine does not fail it, and `python -m bench.leaked_keys` prints the real figure.
"""

from __future__ import annotations

import time

import httpx
import pytest

from bgone.security.keys import Environment, generate_key
from tests.support.servers import POSTGRES_REDIS, server_fixture, stack_fixture
from tests.support.stack import Server, Stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

stack = stack_fixture("stack", kinds=(POSTGRES_REDIS,))
first_replica = server_fixture("first_replica", "stack")
second_replica = server_fixture("second_replica", "stack")

POLL_DEADLINE_SECONDS = 5.0


def account_status(server: Server, key: str) -> int:
    return httpx.get(server.base_url + "/v1/account", headers={"x-api-key": key}).status_code


def refused_by(server: Server, key: str, deadline_seconds: float) -> bool:
    """Whether `server` refuses `key` (401) before the deadline; polls, asserts no time."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if account_status(server, key) == 401:
            return True
        time.sleep(0.02)
    return account_status(server, key) == 401


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_a_reported_key_fails_on_every_replica(
    first_replica: Server, second_replica: Server, stack: Stack, environment: str
) -> None:
    key = stack.key(stack.account("business"), environment=environment)
    # Both replicas have the key in their caches.
    assert account_status(first_replica, key) == 200
    assert account_status(second_replica, key) == 200
    alert = [
        {
            "token": key,
            "type": "bgone_api_key",
            "url": "https://github.com/octo/app/blob/0a1b2c/.env",
            "source": "content",
        }
    ]
    reported = httpx.post(first_replica.base_url + "/v1/keys/leaked", json=alert)
    assert (reported.status_code, reported.json()) == (202, [])
    # Within the one request, on the replica that took the report.
    assert account_status(first_replica, key) == 401
    assert refused_by(second_replica, key, POLL_DEADLINE_SECONDS), (
        f"the other replica still accepts the reported key after {POLL_DEADLINE_SECONDS} s"
    )


def test_real_revoked_unknown_and_malformed_keys_get_one_answer(
    first_replica: Server, second_replica: Server, stack: Stack
) -> None:
    real = stack.key(stack.account("business"))
    revoked = stack.key(stack.account("business"))
    assert (
        httpx.post(second_replica.base_url + "/v1/keys/leaked", json=[revoked]).status_code == 202
    )
    answers = {
        (response.status_code, response.content)
        for response in (
            httpx.post(first_replica.base_url + "/v1/keys/leaked", json=[key])
            for key in (
                real,
                revoked,
                generate_key(Environment.PRODUCTION),
                "bgone_live_" + "x" * 38,
            )
        )
    }
    assert answers == {(202, b"[]")}
    assert refused_by(second_replica, real, POLL_DEADLINE_SECONDS)
