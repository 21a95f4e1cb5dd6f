"""Python SDK for a bgone server: `Client` and its asyncio twin `AsyncClient`.

    from bgone_client import Client, RateLimitError

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
Transport errors are retried for GETs and for removals: each `remove()` sends its own random
`Idempotency-Key`, the same on every retry, so that a resend after a lost connection gets the
first answer and is charged once (a resend that finds the first still running waits for it).
Batch jobs: `job = bgone.jobs.submit(paths, RemoveOptions(size="full"))`, then
`bgone.jobs.wait(job)` and `bgone.jobs.download(job, "out/")`; on `AsyncClient` the same
calls, awaited.
Only httpx is needed: the SDK imports nothing of the server (the `bgone` package).
"""

from bgone_client._async import AsyncClient
from bgone_client._async_jobs import AsyncJobs
from bgone_client._errors import (
    ERRORS_BY_CODE,
    ERRORS_BY_STATUS,
    AuthenticationError,
    BgoneAPIError,
    BgoneClientError,
    BgoneConnectionError,
    ConflictError,
    IdempotencyKeyReusedError,
    InsufficientCreditsError,
    InvalidRequestError,
    MissingAPIKeyError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
    error_class,
)
from bgone_client._jobs import Job, JobItem, Jobs
from bgone_client._models import AccountInfo, RateLimit, RemovalResult
from bgone_client._requests import (
    ACCOUNT_PATH,
    REMOVE_PATH,
    FormatName,
    QualityName,
    RemoveOptions,
    SizeName,
    Source,
)
from bgone_client._retry import BACKOFF_BASE, RETRY_STATUSES, RetryPolicy
from bgone_client._sync import Client
from bgone_client._version import __version__

__all__ = [
    "ACCOUNT_PATH",
    "BACKOFF_BASE",
    "ERRORS_BY_CODE",
    "ERRORS_BY_STATUS",
    "REMOVE_PATH",
    "RETRY_STATUSES",
    "AccountInfo",
    "AsyncClient",
    "AsyncJobs",
    "AuthenticationError",
    "BgoneAPIError",
    "BgoneClientError",
    "BgoneConnectionError",
    "Client",
    "ConflictError",
    "FormatName",
    "IdempotencyKeyReusedError",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "Job",
    "JobItem",
    "Jobs",
    "MissingAPIKeyError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "QualityName",
    "RateLimit",
    "RateLimitError",
    "RemovalResult",
    "RemoveOptions",
    "RetryPolicy",
    "ServiceUnavailableError",
    "SizeName",
    "Source",
    "UnsupportedMediaTypeError",
    "__version__",
    "error_class",
]
