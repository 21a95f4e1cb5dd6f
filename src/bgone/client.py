"""Python SDK for a bgone server: `Client` and its asyncio twin `AsyncClient`.

    from bgone.client import Client, RateLimitError

    with Client("bgone_live_...", "http://127.0.0.1:8000") as bgone:  # or BGONE_API_KEY
        result = bgone.remove("photo.jpg", crop=True, bg_color="white", format="jpg")
        result.save("cutout.jpg")
        print(result.width, result.height, result.credits_charged)
        print(bgone.account().credits_left)

    async with AsyncClient() as bgone:
        result = await bgone.remove("https://example.com/photo.jpg", size="hd")

A source is a path, bytes, a binary file object or an `http(s)://` URL (fetched by the server).
Every removal is one `POST /v1.0/removebg` (the contract that also takes a background image),
always with `size` and `format` sent, defaulting to `full` and `png` like the library and CLI
(not remove.bg's `preview`/`auto`). Failures raise a `BgoneAPIError` subclass carrying the
server's stable `code`; 429 and 503 are retried up to `max_retries` times, waiting
`Retry-After` seconds or else 0.5 s * 2**attempt with jitter, each wait capped at `max_backoff`.
Transport errors are retried for GETs, and for POSTs only when the connection never opened.
Only httpx is needed: the SDK does not import the server's dependencies.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, TypeAlias

import httpx

from bgone import __version__

Source: TypeAlias = str | os.PathLike[str] | bytes | bytearray | IO[bytes]
SizeName = Literal["preview", "medium", "hd", "full", "auto"]
FormatName = Literal["png", "webp", "jpg", "zip", "auto"]

REMOVE_PATH = "/v1.0/removebg"
ACCOUNT_PATH = "/v1/account"
BACKOFF_BASE = 0.5
RETRY_STATUSES = frozenset({429, 503})


class BgoneClientError(Exception):
    """Base of every error the SDK raises."""


class MissingAPIKeyError(BgoneClientError, ValueError):
    """No api_key was given and BGONE_API_KEY is unset."""


class BgoneConnectionError(BgoneClientError, ConnectionError):
    """The server could not be reached, or the connection failed before an answer."""


class BgoneAPIError(BgoneClientError):
    """The server answered with an error body `{"errors": [...], "request_id": ...}`."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.request_id, self.retry_after = request_id, retry_after


class InvalidRequestError(BgoneAPIError):
    """400: a bad image, option or source (`invalid_<option>`, `failed_to_read_image`...)."""


class AuthenticationError(BgoneAPIError):
    """401: missing, invalid, revoked or expired API key."""


class InsufficientCreditsError(BgoneAPIError):
    """402: no credits left this period."""


class PermissionDeniedError(BgoneAPIError):
    """403: plan without API access, suspended account, key limit reached."""


class NotFoundError(BgoneAPIError):
    """404."""


class ConflictError(BgoneAPIError):
    """409: e.g. rotating a key that is no longer active."""


class PayloadTooLargeError(BgoneAPIError):
    """413: the upload exceeds the server's limit."""


class UnsupportedMediaTypeError(BgoneAPIError):
    """415: not a JPEG, PNG or WebP image."""


class RateLimitError(BgoneAPIError):
    """429: over the account's images per minute; see `retry_after`."""


class ServiceUnavailableError(BgoneAPIError):
    """503: server busy, database or model unavailable."""


ERRORS_BY_STATUS: Mapping[int, type[BgoneAPIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}
_CODES_BY_STATUS = {
    401: "missing_api_key invalid_api_key revoked_api_key expired_api_key",
    402: "insufficient_credits",
    403: "plan_without_api_access account_suspended key_limit_reached",
    404: "not_found",
    409: "account_exists key_not_active",
    413: "file_too_large",
    415: "invalid_file_type",
    429: "rate_limit_exceeded",
    503: "server_busy service_unavailable model_unavailable model_not_installed",
}
# The server's stable codes; any other `invalid_*` or 400 code is an InvalidRequestError.
ERRORS_BY_CODE: Mapping[str, type[BgoneAPIError]] = {
    code: ERRORS_BY_STATUS[status]
    for status, codes in _CODES_BY_STATUS.items()
    for code in codes.split()
}


@dataclass(frozen=True)
class RateLimit:
    limit: int  # images (of up to 1 MP each) per minute
    remaining: int
    reset: int  # Unix time at which the window has fully refilled


@dataclass(frozen=True)
class RemovalResult:
    data: bytes = field(repr=False)
    content_type: str
    width: int
    height: int
    foreground_top: int
    foreground_left: int
    foreground_width: int
    foreground_height: int
    credits_charged: float
    request_id: str
    rate_limit: RateLimit | None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the result's bytes to `path` and return it."""
        target = Path(path)
        target.write_bytes(self.data)
        return target


@dataclass(frozen=True)
class AccountInfo:
    plan: str
    email: str
    key_environment: str
    period: str
    credits_left: float
    credits_included: float
    credits_used: float
    credits_reserved: float
    rate_limit_per_minute: int
    max_megapixels: float
    requests_this_period: int
    failed_requests_this_period: int
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    data: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)


def _source(source: Source) -> str | tuple[str, bytes, str]:
    """A URL string, or a multipart file part (name, bytes, content type)."""
    if isinstance(source, str) and source.lower().startswith(("http://", "https://")):
        return source
    if isinstance(source, bytes | bytearray):
        return ("image", bytes(source), "application/octet-stream")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return (path.name, path.read_bytes(), "application/octet-stream")
    if hasattr(source, "read"):
        name = Path(str(getattr(source, "name", "image"))).name
        return (name, source.read(), "application/octet-stream")
    raise TypeError(f"unsupported source type {type(source).__name__}")


def _options(arguments: dict[str, Any]) -> dict[str, Any]:
    """The option keywords of a `remove` call (its `locals()`), with bgone's defaults."""
    options = {k: v for k, v in arguments.items() if k not in ("self", "source", "bg_image")}
    return {**options, "size": options["size"] or "full", "format": options["format"] or "png"}


def _remove_call(source: Source, bg_image: Source | None, options: dict[str, Any]) -> _Call:
    call = _Call("POST", REMOVE_PATH)
    for value, file_field, url_field in (
        (source, "image_file", "image_url"),
        (bg_image, "bg_image_file", "bg_image_url"),
    ):
        if value is None:
            continue
        part = _source(value)
        if isinstance(part, str):
            call.data[url_field] = part
        else:
            call.files[file_field] = part
    for name, value in options.items():
        if isinstance(value, bool):
            call.data[name] = "true" if value else "false"
        elif value is not None:
            call.data[name] = str(value)
    return call


def _retry_after(headers: httpx.Headers) -> float | None:
    try:
        return max(0.0, float(headers["retry-after"]))
    except (KeyError, ValueError):
        return None  # absent, or an HTTP date: fall back to backoff


def _api_error(response: httpx.Response) -> BgoneAPIError:
    status = response.status_code
    code, title, detail = f"http_{status}", response.reason_phrase, response.text[:500]
    request_id = response.headers.get("x-request-id")
    try:
        body = response.json()
        first = body["errors"][0]
        code, title, detail = str(first["code"]), str(first["title"]), str(first["detail"])
        request_id = body.get("request_id") or request_id
    except (ValueError, KeyError, IndexError, TypeError):
        pass  # not bgone's error body (a proxy's page, say): keep the HTTP status
    kind = ERRORS_BY_CODE.get(code) or ERRORS_BY_STATUS.get(status, BgoneAPIError)
    return kind(status, code, title, detail, request_id, _retry_after(response.headers))


def _removal_result(response: httpx.Response) -> RemovalResult:
    headers = response.headers

    def number(name: str) -> int:
        return int(headers.get(name, "0"))

    rate = None
    if "x-ratelimit-limit" in headers:
        rate = RateLimit(
            number("x-ratelimit-limit"),
            number("x-ratelimit-remaining"),
            number("x-ratelimit-reset"),
        )
    return RemovalResult(
        data=response.content,
        content_type=headers.get("content-type", "").split(";")[0].strip(),
        width=number("x-width"),
        height=number("x-height"),
        foreground_top=number("x-foreground-top"),
        foreground_left=number("x-foreground-left"),
        foreground_width=number("x-foreground-width"),
        foreground_height=number("x-foreground-height"),
        credits_charged=float(headers.get("x-credits-charged", "0")),
        request_id=headers.get("x-request-id", ""),
        rate_limit=rate,
    )


def _account_info(response: httpx.Response) -> AccountInfo:
    document: dict[str, Any] = response.json()
    attributes = document["data"]["attributes"]
    usage = attributes.get("usage_this_period", {})
    return AccountInfo(
        plan=attributes["plan"],
        email=attributes["email"],
        key_environment=attributes["key_environment"],
        period=attributes["period"],
        credits_left=float(attributes["credits_left"]),
        credits_included=float(attributes["credits_included"]),
        credits_used=float(attributes["credits_used"]),
        credits_reserved=float(attributes["credits_reserved"]),
        rate_limit_per_minute=int(attributes["rate_limit_per_minute"]),
        max_megapixels=float(attributes["max_megapixels"]),
        requests_this_period=int(usage.get("requests", 0)),
        failed_requests_this_period=int(usage.get("failed_requests", 0)),
        raw=document,
    )


class _Base:
    """Configuration, retry decisions and everything else both clients share."""

    def __init__(
        self, api_key: str | None, base_url: str, max_retries: int, max_backoff: float
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("BGONE_API_KEY")
        if not key:
            raise MissingAPIKeyError("no API key: pass api_key=... or set BGONE_API_KEY")
        self.base_url = base_url.rstrip("/")
        self.max_retries, self.max_backoff = max_retries, max_backoff
        self._headers = {"x-api-key": key, "user-agent": f"bgone-python/{__version__}"}

    def _wait_before_retry(
        self, call: _Call, attempt: int, response: httpx.Response | None, error: Exception | None
    ) -> float | None:
        """Seconds to wait before retrying, or None to give up (raise or return)."""
        if attempt >= self.max_retries:
            return None
        if response is not None:
            if response.status_code not in RETRY_STATUSES:
                return None
            retry_after = _retry_after(response.headers)
            if retry_after is not None:
                return min(retry_after, self.max_backoff)
        elif not (
            call.method == "GET" or isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
        ):
            return None  # the request may have reached the server: never resend a POST
        return min(BACKOFF_BASE * 2.0**attempt * random.uniform(0.5, 1.0), self.max_backoff)

    @staticmethod
    def _checked(response: httpx.Response) -> httpx.Response:
        if response.is_error:
            raise _api_error(response)
        return response

    @staticmethod
    def _request_args(call: _Call) -> dict[str, Any]:
        return {"data": call.data or None, "files": call.files or None}


class Client(_Base):
    """Synchronous client; use as a context manager or call `close()`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = "http://127.0.0.1:8000",
        *,
        timeout: float | httpx.Timeout = 60.0,
        max_retries: int = 3,
        max_backoff: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(api_key, base_url, max_retries, max_backoff)
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: _Call) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, call.path, **self._request_args(call))
            except httpx.TransportError as error:
                wait = self._wait_before_retry(call, attempt, None, error)
                if wait is None:
                    raise BgoneConnectionError(f"{call.method} {call.path}: {error!r}") from error
            else:
                wait = self._wait_before_retry(call, attempt, response, None)
                if wait is None:
                    return self._checked(response)
            self._sleep(wait)
            attempt += 1

    def remove(
        self,
        source: Source,
        *,
        size: SizeName | None = None,
        format: FormatName | None = None,
        channels: Literal["rgba", "alpha"] | None = None,
        crop: bool | None = None,
        crop_margin: str | int | None = None,
        bg_color: str | None = None,
        roi: str | None = None,
        scale: str | None = None,
        position: str | None = None,
        model: str | None = None,
        refinement: Literal["guided", "curve", "raw"] | None = None,
        bg_image: Source | None = None,
    ) -> RemovalResult:
        """Remove the background of `source`: a path, bytes, a file object or an http(s) URL.

        The options are the HTTP API's (README): `size` (default `full`), `format` (default
        `png`), `channels`, `crop`, `crop_margin` ("10px", "5%"), `bg_color` ("white",
        "#ff000080"), `bg_image` (any source), `roi` ("x1 y1 x2 y2"), `scale` ("80%"),
        `position` ("center", "50% 80%"), `model`, `refinement`. None leaves the server's
        choice. Raises a `BgoneAPIError` subclass or `BgoneConnectionError`.
        """
        call = _remove_call(source, bg_image, _options(locals()))
        return _removal_result(self._send(call))

    def account(self) -> AccountInfo:
        """Plan, credits left this period, rate limit and usage (`GET /v1/account`)."""
        return _account_info(self._send(_Call("GET", ACCOUNT_PATH)))


class AsyncClient(_Base):
    """The asyncio twin of `Client`: `async with AsyncClient() as c: await c.remove(...)`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = "http://127.0.0.1:8000",
        *,
        timeout: float | httpx.Timeout = 60.0,
        max_retries: int = 3,
        max_backoff: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(api_key, base_url, max_retries, max_backoff)
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    aclose = close

    async def _send(self, call: _Call) -> httpx.Response:
        attempt = 0
        while True:
            try:
                args = self._request_args(call)
                response = await self._http.request(call.method, call.path, **args)
            except httpx.TransportError as error:
                wait = self._wait_before_retry(call, attempt, None, error)
                if wait is None:
                    raise BgoneConnectionError(f"{call.method} {call.path}: {error!r}") from error
            else:
                wait = self._wait_before_retry(call, attempt, response, None)
                if wait is None:
                    return self._checked(response)
            await self._sleep(wait)
            attempt += 1

    async def remove(
        self,
        source: Source,
        *,
        size: SizeName | None = None,
        format: FormatName | None = None,
        channels: Literal["rgba", "alpha"] | None = None,
        crop: bool | None = None,
        crop_margin: str | int | None = None,
        bg_color: str | None = None,
        roi: str | None = None,
        scale: str | None = None,
        position: str | None = None,
        model: str | None = None,
        refinement: Literal["guided", "curve", "raw"] | None = None,
        bg_image: Source | None = None,
    ) -> RemovalResult:
        """Remove the background of `source`; the same options as `Client.remove`."""
        # Reading a path or file object must not block the event loop.
        call = await asyncio.to_thread(_remove_call, source, bg_image, _options(locals()))
        return _removal_result(await self._send(call))

    async def account(self) -> AccountInfo:
        """Plan, credits left this period, rate limit and usage (`GET /v1/account`)."""
        return _account_info(await self._send(_Call("GET", ACCOUNT_PATH)))
