"""Per-account rate limits, weighted by megapixels, in memory or in Redis.

One small protocol; the backend is chosen by URL (`memory://` or `redis://...`). The
counting itself is done by the `limits` library (sliding-window counters), so several
replicas sharing one Redis share one limit. What an image weighs is a business rule, in
`bgone.domain.pricing.rate_weight`; this module only counts.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol, cast

from limits import RateLimitItemPerMinute
from limits.storage import SlidingWindowCounterSupport, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from bgone.infra import metrics

log = logging.getLogger(__name__)

# Costs are counted in hundredths of an image so that 1.5 MP costs 1.5, not 2.
COST_SCALE = 100
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # images (of up to 1 MP) per window
    remaining: int
    # Unix time at which the window frees its next whole request (a refused one: at which
    # the refused request would fit).
    reset_at: float
    window_seconds: int = WINDOW_SECONDS

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))

    @property
    def reset_in(self) -> int:
        return max(0, math.ceil(self.reset_at - time.time()))


class RateLimiter(Protocol):
    # True when calls do network I/O (Redis): callers then run them off the event loop.
    blocking: bool

    def hit(self, bucket: str, per_minute: int, cost: float = 1.0) -> Decision: ...

    def peek(self, bucket: str, per_minute: int) -> Decision: ...

    # Gives back what an allowed hit counted (e.g. a log-in attempt that turned out right).
    def refund(self, bucket: str, per_minute: int, cost: float = 1.0) -> None: ...


class LimitsRateLimiter:
    """Sliding-window counters from the `limits` library over any of its storages."""

    def __init__(self, storage_url: str, key_prefix: str = "bgone") -> None:
        options: dict[str, float | str | bool] = {}
        if storage_url.startswith(("redis://", "rediss://")):
            options = {
                "key_prefix": key_prefix,
                "socket_timeout": 0.5,
                "socket_connect_timeout": 0.5,
            }
        self.storage = storage_from_string(storage_url, **options)
        self.blocking = not storage_url.startswith("memory://")
        self._strategy = SlidingWindowCounterRateLimiter(self.storage)

    def _decision(
        self, allowed: bool, item: RateLimitItemPerMinute, bucket: str, per_minute: int, cost: int
    ) -> Decision:
        # The library's own reset time is when one hundredth of an image frees up (about a
        # second ahead at any real limit): computed here from the same window instead.
        storage = cast(SlidingWindowCounterSupport, self.storage)
        window = storage.get_sliding_window(item.key_for(bucket), item.get_expiry())
        previous, previous_expires_in, current, current_expires_in = window
        used = previous * previous_expires_in / item.get_expiry() + current
        free = max(0, item.amount - math.floor(used))
        # Allowed: when the next whole image frees up. Refused: when this one would fit.
        needed = COST_SCALE - free % COST_SCALE if allowed else max(1, cost - free)
        if not (previous or current):
            needed = 0
        # The current window's key lives on for one more window, as the previous one.
        window_left = current_expires_in % item.get_expiry()
        wait = seconds_until_freed(needed, previous, current, window_left, item.get_expiry())
        return Decision(allowed, per_minute, free // COST_SCALE, time.time() + wait)

    def hit(self, bucket: str, per_minute: int, cost: float = 1.0) -> Decision:
        item = RateLimitItemPerMinute(per_minute * COST_SCALE)
        units = max(1, round(cost * COST_SCALE))
        allowed = self._strategy.hit(item, bucket, cost=units)
        return self._decision(allowed, item, bucket, per_minute, units)

    def peek(self, bucket: str, per_minute: int) -> Decision:
        item = RateLimitItemPerMinute(per_minute * COST_SCALE)
        return self._decision(True, item, bucket, per_minute, COST_SCALE)

    def refund(self, bucket: str, per_minute: int, cost: float = 1.0) -> None:
        # A negative hit: both the memory and the Redis sliding windows add it to the
        # current window's counter, atomically (Redis: in its one Lua script).
        item = RateLimitItemPerMinute(per_minute * COST_SCALE)
        self._strategy.hit(item, bucket, cost=-max(1, round(cost * COST_SCALE)))


def seconds_until_freed(
    needed: float, previous: float, current: float, window_left: float, window: float
) -> float:
    """Seconds until `needed` units leave a sliding-window counter.

    The previous window's count weighs in by the share of it still inside the sliding
    window, so it leaves at `previous / window` units a second until the current window
    ends (`window_left`); the current window's count then becomes the previous one and
    leaves the same way over the next window.
    """
    if needed <= 0:
        return 0.0
    leaving_now = previous * window_left / window
    if leaving_now >= needed:
        return needed * window / previous
    needed -= leaving_now
    if current <= 0 or needed >= current:
        return window_left + (window if current > 0 else 0.0)
    return window_left + needed * window / current


class FailoverRateLimiter:
    """Redis first; while Redis is unreachable, a per-replica in-memory limit.

    Availability wins over exactness: with Redis down each replica enforces the limit on
    its own, so N replicas admit up to N times the limit until Redis returns.
    """

    def __init__(
        self, primary: RateLimiter, fallback: RateLimiter, retry_seconds: float = 5.0
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.blocking = True
        self.retry_seconds = retry_seconds
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return time.monotonic() < self._down_until

    def _call(self, method: str, *args: object) -> Decision:
        if not self.degraded:
            try:
                result: Decision = getattr(self.primary, method)(*args)
                return result
            except Exception as error:  # any storage failure: degrade, never fail requests
                with self._lock:
                    self._down_until = time.monotonic() + self.retry_seconds
                metrics.count_redis_error("ratelimit")
                log.warning("rate-limit storage unavailable, using local limits: %s", error)
        metrics.count_redis_fallback("ratelimit")
        fallback: Decision = getattr(self.fallback, method)(*args)
        return fallback

    def hit(self, bucket: str, per_minute: int, cost: float = 1.0) -> Decision:
        return self._call("hit", bucket, per_minute, cost)

    def peek(self, bucket: str, per_minute: int) -> Decision:
        return self._call("peek", bucket, per_minute)

    def refund(self, bucket: str, per_minute: int, cost: float = 1.0) -> None:
        # Refunded where the hit was most likely counted; a refund lost to a failover only
        # makes the limit stricter for a minute.
        limiter = self.fallback if self.degraded else self.primary
        try:
            limiter.refund(bucket, per_minute, cost)
        except Exception as error:
            log.warning("rate-limit refund skipped: %s", error)


def limiter_from_url(redis_url: str, key_prefix: str = "bgone:ratelimit") -> RateLimiter:
    """In memory when `redis_url` is empty, else Redis with a local fallback."""
    memory = LimitsRateLimiter("memory://")
    if not redis_url:
        return memory
    return FailoverRateLimiter(LimitsRateLimiter(redis_url, key_prefix), memory)
