"""The one retry policy: its decisions, and both clients following that same policy."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from bgone_client import AsyncClient, Client, RetryPolicy, ServiceUnavailableError
from bgone_client._retry import Outcome

KEY = "bgone_live_unit"


def response(status: int, retry_after: str | None = None) -> httpx.Response:
    return httpx.Response(status, headers={"retry-after": retry_after} if retry_after else {})


@pytest.mark.parametrize(
    ("method", "attempt", "outcome", "wait"),
    [
        ("POST", 0, response(200), None),  # success: nothing to retry
        ("POST", 0, response(400), None),  # the caller's mistake: retrying changes nothing
        ("POST", 0, response(401), None),
        ("POST", 0, response(500), None),  # the server failed: it may have processed it
        ("POST", 0, response(429, "2"), 2.0),
        ("POST", 0, response(503, "7"), 7.0),
        ("POST", 0, response(429, "100"), 30.0),  # Retry-After is capped by max_backoff
        ("POST", 0, response(429, "-5"), 0.0),
        ("POST", 3, response(429, "1"), None),  # max_retries spent
        ("POST", 0, httpx.ConnectError("refused"), "backoff"),  # never reached the server
        ("POST", 0, httpx.ConnectTimeout("slow"), "backoff"),
        ("POST", 0, httpx.ReadError("reset"), None),  # may have been processed: not resent
        ("POST", 0, httpx.ReadTimeout("slow"), None),
        ("GET", 0, httpx.ReadError("reset"), "backoff"),  # reading twice is harmless
        ("GET", 3, httpx.ConnectError("refused"), None),
    ],
)
def test_decisions(method: str, attempt: int, outcome: Outcome, wait: float | str | None) -> None:
    decided = RetryPolicy().wait_before_retry(method, attempt, outcome)
    if wait == "backoff":
        assert decided is not None and 0.25 <= decided <= 0.5
    else:
        assert decided == wait


def conflict(code: str) -> httpx.Response:
    body = {"errors": [{"title": "t", "code": code, "detail": "d"}], "request_id": "r"}
    return httpx.Response(409, json=body, headers={"retry-after": "1"})


@pytest.mark.parametrize(
    ("outcome", "plain", "idempotent"),
    [
        # A POST with an Idempotency-Key may be resent after any transport error: the server
        # answers a resend with the first answer.
        (httpx.ReadError("reset"), None, "backoff"),
        (httpx.ReadTimeout("slow"), None, "backoff"),
        (httpx.RemoteProtocolError("closed"), None, "backoff"),
        # A resend that finds the first still running waits for it, as for a 503.
        (conflict("idempotency_key_in_use"), None, 1.0),
        (conflict("idempotency_answer_too_large"), None, None),
        (conflict("key_not_active"), None, None),
        (response(422), None, None),
        (response(500), None, None),
    ],
)
def test_decisions_with_an_idempotency_key(
    outcome: Outcome, plain: float | None, idempotent: float | str | None
) -> None:
    policy = RetryPolicy()
    assert policy.wait_before_retry("POST", 0, outcome) == plain
    decided = policy.wait_before_retry("POST", 0, outcome, idempotent=True)
    if idempotent == "backoff":
        assert decided is not None and 0.25 <= decided <= 0.5
    else:
        assert decided == idempotent
    assert policy.wait_before_retry("POST", 3, outcome, idempotent=True) is None


@pytest.mark.parametrize("retry_after", [None, "Wed, 21 Oct 2026 07:28:00 GMT"])
def test_backoff_doubles_with_jitter_up_to_the_cap(retry_after: str | None) -> None:
    policy = RetryPolicy(max_retries=8, max_backoff=10.0)
    for attempt in range(8):
        wait = policy.wait_before_retry("POST", attempt, response(503, retry_after))
        assert wait is not None
        assert min(0.25 * 2**attempt, 10.0) <= wait <= min(0.5 * 2**attempt, 10.0)


def test_attempts_count_and_the_last_outcome_decides() -> None:
    attempts = RetryPolicy(max_retries=1).attempts("GET", "/v1/account")
    assert attempts.after(response(503)) is not None
    assert attempts.after(response(503)) is None and attempts.count == 2
    with pytest.raises(ServiceUnavailableError):
        attempts.result()


@pytest.fixture()
def decisions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int, int]]]:
    """Every decision the one policy function takes, whichever client asked for it."""
    taken: list[tuple[str, int, int]] = []
    decide = RetryPolicy.wait_before_retry

    def recording(
        policy: RetryPolicy, method: str, attempt: int, outcome: Outcome, idempotent: bool = False
    ) -> float | None:
        status = outcome.status_code if isinstance(outcome, httpx.Response) else 0
        taken.append((method, attempt, status))
        return decide(policy, method, attempt, outcome, idempotent)

    monkeypatch.setattr(RetryPolicy, "wait_before_retry", recording)
    yield taken


def script() -> list[httpx.Response | Exception]:
    """Refused, then over the rate limit, then busy until the retries are spent."""
    return [httpx.ConnectError("refused"), response(429, "2"), response(503, "1"), response(503)]


def handler(answers: list[httpx.Response | Exception]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        next_answer = answers.pop(0)
        if isinstance(next_answer, Exception):
            raise next_answer
        return next_answer

    return httpx.MockTransport(answer)


def test_sync_and_async_clients_follow_the_same_policy(
    decisions: list[tuple[str, int, int]],
) -> None:
    sync_sleeps: list[float] = []
    with Client(KEY, transport=handler(script()), sleep=sync_sleeps.append) as client:
        assert client.retry_policy == RetryPolicy(max_retries=3, max_backoff=30.0)
        with pytest.raises(ServiceUnavailableError):
            client.remove(b"img")
    sync_decisions = decisions[:]
    decisions.clear()

    async_sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        async_sleeps.append(seconds)

    async def scenario() -> None:
        async with AsyncClient(KEY, transport=handler(script()), sleep=sleep) as client:
            assert client.retry_policy == RetryPolicy(max_retries=3, max_backoff=30.0)
            with pytest.raises(ServiceUnavailableError):
                await client.remove(b"img")

    asyncio.run(scenario())
    assert (
        sync_decisions
        == decisions
        == [("POST", 0, 0), ("POST", 1, 429), ("POST", 2, 503), ("POST", 3, 503)]
    )
    assert sync_sleeps[1:] == async_sleeps[1:] == [2.0, 1.0]
    assert len(sync_sleeps) == len(async_sleeps) == 3
