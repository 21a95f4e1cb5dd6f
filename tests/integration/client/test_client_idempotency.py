"""The SDK's retry of a lost connection, against a real `bgone serve` (SQLite; PostgreSQL +
Redis): the first attempt reaches the server and is charged, its answer is lost on the way
back, and the retry, with the same Idempotency-Key, gets that answer and is not charged."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import UsageRecordRow
from bgone_client import AsyncClient, Client
from tests.support.imagegen import encode, gradient_rgb, open_bytes
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")


class LosesTheFirstAnswer(httpx.BaseTransport):
    """Sends every request to the real server; drops the first removal's answer after the
    server has sent it, as a connection reset would."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            self.keys.append(request.headers.get("idempotency-key"))
            if len(self.keys) == 1:
                response.read()
                response.close()
                raise httpx.ReadError("connection reset before the answer", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncLosesTheFirstAnswer(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.keys: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST":
            self.keys.append(request.headers.get("idempotency-key"))
            if len(self.keys) == 1:
                await response.aread()
                await response.aclose()
                raise httpx.ReadError("connection reset before the answer", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def removal_rows(stack: Stack, account: int) -> list[tuple[int, int]]:
    with transaction(stack.sessions) as session:
        rows = session.execute(
            select(UsageRecordRow.status, UsageRecordRow.credits_milli)
            .where(
                UsageRecordRow.account_id == account,
                UsageRecordRow.endpoint == "POST /v1.0/removebg",
            )
            .order_by(UsageRecordRow.id)
        ).all()
    return [(status, milli) for status, milli in rows]


def test_a_lost_answer_is_retried_and_charged_once(server: Server, stack: Stack) -> None:
    account = stack.account("business")
    transport = LosesTheFirstAnswer()
    with Client(
        stack.key(account), server.base_url, transport=transport, sleep=lambda _: None
    ) as bgone:
        before = bgone.account()
        result = bgone.remove(SMALL_PNG)
        after = bgone.account()
    first_key, retry_key = transport.keys
    assert first_key is not None and first_key == retry_key
    assert (result.width, result.height, result.credits_charged) == (64, 48, 1.0)
    assert open_bytes(result.data).size == (64, 48)
    assert after.credits_used == before.credits_used + 1.0
    # Both attempts were answered (the first's answer was lost); only the first was charged.
    assert removal_rows(stack, account) == [(200, 1000), (200, 0)]


def test_the_async_client_retries_a_lost_answer_the_same_way(server: Server, stack: Stack) -> None:
    account = stack.account("business")
    transport = AsyncLosesTheFirstAnswer()

    async def no_wait(_: float) -> None:
        return None

    async def scenario() -> float:
        async with AsyncClient(
            stack.key(account), server.base_url, transport=transport, sleep=no_wait
        ) as bgone:
            return (await bgone.remove(SMALL_PNG)).credits_charged

    assert asyncio.run(scenario()) == 1.0
    assert len(transport.keys) == 2 and transport.keys[0] == transport.keys[1]
    assert removal_rows(stack, account) == [(200, 1000), (200, 0)]
