"""`Client`: the synchronous SDK client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from bgone_client._errors import BgoneConnectionError, api_error
from bgone_client._jobs import Jobs
from bgone_client._models import AccountInfo, RemovalResult
from bgone_client._requests import (
    DEFAULT_BASE_URL,
    Call,
    ChannelsName,
    ClientBase,
    FormatName,
    QualityName,
    RefinementName,
    RemoveOptions,
    SizeName,
    Source,
    account_call,
    removal_call,
)
from bgone_client._retry import Outcome


class Client(ClientBase):
    """Synchronous client; use as a context manager or call `close()`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
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
        self.jobs = Jobs(self, sleep)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _attempt(self, call: Call) -> Outcome:
        try:
            return self._http.request(call.method, call.path, **call.arguments())
        except httpx.TransportError as error:
            return error  # the retry policy decides whether this one is worth another try

    @contextmanager
    def _stream(self, method: str, path: str) -> Iterator[httpx.Response]:
        """A streamed answer (a job's results ZIP); an error answer raises as `_send` does."""
        try:
            with self._http.stream(method, path) as response:
                if response.status_code >= 400:
                    response.read()
                    raise api_error(response)
                yield response
        except httpx.TransportError as error:
            raise BgoneConnectionError(f"{method} {path}: {error}") from error

    def _send(self, call: Call) -> httpx.Response:
        attempts = self.retry_policy.attempts(call.method, call.path, call.idempotent)
        while (wait := attempts.after(self._attempt(call))) is not None:
            self._sleep(wait)
        return attempts.result()

    def remove(
        self,
        source: Source,
        *,
        size: SizeName | None = None,
        format: FormatName | None = None,
        channels: ChannelsName | None = None,
        crop: bool | None = None,
        crop_margin: str | int | None = None,
        bg_color: str | None = None,
        roi: str | None = None,
        scale: str | None = None,
        position: str | None = None,
        model: str | None = None,
        refinement: RefinementName | None = None,
        quality: QualityName | None = None,
        bg_image: Source | None = None,
    ) -> RemovalResult:
        """Remove the background of `source`: a path, bytes, a file object or an http(s) URL.

        The options are the HTTP API's (README): `size` (default `full`), `format` (default
        `png`), `channels`, `crop`, `crop_margin` ("10px", "5%"), `bg_color` ("white",
        "#ff000080"), `bg_image` (any source), `roi` ("x1 y1 x2 y2"), `scale` ("80%"),
        `position` ("center", "50% 80%"), `model`, `refinement`, `quality` ("best": slower,
        better edges; not with `model` or `refinement`). None leaves the server's choice.
        Raises a `BgoneAPIError` subclass or `BgoneConnectionError`.
        """
        options = RemoveOptions(
            size=size,
            format=format,
            channels=channels,
            crop=crop,
            crop_margin=crop_margin,
            bg_color=bg_color,
            roi=roi,
            scale=scale,
            position=position,
            model=model,
            refinement=refinement,
            quality=quality,
        )
        return RemovalResult.from_response(self._send(removal_call(source, bg_image, options)))

    def account(self) -> AccountInfo:
        """Plan, credits left this period, rate limit and usage (`GET /v1/account`)."""
        return AccountInfo.from_response(self._send(account_call()))
