"""The one retry policy, which the sync and the async client both follow.

The policy only decides; the clients only do the I/O. After each attempt's outcome (a response
or a transport error) `RetryPolicy.wait_before_retry` answers "wait N seconds, then try again"
or "stop here", and `Attempts` carries one request through those decisions and turns its last
outcome into the caller's answer. Each client's send loop is then three lines around its own
`request` and `sleep` calls.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TypeAlias

import httpx

from bgone_client._errors import (
    IDEMPOTENCY_KEY_IN_USE,
    BgoneConnectionError,
    api_error,
    retry_after,
)

Outcome: TypeAlias = httpx.Response | httpx.TransportError

BACKOFF_BASE = 0.5  # seconds before the first retry without Retry-After, doubled each time
RETRY_STATUSES = frozenset({429, 503})  # over the rate limit, or busy: both pass with time
# Raised before any byte of the request left: resending cannot process (or charge) it twice.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


def jitter_factor() -> float:
    """A factor in [0.5, 1.0], so that clients that failed together do not retry together."""
    return random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry: 429 and 503 always, transport errors only when resending is safe.

    Resending is safe for a GET, for a request that never left, and for a POST that carries
    an `Idempotency-Key` (`idempotent`): the server answers its resend with the first answer
    (charged once), or with 409 `idempotency_key_in_use` while the first is still running,
    which is then waited out like a 503.
    """

    max_retries: int = 3
    max_backoff: float = 30.0  # seconds; caps Retry-After as well as the backoff

    def wait_before_retry(
        self, method: str, attempt: int, outcome: Outcome, idempotent: bool = False
    ) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to stop at this outcome."""
        if attempt >= self.max_retries:
            return None
        if isinstance(outcome, httpx.Response):
            if not (
                outcome.status_code in RETRY_STATUSES or (idempotent and _still_running(outcome))
            ):
                return None
            wait = retry_after(outcome.headers)
            if wait is not None:
                return min(wait, self.max_backoff)
        elif not (method == "GET" or idempotent or isinstance(outcome, NEVER_SENT)):
            return None  # the request may have reached the server: never resend a POST
        return min(BACKOFF_BASE * 2.0**attempt * jitter_factor(), self.max_backoff)

    def attempts(self, method: str, path: str, idempotent: bool = False) -> Attempts:
        """A fresh count of attempts for one request."""
        return Attempts(self, method, path, idempotent)


def _still_running(response: httpx.Response) -> bool:
    """409 `idempotency_key_in_use`: the first attempt has not finished on the server."""
    return response.status_code == 409 and api_error(response).code == IDEMPOTENCY_KEY_IN_USE


class Attempts:
    """One request's attempts so far, and what its last outcome means to the caller."""

    def __init__(self, policy: RetryPolicy, method: str, path: str, idempotent: bool) -> None:
        self.policy, self.method, self.path = policy, method, path
        self.idempotent = idempotent
        self.count = 0
        self._last: Outcome | None = None

    def after(self, outcome: Outcome) -> float | None:
        """Record an attempt's outcome: seconds to wait before the next one, or None if done."""
        self._last = outcome
        wait = self.policy.wait_before_retry(self.method, self.count, outcome, self.idempotent)
        self.count += 1
        return wait

    def result(self) -> httpx.Response:
        """The last response if it succeeded; else raise the error it means."""
        outcome = self._last
        if outcome is None:
            raise RuntimeError("no attempt was made")
        if isinstance(outcome, httpx.TransportError):
            raise BgoneConnectionError(f"{self.method} {self.path}: {outcome!r}") from outcome
        if outcome.is_error:
            raise api_error(outcome)
        return outcome
