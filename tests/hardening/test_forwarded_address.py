"""A client address that is no address, forwarded by a trusted (loopback) proxy, is stored as
none and costs no other request its usage row: on SQLite, and on PostgreSQL, whose
VARCHAR(45) refused it and failed whole batches of other accounts' rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from bgone.db.tables import ApiKeyRow, UsageRecordRow
from tests.support.servers import POSTGRES_REDIS, SQLITE, server_fixtures
from tests.support.stack import Server, Stack

GOOD_REQUESTS = 120
GARBLED_KEYS = 20  # each key's first use records where it came from
GARBLED = "not-an-address-" + "x" * 45  # 60 characters, no comma for uvicorn to split on

# The loopback peer is a trusted proxy here, as nginx is in deploy/: its header is believed.
forwarded_stack, forwarded_server = server_fixtures(
    "forwarded", kinds=(SQLITE, POSTGRES_REDIS), forwarded_allow_ips="127.0.0.1"
)


def rows_of(stack: Stack, account_id: int) -> int:
    with stack.sessions() as session:
        statement = select(func.count()).where(UsageRecordRow.account_id == account_id)
        return session.scalar(statement) or 0


def test_a_garbled_forwarded_address_loses_no_row(
    forwarded_stack: Stack, forwarded_server: Server
) -> None:
    stack, server = forwarded_stack, forwarded_server
    good_account = stack.account("business")
    garbled_account = stack.account("business", max_keys=GARBLED_KEYS)
    good_key = stack.key(good_account)
    garbled_keys = [stack.key(garbled_account) for _ in range(GARBLED_KEYS)]
    calls = [({"x-api-key": good_key}) for _ in range(GOOD_REQUESTS)]
    for index, key in enumerate(garbled_keys):  # spread among the others' requests
        calls.insert(index * 6, {"x-api-key": key, "x-forwarded-for": GARBLED})

    with (
        httpx.Client(base_url=server.base_url, timeout=30) as client,
        ThreadPoolExecutor(8) as pool,
    ):
        statuses = list(
            pool.map(lambda headers: client.get("/v1/account", headers=headers).status_code, calls)
        )

    assert set(statuses) == {200}
    assert rows_of(stack, good_account) == GOOD_REQUESTS
    assert rows_of(stack, garbled_account) == GARBLED_KEYS
    with stack.sessions() as session:
        addresses = set(
            session.scalars(
                select(ApiKeyRow.last_used_ip).where(ApiKeyRow.account_id == garbled_account)
            )
        )
    assert addresses == {None}
    assert "could not record" not in server.log()
