"""Noisy neighbours (issue 14): one account's image work cannot hold the server.

A real `bgone serve` and a real image host on 127.0.0.3 that counts every request: an
account over its rate limit or out of credits never makes the server download anything; an
account's slow downloads hold only its share of the download pool (the rest of its requests
get 429 `concurrency_limit_exceeded` at once); and `/readyz` and another account's
`/v1/account` answer while those downloads are still held.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from tests.support.abuse_hosts import ImageHost, image_host
from tests.support.error_bodies import code_of
from tests.support.imagegen import encode, gradient_rgb
from tests.support.servers import server_fixtures
from tests.support.stack import Server, Stack

HOST_ADDRESS = "127.0.0.3"
SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")
# Random pixels, so that it stays large: about 270 KB.
LARGE_PNG = encode(Image.frombytes("RGB", (300, 300), random.randbytes(300 * 300 * 3)), "PNG")
SLOW_REQUESTS = 45
# Four download threads: an account's share is max(2, ceil(0.25 x 4)) = 2.
DOWNLOAD_SHARE = 2

neighbours_stack, neighbours_server = server_fixtures(
    "neighbours",
    url_fetch_allowed_networks=f'["{HOST_ADDRESS}/32"]',
    download_pool_size="4",
    account_share="0.25",
    # Long enough that the slow downloads are still held while the probes are answered.
    url_fetch_timeout_seconds="15",
)


@pytest.fixture(scope="module")
def host() -> Iterator[ImageHost]:
    with image_host(HOST_ADDRESS) as serving:
        yield serving


def post_url(server: Server, key: str, url: str) -> httpx.Response:
    return httpx.post(
        server.base_url + "/v2", headers={"x-api-key": key}, json={"image_url": url}, timeout=120
    )


def test_an_account_over_its_rate_limit_never_causes_a_download(
    neighbours_server: Server, neighbours_stack: Stack, host: ImageHost
) -> None:
    key = neighbours_stack.key(neighbours_stack.account("business", rate_per_minute=1))
    url = host.serve("/rate-limited.png", SMALL_PNG)
    assert post_url(neighbours_server, key, url).status_code == 200
    for _ in range(5):
        refused = post_url(neighbours_server, key, url)
        assert refused.status_code == 429, refused.text
        assert code_of(refused) == "rate_limit_exceeded"
    assert host.hits("/rate-limited.png") == 1
    # An upload is refused before its body is read, and the connection is closed rather than
    # drained of the rest.
    upload = httpx.post(
        neighbours_server.base_url + "/v2",
        headers={"x-api-key": key},
        files={"image_file": ("big.png", LARGE_PNG)},
        timeout=60,
    )
    assert upload.status_code == 429, upload.text
    assert upload.headers["connection"] == "close"


def test_an_account_without_credits_never_causes_a_download_nor_uses_its_quota(
    neighbours_server: Server, neighbours_stack: Stack, host: ImageHost
) -> None:
    account = neighbours_stack.account("business", rate_per_minute=10, monthly_credits_milli=0)
    key = neighbours_stack.key(account)
    url = host.serve("/no-credits.png", SMALL_PNG)
    background = host.serve("/no-credits-background.png", SMALL_PNG)
    for _ in range(3):
        refused = httpx.post(
            neighbours_server.base_url + "/v2",
            headers={"x-api-key": key},
            json={"image_url": url, "bg_image_url": background},
            timeout=60,
        )
        assert refused.status_code == 402, refused.text
        # The 402 used up none of the account's 10 images a minute.
        assert refused.headers["x-ratelimit-remaining"] == "10"
    assert host.hits("/no-credits.png") == host.hits("/no-credits-background.png") == 0


def test_slow_downloads_hold_only_their_accounts_share_and_probes_stay_answered(
    neighbours_server: Server, neighbours_stack: Stack, host: ImageHost
) -> None:
    attacker = neighbours_stack.key(neighbours_stack.account("business"))
    victim = neighbours_stack.key(neighbours_stack.account("business"))
    base = neighbours_server.base_url
    assert httpx.get(base + "/v1/account", headers={"x-api-key": victim}).status_code == 200
    slow = host.drip("/slow.png")
    with ThreadPoolExecutor(max_workers=SLOW_REQUESTS) as pool:
        futures = [
            pool.submit(post_url, neighbours_server, attacker, slow) for _ in range(SLOW_REQUESTS)
        ]
        deadline = time.monotonic() + 30
        while host.hits("/slow.png") < DOWNLOAD_SHARE:
            assert time.monotonic() < deadline, "the slow downloads never started"
            time.sleep(0.05)
        ready = httpx.get(base + "/readyz", timeout=60)
        account = httpx.get(base + "/v1/account", headers={"x-api-key": victim}, timeout=60)
        # Answered while the slow downloads were still held: none of them had ended yet.
        ended_downloads = [future for future in futures if future.done() and _status(future) != 429]
        responses = [future.result() for future in futures]
    assert ready.status_code == 200 and account.status_code == 200
    assert ended_downloads == []
    refused = [response for response in responses if response.status_code == 429]
    assert len(refused) == SLOW_REQUESTS - DOWNLOAD_SHARE
    for response in refused:
        assert code_of(response) == "concurrency_limit_exceeded"
        assert int(response.headers["retry-after"]) >= 1
    assert host.hits("/slow.png") == DOWNLOAD_SHARE
    # The two that were let through timed out on the drip; nothing was charged for them.
    timed_out = [response for response in responses if response.status_code != 429]
    assert [code_of(response) for response in timed_out] == [
        "image_download_timeout"
    ] * DOWNLOAD_SHARE


def _status(future: Future[httpx.Response]) -> int:
    return future.result().status_code
