"""The SDK against a real `bgone serve` (SQLite; PostgreSQL + Redis), with the real model."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bgone.security.keys import Environment, generate_key
from bgone_client import (
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidRequestError,
    RateLimitError,
)
from tests.support.imagegen import encode, gradient_rgb, open_bytes
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")
IMAGE_HOST = "127.0.0.2"  # allow-listed for the URL test's server; 127.0.0.1 stays refused


@pytest.fixture()
def key(stack: Stack) -> str:
    return stack.key(stack.account("business"))


def test_remove_a_path_and_bytes(
    server: Server, key: str, tmp_path: Path, person_jpeg: bytes
) -> None:
    photo = tmp_path / "person.jpg"
    photo.write_bytes(person_jpeg)
    with Client(key, server.base_url) as bgone:
        result = bgone.remove(photo)
        small = bgone.remove(SMALL_PNG, size="preview", format="jpg", bg_color="white")
    assert (result.content_type, result.width, result.height) == ("image/png", 267, 400)
    cutout = open_bytes(result.data)
    assert (cutout.format, cutout.mode, cutout.size) == ("PNG", "RGBA", (267, 400))
    assert result.foreground_width > 50 and result.foreground_height > 50
    assert result.foreground_top >= 0 and result.foreground_left >= 0
    assert result.credits_charged == 1.0 and len(result.request_id) == 32
    assert result.rate_limit is not None and result.rate_limit.limit == 500
    assert result.rate_limit.remaining < 500
    assert (small.content_type, small.width, small.height) == ("image/jpeg", 64, 48)
    assert small.credits_charged == 0.25
    assert open_bytes(small.data).mode == "RGB"
    assert open_bytes(result.save(tmp_path / "out.png").read_bytes()).size == (267, 400)


def test_background_image_and_options(server: Server, key: str, person_jpeg: bytes) -> None:
    background = encode(gradient_rgb(32, 32), "PNG")
    with Client(key, server.base_url) as bgone:
        composed = bgone.remove(person_jpeg, bg_image=background, crop=True, crop_margin="5%")
        with pytest.raises(InvalidRequestError) as caught:
            bgone.remove(person_jpeg, bg_color="not-a-colour")
    image = open_bytes(composed.data)
    assert image.mode == "RGB"  # composed over the background: opaque, no alpha channel
    assert image.size == (composed.width, composed.height) and composed.height < 400
    assert caught.value.code == "invalid_bg_color" and caught.value.status == 400


def test_account_balance_drops_by_the_charged_credits(server: Server, key: str) -> None:
    with Client(key, server.base_url) as bgone:
        before = bgone.account()
        result = bgone.remove(SMALL_PNG)
        after = bgone.account()
    assert (before.plan, before.key_environment) == ("business", "production")
    assert before.credits_included == 1000 and before.rate_limit_per_minute == 500
    assert result.credits_charged == 1.0
    assert after.credits_left == before.credits_left - result.credits_charged
    assert after.credits_used == before.credits_used + result.credits_charged
    assert after.requests_this_period == before.requests_this_period + 2  # account + remove
    assert after.raw["data"]["attributes"]["credits"]["total"] == after.credits_left


def test_revoked_and_unknown_keys(server: Server, key: str) -> None:
    listed = httpx.get(server.base_url + "/api/keys", headers={"x-api-key": key}).json()
    revoked = httpx.delete(
        server.base_url + f"/api/keys/{listed['data'][0]['id']}", headers={"x-api-key": key}
    )
    assert revoked.status_code == 200
    for secret, code in (
        (key, "revoked_api_key"),
        (generate_key(Environment.PRODUCTION), "invalid_api_key"),
    ):
        with Client(secret, server.base_url) as bgone, pytest.raises(AuthenticationError) as caught:
            bgone.remove(SMALL_PNG)
        # The SDK's removals go to remove.bg's /v1.0/removebg, which answers 403 as remove.bg
        # does; the code makes it an AuthenticationError all the same.
        assert (caught.value.status, caught.value.code) == (403, code)
        assert caught.value.request_id and len(caught.value.request_id) == 32
        with Client(secret, server.base_url) as bgone, pytest.raises(AuthenticationError):
            bgone.account()


def test_tiny_rate_limit(server: Server, stack: Stack) -> None:
    key = stack.key(stack.account("business", rate_per_minute=1))
    with Client(key, server.base_url, max_retries=0) as bgone:
        first = bgone.remove(SMALL_PNG)
        assert first.rate_limit is not None and first.rate_limit.remaining == 0
        with pytest.raises(RateLimitError) as caught:
            bgone.remove(SMALL_PNG)
    assert caught.value.code == "rate_limit_exceeded" and caught.value.status == 429
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 60
    # With retries, each wait is Retry-After capped by max_backoff, then the typed error.
    slept: list[float] = []
    with (
        Client(key, server.base_url, max_retries=2, max_backoff=0.05, sleep=slept.append) as bgone,
        pytest.raises(RateLimitError),
    ):
        bgone.remove(SMALL_PNG)
    assert slept == [0.05, 0.05]


def test_async_client_removes(server: Server, key: str, person_jpeg: bytes) -> None:
    async def scenario() -> None:
        async with AsyncClient(key, server.base_url) as bgone:
            results = await asyncio.gather(
                bgone.remove(person_jpeg, size="preview"), bgone.remove(SMALL_PNG)
            )
            info = await bgone.account()
        person, small = results
        assert (person.content_type, small.width, small.height) == ("image/png", 64, 48)
        assert open_bytes(person.data).mode == "RGBA" and person.width * person.height <= 260_000
        assert (person.credits_charged, small.credits_charged) == (0.25, 1.0)
        assert info.credits_used == 1.25

    asyncio.run(scenario())


class ImageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(SMALL_PNG)))
        self.end_headers()
        self.wfile.write(SMALL_PNG)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer((IMAGE_HOST, 0), ImageHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://{IMAGE_HOST}:{httpd.server_address[1]}"
    httpd.shutdown()


def test_url_source(stack: Stack, image_host: str) -> None:
    url_server = stack.start_server(url_fetch_allowed_networks=f'["{IMAGE_HOST}/32"]')
    try:
        key = stack.key(stack.account("business"))
        with Client(key, url_server.base_url) as bgone:
            result = bgone.remove(f"{image_host}/photo.png", bg_image=f"{image_host}/bg.png")
            with pytest.raises(InvalidRequestError) as caught:
                bgone.remove("http://127.0.0.1:9/x.png")
    finally:
        url_server.stop()
    assert (result.width, result.height) == (64, 48)
    assert open_bytes(result.data).mode == "RGB"  # composed over the fetched background
    assert caught.value.code == "invalid_image_url"
