"""`AsyncClient`: the asyncio SDK client, the same calls as `Client`, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx

from bgone_client._async_jobs import AsyncJobs
from bgone_client._errors import BgoneConnectionError, api_error
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


class AsyncClient(ClientBase):
    """The asyncio twin of `Client`: `async with AsyncClient() as c: await c.remove(...)`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
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
        self.jobs = AsyncJobs(self, sleep)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    aclose = close

    async def _attempt(self, call: Call) -> Outcome:
        try:
            return await self._http.request(call.method, call.path, **call.arguments())
        except httpx.TransportError as error:
            return error  # the retry policy decides whether this one is worth another try

    @asynccontextmanager
    async def _stream(self, method: str, path: str) -> AsyncIterator[httpx.Response]:
        """A streamed answer (a job's results ZIP); an error answer raises as `_send` does."""
        try:
            async with self._http.stream(method, path) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise api_error(response)
                yield response
        except httpx.TransportError as error:
            raise BgoneConnectionError(f"{method} {path}: {error}") from error

    async def _send(self, call: Call) -> httpx.Response:
        attempts = self.retry_policy.attempts(call.method, call.path, call.idempotent)
        while (wait := attempts.after(await self._attempt(call))) is not None:
            await self._sleep(wait)
        return attempts.result()

    async def remove(
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
        """Remove the background of `source`; the same options as `Client.remove`."""
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
        # Reading a path or file object must not block the event loop.
        call = await asyncio.to_thread(removal_call, source, bg_image, options)
        return RemovalResult.from_response(await self._send(call))

    async def account(self) -> AccountInfo:
        """Plan, credits left this period, rate limit and usage (`GET /v1/account`)."""
        return AccountInfo.from_response(await self._send(account_call()))
