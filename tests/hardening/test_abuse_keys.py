"""Forged keys: malformed ones never reach the database, and many invalid keys from one
address are throttled (429) while valid keys, from that address or another, keep working.

Query counting runs the app in process (bgone.server.app.create_app) with a SQLAlchemy
`before_cursor_execute` listener; the throttling runs against real `bgone serve` processes,
alone on SQLite (in-memory limits) and as two replicas sharing PostgreSQL and Redis.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from bgone.security.keys import Environment, generate_key
from bgone.server.app import create_app
from tests.support import error_bodies
from tests.support.abuse_hosts import client_from
from tests.support.imagegen import encode, gradient_rgb
from tests.support.invariants import Ledger, assert_invariants
from tests.support.servers import POSTGRES_REDIS, built_stack, server_fixtures
from tests.support.stack import Server, Stack

INVALID_KEYS_PER_MINUTE = 8
SMALL_PNG = encode(gradient_rgb(32, 24), "PNG")
VALID_FORM = generate_key(Environment.PRODUCTION)
MALFORMED_KEYS = {
    "wrong prefix": "sk_live_" + VALID_FORM[len("bgone_live_") :],
    "other product's prefix": "bgone_prod_" + VALID_FORM[len("bgone_live_") :],
    "bad checksum": VALID_FORM[:-1] + ("A" if VALID_FORM[-1] != "A" else "B"),
    "truncated": VALID_FORM[:-3],
    "not base62": VALID_FORM[:20] + "-" + VALID_FORM[21:],
}


# -- no database query for a malformed key ------------------------------------------------


class StatementLog:
    """Every SQL statement any engine in this process sends, from the moment it is attached."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        with self._lock:
            self.statements.append(" ".join(statement.split()))

    def take(self) -> list[str]:
        with self._lock:
            taken, self.statements = self.statements, []
        return taken


@pytest.fixture(scope="module")
def abuse_in_process(
    model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, StatementLog, Stack]]:
    data_dir = tmp_path_factory.mktemp("abuse-queries")
    stack = Stack("sqlite", data_dir, model_dir, f"sqlite:///{data_dir / 'bgone.db'}")
    # No job consumer: its scheduler's periodic webhook scan (every ten minutes of the wall
    # clock) queries the keys and made this module fail when it ran across such a minute.
    app = create_app(stack.settings.model_copy(update={"intra_op_threads": 1, "serve_jobs": "off"}))
    log = StatementLog()
    with TestClient(app) as client:
        event.listen(Engine, "before_cursor_execute", log)
        try:
            yield client, log, stack
        finally:
            event.remove(Engine, "before_cursor_execute", log)
            # Before the app's shutdown checkpoint, which needs no other connection open.
            stack.sessions.kw["bind"].dispose()


def is_usage_bookkeeping(statement: str) -> bool:
    """The request's own usage row (invariant 3) and the WAL checkpoints, nothing else; and
    the replica's heartbeat, which its own thread rewrites every 10 s whatever the requests."""
    lowered = statement.lower()
    touches_others = any(table in lowered for table in ("api_keys", "accounts", "plans"))
    bookkeeping = "usage_records" in lowered or lowered.startswith(("pragma", "begin"))
    heartbeat = "replica_heartbeats" in lowered
    return not touches_others and (bookkeeping or heartbeat)


@pytest.mark.parametrize("reason", list(MALFORMED_KEYS))
def test_malformed_keys_are_refused_without_a_database_query(
    abuse_in_process: tuple[TestClient, StatementLog, Stack], reason: str
) -> None:
    client, log, _ = abuse_in_process
    log.take()
    for path in ("/v1/account", "/api/keys"):
        response = client.get(path, headers={"x-api-key": MALFORMED_KEYS[reason]})
        assert response.status_code == 401
        assert code_of(response) == "invalid_api_key"
    response = client.post(
        "/v2",
        headers={"x-api-key": MALFORMED_KEYS[reason]},
        files={"image_file": ("a.png", SMALL_PNG)},
    )
    assert (response.status_code, code_of(response)) == (
        401,
        "invalid_api_key",
    )

    statements = log.take()
    assert [s for s in statements if not is_usage_bookkeeping(s)] == []
    assert sum(s.lower().startswith("insert into usage_records") for s in statements) >= 3


def test_well_formed_keys_do_reach_the_database(
    abuse_in_process: tuple[TestClient, StatementLog, Stack],
) -> None:
    """The control: the counter sees the lookup that a plausible key does cause."""
    client, log, stack = abuse_in_process
    log.take()
    unknown = client.get("/v1/account", headers={"x-api-key": generate_key(Environment.PRODUCTION)})
    assert unknown.status_code == 401
    assert any("api_keys" in s.lower() for s in log.take())

    valid = stack.key(stack.account("business"))
    assert client.get("/v1/account", headers={"x-api-key": valid}).status_code == 200
    assert any("api_keys" in s.lower() for s in log.take())


# -- throttling invalid keys per client address -------------------------------------------


def invalid_key(number: int) -> str:
    """Alternately malformed and well-formed-but-unknown: both count as invalid."""
    if number % 2:
        return list(MALFORMED_KEYS.values())[number % len(MALFORMED_KEYS)]
    return generate_key(Environment.PRODUCTION)


def code_of(response: httpx.Response) -> str:
    return error_bodies.code_of(response)


def attack_and_serve(
    stack: Stack, servers: list[Server], ledger: Ledger
) -> tuple[list[int], list[int]]:
    """An attacker on 127.0.0.2 sends invalid keys; a customer on the same address and one
    on 127.0.0.3 use valid keys in between. Returns the attacker's and customers' statuses."""
    account_id = stack.account("business")
    valid = stack.key(account_id)
    attacker_statuses: list[int] = []
    customer_statuses: list[int] = []
    with client_from("127.0.0.2") as same_address, client_from("127.0.0.3") as elsewhere:
        for number in range(INVALID_KEYS_PER_MINUTE + 6):
            server = servers[number % len(servers)]
            response = ledger.record(
                same_address.get(
                    server.base_url + "/v1/account", headers={"x-api-key": invalid_key(number)}
                )
            )
            attacker_statuses.append(response.status_code)
            if response.status_code == 429:
                assert code_of(response) == "too_many_invalid_keys"
                # A sliding window frees a request up to one window and a share later.
                assert 1 <= int(response.headers["retry-after"]) <= 2 * 60
            else:
                assert code_of(response) == "invalid_api_key"
            for customer in (same_address, elsewhere):
                answer = ledger.record(
                    customer.get(server.base_url + "/v1/account", headers={"x-api-key": valid})
                )
                customer_statuses.append(answer.status_code)
        # A removal from the throttled address, with a valid key, is served and charged.
        removal = ledger.record(
            same_address.post(
                servers[0].base_url + "/v2",
                headers={"x-api-key": valid},
                files={"image_file": ("a.png", SMALL_PNG)},
            )
        )
        customer_statuses.append(removal.status_code)
    assert_invariants(ledger, stack.sessions, [account_id])
    return attacker_statuses, customer_statuses


abuse_keys_stack, abuse_keys_server = server_fixtures(
    "abuse_keys", invalid_keys_per_minute=str(INVALID_KEYS_PER_MINUTE)
)


def test_invalid_keys_from_one_address_are_throttled_not_valid_customers(
    abuse_keys_stack: Stack, abuse_keys_server: Server
) -> None:
    stack, server = abuse_keys_stack, abuse_keys_server
    attacker, customers = attack_and_serve(stack, [server], Ledger())

    assert attacker[:INVALID_KEYS_PER_MINUTE] == [401] * INVALID_KEYS_PER_MINUTE
    assert set(attacker[INVALID_KEYS_PER_MINUTE:]) == {429}
    assert set(customers) == {200}
    # Another address sending a bad key is judged on its own count.
    with client_from("127.0.0.4") as other:
        response = other.get(
            server.base_url + "/v1/account", headers={"x-api-key": VALID_FORM[:-2]}
        )
    assert (response.status_code, code_of(response)) == (401, "invalid_api_key")


@pytest.mark.postgres
@pytest.mark.redis
def test_replicas_share_the_invalid_key_count_through_redis(
    request: pytest.FixtureRequest, model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with built_stack(POSTGRES_REDIS, request, model_dir, tmp_path_factory) as stack:
        replicas = [
            stack.start_server(invalid_keys_per_minute=str(INVALID_KEYS_PER_MINUTE))
            for _ in range(2)
        ]
        try:
            attacker, customers = attack_and_serve(stack, replicas, Ledger())
        finally:
            for replica in replicas:
                replica.stop()

    # One shared count: the limit holds across both replicas, not per replica.
    assert attacker[:INVALID_KEYS_PER_MINUTE] == [401] * INVALID_KEYS_PER_MINUTE
    assert set(attacker[INVALID_KEYS_PER_MINUTE:]) == {429}
    assert set(customers) == {200}
