"""Several replicas on PostgreSQL + Redis share one state."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.imagegen import encode, gradient_rgb
from tests.support.servers import POSTGRES_REDIS, server_fixture, stack_fixture
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")


pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Two replicas on one PostgreSQL + Redis set-up.
stack = stack_fixture("stack", kinds=(POSTGRES_REDIS,))
first_replica = server_fixture("first_replica", "stack")
second_replica = server_fixture("second_replica", "stack")


@pytest.fixture(scope="module")
def replicas(first_replica: Server, second_replica: Server) -> tuple[Server, Server]:
    return first_replica, second_replica


def remove(server: Server, key: str) -> httpx.Response:
    return httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key},
        files={"image_file": ("a.png", SMALL_PNG)},
        timeout=60,
    )


def test_revocation_on_one_replica_is_refused_by_the_other_within_a_second(
    replicas: tuple[Server, Server], stack: Stack
) -> None:
    first, second = replicas
    manager = stack.key(stack.account("business"))
    victim = httpx.post(
        first.base_url + "/api/keys", headers={"x-api-key": manager}, json={"name": "victim"}
    ).json()["data"]
    # Both replicas have the key in their caches.
    assert remove(first, victim["key"]).status_code == 200
    assert remove(second, victim["key"]).status_code == 200
    revoked_at = time.monotonic()
    assert (
        httpx.delete(
            first.base_url + f"/api/keys/{victim['id']}", headers={"x-api-key": manager}
        ).status_code
        == 200
    )
    while True:
        status = httpx.get(
            second.base_url + "/v1/account", headers={"x-api-key": victim["key"]}
        ).status_code
        elapsed = time.monotonic() - revoked_at
        if status == 401:
            break
        assert elapsed < 1.0, "the other replica still accepts the revoked key after 1 s"
        time.sleep(0.05)
    assert elapsed < 1.0


def test_rotation_on_one_replica_ends_the_old_key_on_the_other(
    replicas: tuple[Server, Server], stack: Stack
) -> None:
    first, second = replicas
    old = stack.key(stack.account("business"))
    assert remove(second, old).status_code == 200  # cached on the second replica
    key_id = httpx.get(first.base_url + "/api/keys", headers={"x-api-key": old}).json()["data"][0][
        "id"
    ]
    rotated = httpx.post(
        first.base_url + f"/api/keys/{key_id}/rotate",
        headers={"x-api-key": old},
        json={"grace": "0"},
    )
    assert rotated.status_code == 201
    time.sleep(0.5)
    assert remove(second, old).status_code == 401
    assert remove(second, rotated.json()["data"]["key"]).status_code == 200


def test_rate_limit_holds_across_replicas(replicas: tuple[Server, Server], stack: Stack) -> None:
    first, second = replicas
    key = stack.key(stack.account("business", rate_per_minute=4))
    statuses = [
        remove(server, key).status_code for server in (first, second, first, second, first, second)
    ]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_credits_exact_across_replicas(replicas: tuple[Server, Server], stack: Stack) -> None:
    first, second = replicas
    key = stack.key(stack.account("business", monthly_credits_milli=3000))
    statuses = [remove(server, key).status_code for server in (first, second) * 3]
    assert statuses.count(200) == 3 and statuses.count(402) == 3
    left = httpx.get(second.base_url + "/v1/account", headers={"x-api-key": key}).json()
    assert left["data"]["attributes"]["credits_left"] == 0
