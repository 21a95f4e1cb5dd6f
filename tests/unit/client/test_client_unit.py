"""The SDK against scripted responses (httpx.MockTransport): retries, errors, parsing."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bgone_client import (
    AsyncClient,
    AuthenticationError,
    BgoneAPIError,
    BgoneConnectionError,
    Client,
    InsufficientCreditsError,
    InvalidRequestError,
    MissingAPIKeyError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimit,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
)

KEY = "bgone_live_unit"
RESULT_HEADERS = {
    "content-type": "image/png",
    "x-width": "640",
    "x-height": "480",
    "x-foreground-top": "12",
    "x-foreground-left": "34",
    "x-foreground-width": "200",
    "x-foreground-height": "300",
    "x-credits-charged": "0.25",
    "x-request-id": "abc123",
    "x-ratelimit-limit": "500",
    "x-ratelimit-remaining": "499",
    "x-ratelimit-reset": "1700000060",
}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers=RESULT_HEADERS, content=b"PNGDATA")


def error(status: int, code: str, retry_after: str | None = None) -> httpx.Response:
    body = {"errors": [{"title": "T", "code": code, "detail": "D"}], "request_id": "rid"}
    headers = {"retry-after": retry_after} if retry_after else {}
    return httpx.Response(status, json=body, headers=headers)


class Script:
    """A transport answering with the given responses (or exceptions) in order."""

    def __init__(self, *answers: httpx.Response | Exception | Callable[..., httpx.Response]):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer


@pytest.fixture()
def sleeps() -> list[float]:
    return []


@pytest.fixture()
def make(sleeps: list[float]) -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def build(script: Script, **kwargs: Any) -> Client:
        client = Client(KEY, transport=httpx.MockTransport(script), sleep=sleeps.append, **kwargs)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def form(request: httpx.Request) -> dict[str, str]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def test_retries_429_honouring_retry_after(
    make: Callable[..., Client], sleeps: list[float]
) -> None:
    script = Script(
        error(429, "rate_limit_exceeded", "2"), error(429, "rate_limit_exceeded", "7"), ok
    )
    result = make(script).remove(b"img")
    assert sleeps == [2.0, 7.0]
    assert len(script.requests) == 3 and result.data == b"PNGDATA"


def test_retry_after_is_capped_by_max_backoff(
    make: Callable[..., Client], sleeps: list[float]
) -> None:
    make(Script(error(429, "rate_limit_exceeded", "100"), ok), max_backoff=5).remove(b"img")
    assert sleeps == [5.0]


def test_gives_up_after_max_retries(make: Callable[..., Client], sleeps: list[float]) -> None:
    script = Script(error(429, "rate_limit_exceeded", "1"))
    with pytest.raises(RateLimitError) as caught:
        make(script, max_retries=2).remove(b"img")
    assert sleeps == [1.0, 1.0] and len(script.requests) == 3
    failure = caught.value
    assert (failure.status, failure.code, failure.retry_after) == (429, "rate_limit_exceeded", 1)
    assert (failure.title, failure.detail, failure.request_id) == ("T", "D", "rid")


def test_no_retries_when_max_retries_is_zero(
    make: Callable[..., Client], sleeps: list[float]
) -> None:
    script = Script(error(429, "rate_limit_exceeded", "1"), ok)
    with pytest.raises(RateLimitError):
        make(script, max_retries=0).remove(b"img")
    assert sleeps == [] and len(script.requests) == 1


def test_503_is_retried_with_exponential_backoff_and_jitter(
    make: Callable[..., Client], sleeps: list[float]
) -> None:
    script = Script(
        error(503, "server_busy"), error(503, "server_busy"), error(503, "server_busy"), ok
    )
    assert make(script).remove(b"img").width == 640
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps):
        assert 0.25 * 2**attempt <= slept <= 0.5 * 2**attempt
    sleeps.clear()
    busy = Script(error(503, "service_unavailable"))
    with pytest.raises(ServiceUnavailableError) as caught:
        make(busy, max_retries=6, max_backoff=3.0).remove(b"img")
    assert caught.value.code == "service_unavailable"
    assert len(sleeps) == 6 and max(sleeps) == 3.0 and sleeps[-1] == 3.0


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "revoked_api_key", AuthenticationError),
        (401, "missing_api_key", AuthenticationError),
        # remove.bg's dialect (the SDK's /v1.0/removebg) answers authentication failures
        # with 403, as remove.bg does: the code, not the status, makes them authentication.
        (403, "missing_api_key", AuthenticationError),
        (403, "invalid_api_key", AuthenticationError),
        (403, "revoked_api_key", AuthenticationError),
        (403, "expired_api_key", AuthenticationError),
        (403, "account_suspended", PermissionDeniedError),
        (402, "insufficient_credits", InsufficientCreditsError),
        (413, "file_too_large", PayloadTooLargeError),
        (415, "invalid_file_type", UnsupportedMediaTypeError),
        (400, "invalid_bg_color", InvalidRequestError),
        (400, "failed_to_read_image", InvalidRequestError),
        (404, "not_found", NotFoundError),
        (503, "model_not_installed", ServiceUnavailableError),
        (500, "internal_error", BgoneAPIError),
    ],
)
def test_errors_map_to_typed_exceptions(
    make: Callable[..., Client],
    sleeps: list[float],
    status: int,
    code: str,
    kind: type[BgoneAPIError],
) -> None:
    script = Script(error(status, code))
    with pytest.raises(kind) as caught:
        make(script, max_retries=0).remove(b"img")
    assert type(caught.value) is kind
    assert (caught.value.status, caught.value.code) == (status, code)
    assert len(script.requests) == 1 and sleeps == []


def test_client_errors_are_not_retried(make: Callable[..., Client], sleeps: list[float]) -> None:
    script = Script(error(401, "invalid_api_key"), ok)
    with pytest.raises(AuthenticationError):
        make(script).remove(b"img")
    assert len(script.requests) == 1 and sleeps == []


def test_background_erase_error_object_is_read(make: Callable[..., Client]) -> None:
    """`/v2` answers `{"error": {...}}`; the SDK reads it like bgone's own body."""
    body = {"error": {"code": "invalid_api_key", "message": "D", "status": 401, "request_id": "r"}}
    with pytest.raises(AuthenticationError) as caught:
        make(Script(httpx.Response(401, json=body))).remove(b"img")
    assert (caught.value.code, caught.value.detail, caught.value.request_id) == (
        "invalid_api_key",
        "D",
        "r",
    )


def test_a_body_that_is_not_bgones_keeps_the_status(make: Callable[..., Client]) -> None:
    page = httpx.Response(502, text="<html>Bad gateway</html>", headers={"x-request-id": "p"})
    with pytest.raises(BgoneAPIError) as caught:
        make(Script(page)).remove(b"img")
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (
        502,
        "http_502",
        "p",
    )
    assert "Bad gateway" in caught.value.detail


def test_result_headers_are_parsed(make: Callable[..., Client], tmp_path: Path) -> None:
    result = make(Script(ok)).remove(b"img")
    assert result.content_type == "image/png"
    assert (result.width, result.height) == (640, 480)
    assert (result.foreground_top, result.foreground_left) == (12, 34)
    assert (result.foreground_width, result.foreground_height) == (200, 300)
    assert result.credits_charged == 0.25 and result.request_id == "abc123"
    assert result.rate_limit == RateLimit(limit=500, remaining=499, reset=1700000060)
    assert result.save(tmp_path / "out.png").read_bytes() == b"PNGDATA"


def test_missing_rate_limit_headers_give_none(make: Callable[..., Client]) -> None:
    bare = httpx.Response(200, headers={"content-type": "image/webp; q=1"}, content=b"x")
    result = make(Script(bare)).remove(b"img")
    assert result.rate_limit is None and result.content_type == "image/webp"


def test_key_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Script(ok)
    monkeypatch.setenv("BGONE_API_KEY", "bgone_live_from_env")
    with Client(transport=httpx.MockTransport(script)) as client:
        client.remove(b"img")
    assert script.requests[0].headers["x-api-key"] == "bgone_live_from_env"
    with Client("bgone_live_explicit", transport=httpx.MockTransport(script)) as client:
        client.remove(b"img")
    assert script.requests[1].headers["x-api-key"] == "bgone_live_explicit"
    monkeypatch.delenv("BGONE_API_KEY")
    with pytest.raises(MissingAPIKeyError, match="BGONE_API_KEY"):
        Client()
    assert issubclass(MissingAPIKeyError, ValueError)


def test_url_source_is_sent_as_image_url(make: Callable[..., Client]) -> None:
    script = Script(ok)
    make(script, base_url="http://bgone.test:9000/").remove(
        "https://example.com/photo.jpg", crop=True, bg_image="http://example.com/bg.png"
    )
    request = script.requests[0]
    assert (request.method, str(request.url)) == ("POST", "http://bgone.test:9000/v1.0/removebg")
    assert form(request) == {
        "image_url": "https://example.com/photo.jpg",
        "bg_image_url": "http://example.com/bg.png",
        "size": "full",
        "format": "png",
        "crop": "true",
    }


def test_file_sources_are_uploaded_with_options(
    make: Callable[..., Client], tmp_path: Path
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"JPEGBYTES")
    script = Script(ok)
    client = make(script)
    client.remove(photo, size="preview", format="jpg", crop_margin=10, bg_image=b"BGBYTES")
    client.remove(str(photo), channels="alpha", crop=False)
    client.remove(io.BytesIO(b"STREAM"), roi="0 0 50% 50%", scale="80%", position="center")
    first, second, third = (request.content for request in script.requests)
    for part in (b'name="image_file"; filename="photo.jpg"', b"JPEGBYTES", b'name="bg_image_file"'):
        assert part in first
    for part in (b'name="size"\r\n\r\npreview', b'name="format"\r\n\r\njpg', b"\r\n\r\n10\r\n"):
        assert part in first
    assert b'name="channels"\r\n\r\nalpha' in second and b'name="crop"\r\n\r\nfalse' in second
    assert b'name="size"\r\n\r\nfull' in second and b"bg_image" not in second
    assert b"STREAM" in third and b'name="roi"\r\n\r\n0 0 50% 50%' in third
    assert b'name="bg_color"' not in third  # None options are not sent
    with pytest.raises(TypeError):
        client.remove(12345)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        client.remove(tmp_path / "missing.png")


def test_account_is_parsed(make: Callable[..., Client]) -> None:
    document = {
        "data": {
            "attributes": {
                "credits": {"total": 999, "subscription": 999, "payg": 0, "enterprise": 0},
                "email": "a@example.com",
                "plan": "business",
                "key_environment": "production",
                "period": "2024-05",
                "credits_included": 1000,
                "credits_used": 0.75,
                "credits_reserved": 0.25,
                "credits_left": 999,
                "rate_limit_per_minute": 500,
                "max_megapixels": 25,
                "usage_this_period": {"requests": 4, "failed_requests": 1, "credits": 0.75},
            }
        }
    }
    script = Script(httpx.Response(200, json=document))
    info = make(script).account()
    assert script.requests[0].method == "GET" and script.requests[0].url.path == "/v1/account"
    assert (info.plan, info.email, info.period) == ("business", "a@example.com", "2024-05")
    assert info.key_environment == "production"
    assert (info.credits_left, info.credits_included, info.credits_used) == (999, 1000, 0.75)
    assert (info.rate_limit_per_minute, info.max_megapixels) == (500, 25)
    assert (info.requests_this_period, info.failed_requests_this_period) == (4, 1)
    assert info.raw == document


def test_connection_errors(make: Callable[..., Client], sleeps: list[float]) -> None:
    account: dict[str, Any] = {"data": {"attributes": {}}}
    flaky_get = Script(httpx.ReadError("reset"), httpx.Response(200, json=account))
    with pytest.raises(KeyError):  # got through to parsing: the GET was retried
        make(flaky_get).account()
    assert len(flaky_get.requests) == 2 and len(sleeps) == 1
    refused = Script(httpx.ConnectError("refused"), ok)
    assert make(refused).remove(b"img").width == 640  # never reached the server: safe to resend
    lost = Script(httpx.ReadError("reset"), ok)
    # It may have been processed: resent with the same Idempotency-Key, which the server
    # answers with the first answer, charged once.
    assert make(lost).remove(b"img").width == 640
    keys = [request.headers["idempotency-key"] for request in lost.requests]
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 36
    never = Script(httpx.ReadError("reset"), httpx.ReadError("reset"))
    with pytest.raises(BgoneConnectionError) as caught:
        make(never, max_retries=1).remove(b"img")
    assert len(never.requests) == 2 and isinstance(caught.value, ConnectionError)
    down = Script(httpx.ConnectError("refused"))
    with pytest.raises(BgoneConnectionError):
        make(down, max_retries=2).account()
    assert len(down.requests) == 3


def test_async_client_shares_the_behaviour() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    script = Script(error(429, "rate_limit_exceeded", "3"), ok)

    async def scenario() -> None:
        transport = httpx.MockTransport(script)
        async with AsyncClient(KEY, transport=transport, sleep=sleep) as client:
            result = await client.remove("https://example.com/a.png", bg_color="white")
            assert (result.width, result.credits_charged) == (640, 0.25)
            script.answers = [error(402, "insufficient_credits")]
            with pytest.raises(InsufficientCreditsError):
                await client.remove(b"img")

    asyncio.run(scenario())
    assert slept == [3.0]
    assert form(script.requests[0])["image_url"] == "https://example.com/a.png"
    assert form(script.requests[0])["bg_color"] == "white"
    assert len(script.requests) == 3 and b'name="image_file"' in script.requests[2].content


def test_each_removal_has_its_own_idempotency_key_and_reads_send_none(
    make: Callable[..., Client],
) -> None:
    account: dict[str, Any] = {"data": {"attributes": {}}}
    script = Script(ok, ok, httpx.Response(200, json=account))
    client = make(script)
    client.remove(b"img")
    client.remove(b"img")
    with pytest.raises(KeyError):
        client.account()
    first, second, read = (request.headers.get("idempotency-key") for request in script.requests)
    assert first and second and first != second
    assert read is None
