"""The SDK's `quality` keyword is sent as the API's field, and what ran comes back."""

from __future__ import annotations

import asyncio

import httpx

from bgone_client import AsyncClient, Client
from tests.unit.client.test_client_unit import KEY, RESULT_HEADERS, Script, form

BEST_HEADERS = {**RESULT_HEADERS, "x-quality": "best", "x-quality-models": "u2netp,isnet"}


def best(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers=BEST_HEADERS, content=b"PNGDATA")


def test_quality_is_sent_and_what_ran_is_read() -> None:
    script = Script(best)
    with Client(KEY, transport=httpx.MockTransport(script)) as client:
        result = client.remove("https://example.com/photo.jpg", quality="best")
        client.remove("https://example.com/photo.jpg")
    chosen, unchosen = (form(request) for request in script.requests)
    assert chosen["quality"] == "best"
    assert "quality" not in unchosen  # None leaves the server's default
    assert (result.quality, result.quality_models) == ("best", ("u2netp", "isnet"))


def test_the_async_client_sends_quality_too() -> None:
    script = Script(best)

    async def scenario() -> tuple[str, tuple[str, ...]]:
        async with AsyncClient(KEY, transport=httpx.MockTransport(script)) as client:
            result = await client.remove("https://example.com/a.png", quality="fast")
            return result.quality, result.quality_models

    assert asyncio.run(scenario()) == ("best", ("u2netp", "isnet"))
    assert form(script.requests[0])["quality"] == "fast"


def test_an_older_server_without_the_headers_gives_empty_values() -> None:
    plain = httpx.Response(200, headers=RESULT_HEADERS, content=b"x")
    with Client(KEY, transport=httpx.MockTransport(Script(plain))) as client:
        result = client.remove(b"img")
    assert (result.quality, result.quality_models) == ("", ())
