"""A client that resends at once after 429 is paced by the server; a polite one is not.

A real `bgone serve`: an account limited to one image a minute sends requests one after the
other without waiting for Retry-After. Past `BGONE_REFUSALS_BEFORE_DELAY` refusals in a second
its refusals are held back (counted by `bgone_paced_refusals_total`), still 429 with
Retry-After and still one usage row each; another account's refusals are counted apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from bgone.db.engine import transaction
from bgone.db.tables import UsageRecordRow
from tests.support.imagegen import encode, gradient_rgb
from tests.support.process import free_port
from tests.support.servers import stack_fixture
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(32, 24), "PNG")
FREE = 3

pacing_stack = stack_fixture("pacing_stack")


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def pacing_server(model_dir: Path, pacing_stack: Stack, metrics_port: int) -> Iterator[Server]:
    running = pacing_stack.start_server(
        metrics_port=str(metrics_port),
        refusals_before_delay=str(FREE),
        refusal_delay_seconds="0.2",
    )
    try:
        yield running
    finally:
        running.stop()


def paced_so_far(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "bgone_paced_refusals_total":
                return sample.value
    raise AssertionError("bgone_paced_refusals_total is not exported")


def send(server: Server, key: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/v2",
        headers={"x-api-key": key},
        files={"image_file": ("a.png", SMALL_PNG, "image/png")},
        timeout=30,
    )


def test_a_client_resending_at_once_is_paced_and_each_answer_is_still_recorded(
    pacing_server: Server, pacing_stack: Stack, metrics_port: int
) -> None:
    account = pacing_stack.account("business", rate_per_minute=1)
    key = pacing_stack.key(account)
    assert send(pacing_server, key).status_code == 200  # the one image of the minute
    before = paced_so_far(metrics_port)
    refusals = [send(pacing_server, key) for _ in range(FREE + 4)]
    assert [r.status_code for r in refusals] == [429] * len(refusals)
    assert all(r.headers.get("retry-after") for r in refusals)
    # A second holds 3 free refusals at most; the client's pace (0.2 s per held one) means
    # the 7 fit in one or two seconds: at least 7 - 2 x 3 of them were held.
    assert paced_so_far(metrics_port) - before >= len(refusals) - 2 * FREE
    with transaction(pacing_stack.sessions) as session:
        rows = session.scalar(select(func.count()).where(UsageRecordRow.account_id == account))
    assert rows == 1 + len(refusals)


def test_a_client_within_its_limit_is_never_held(
    pacing_server: Server, pacing_stack: Stack, metrics_port: int
) -> None:
    key = pacing_stack.key(pacing_stack.account("business"))
    before = paced_so_far(metrics_port)
    assert [send(pacing_server, key).status_code for _ in range(FREE + 2)] == [200] * (FREE + 2)
    assert paced_so_far(metrics_port) == before
