"""A removal against its account's rate limit: a look before anything is spent, hits after.

The look (`refuse_when_exhausted`) uses up nothing: front ends take it before they read a
request's body and the removal use case before it reserves credits, so that an account with
no image left this minute costs neither an upload parse nor a database write. The hits
(`admit`) count: one image provisionally before any download, the rest of the image's
weight once its header has been read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Protocol

import anyio.to_thread

from bgone.domain import pricing
from bgone.domain.authentication import KeyContext
from bgone.errors import RateLimitExceeded
from bgone.infra.ratelimit import Decision, RateLimiter

# What a request weighs before its image is measured: the least an image weighs
# (`pricing.rate_weight`). The rest is hit once the header has been read.
PROVISIONAL_WEIGHT = 1.0


class RateLedger(Protocol):
    rate: Decision | None  # carried into the answer's rate-limit headers, on errors too


async def refuse_when_exhausted(
    limiter: RateLimiter, caller: KeyContext, ledger: RateLedger
) -> None:
    """429 at once when not one image is left this minute."""
    peek = partial(
        limiter.peek,
        pricing.rate_bucket(caller.account_id, caller.environment),
        caller.rate_per_minute,
    )
    decision = await _call(limiter, peek)
    if decision.remaining < PROVISIONAL_WEIGHT:
        decision = replace(decision, allowed=False)
    ledger.rate = decision
    if not decision.allowed:
        _refuse(decision)


async def admit(
    limiter: RateLimiter, caller: KeyContext, ledger: RateLedger, weight: float
) -> None:
    """Count `weight` images against the account's limit, or 429 when they do not fit."""
    hit = partial(
        limiter.hit,
        pricing.rate_bucket(caller.account_id, caller.environment),
        caller.rate_per_minute,
        weight,
    )
    decision = await _call(limiter, hit)
    ledger.rate = decision
    if not decision.allowed:
        _refuse(decision)


async def _call(limiter: RateLimiter, call: Callable[[], Decision]) -> Decision:
    # In memory the count costs less than a hand-off to a thread; Redis is network I/O.
    return await anyio.to_thread.run_sync(call) if limiter.blocking else call()


def _refuse(decision: Decision) -> None:
    raise RateLimitExceeded(
        f"More than {decision.limit} images (of up to 1 MP each) per minute for this "
        f"account. Retry after {decision.retry_after} s.",
        decision.retry_after,
    )
