"""Rate limits shared by an account's keys, exact credits, one usage row per request."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from bgone.db.engine import transaction
from bgone.db.tables import UsageRecordRow
from bgone.domain import accounts, credits
from tests.support.error_bodies import code_of
from tests.support.imagegen import encode, gradient_rgb
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")


def remove(server: Server, key: str, **data: str) -> httpx.Response:
    return httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key},
        files={"image_file": ("a.png", SMALL_PNG)},
        data=data,
        timeout=60,
    )


def test_rate_limit_is_shared_by_all_keys_of_an_account(server: Server, stack: Stack) -> None:
    account_id = stack.account("business", rate_per_minute=3)
    first, second = stack.key(account_id), stack.key(account_id)
    statuses = [remove(server, key).status_code for key in (first, second, first)]
    assert statuses == [200, 200, 200]
    limited = remove(server, second)
    assert limited.status_code == 429
    assert code_of(limited) == "rate_limit_exceeded"
    # A sliding-window counter frees a request only once the current window has become the
    # previous one and decayed enough: up to one window plus its share of the next.
    assert 1 <= int(limited.headers["retry-after"]) <= 2 * 60
    assert limited.headers["x-ratelimit-remaining"] == "0"
    # Another account is not affected.
    other = stack.key(stack.account("business", rate_per_minute=3))
    assert remove(server, other).status_code == 200


def test_rate_limit_weighs_megapixels(server: Server, stack: Stack) -> None:
    account_id = stack.account("business", rate_per_minute=5)
    key = stack.key(account_id)
    three_megapixels = encode(gradient_rgb(2000, 1500), "JPEG")
    response = httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key},
        files={"image_file": ("big.jpg", three_megapixels)},
        data={"size": "preview"},
        timeout=60,
    )
    assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining"] == "2"  # 5 - 3 MP


@pytest.fixture()
def usage_rows(stack: Stack) -> Iterator[Callable[[int], int]]:
    def count(account_id: int) -> int:
        with transaction(stack.sessions) as session:
            statement = select(func.count()).where(UsageRecordRow.account_id == account_id)
            return int(session.scalar(statement) or 0)

    yield count


def test_credits_exact_after_a_mix_and_one_usage_row_per_request(
    server: Server, stack: Stack, usage_rows: Callable[[int], int]
) -> None:
    account_id = stack.account("business", monthly_credits_milli=10_000)
    key = stack.key(account_id)
    outcomes = [
        remove(server, key).status_code,  # 1
        remove(server, key, size="preview").status_code,  # 0.25
        remove(server, key, size="nonsense").status_code,  # error: 0
        httpx.post(
            server.base_url + "/v2",
            headers={"x-api-key": key},
            files={"image_file": ("x.gif", b"GIF89a....")},
        ).status_code,  # error: 0
        remove(server, key, size="medium").status_code,  # 1
        remove(server, key, size="auto").status_code,  # 1
        httpx.get(server.base_url + "/v1/account", headers={"x-api-key": key}).status_code,
    ]
    assert outcomes == [200, 200, 400, 415, 200, 200, 200]
    with transaction(stack.sessions) as session:
        limits = accounts.effective_limits(accounts.get_by_id(session, account_id))
        balance = credits.balance(session, account_id, limits)
        charged = session.scalar(
            select(func.sum(UsageRecordRow.credits_milli)).where(
                UsageRecordRow.account_id == account_id
            )
        )
    assert (balance.used_milli, balance.reserved_milli) == (3250, 0)
    assert charged == 3250
    assert usage_rows(account_id) == len(outcomes)


def test_auto_size_falls_back_to_preview_when_credits_run_low(server: Server, stack: Stack) -> None:
    key = stack.key(stack.account("business", monthly_credits_milli=500))
    response = remove(server, key, size="auto")
    assert response.status_code == 200
    assert response.headers["x-credits-charged"] == "0.25"
