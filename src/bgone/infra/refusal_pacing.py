"""Holding back the answers to an account that keeps sending after it has been refused.

A client past its rate limit, or its share of the pools, gets 429 with Retry-After at once.
One that ignores Retry-After and resends at once costs the server a connection, a header
parse, a log line and a usage row per try: hundreds a second from 32 threads, taken from
the other customers' CPU. So past `free_per_second` refusals in a second, an account's next
refusals are answered after `delay_seconds` (at most its Retry-After): a waiting coroutine
costs no CPU, and a client that resends as soon as it is answered is paced to its own
concurrency per delay. A well-behaved client never notices: it does not resend that fast.

Held answers are bounded per account and in all, so holding never piles up connections
beyond those bounds; past them the answer goes out at once. State is per process: each
replica paces what it sees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from bgone.infra import metrics


@dataclass(frozen=True)
class PacingOptions:
    free_per_second: int = 10  # BGONE_REFUSALS_BEFORE_DELAY
    delay_seconds: float = 1.0  # BGONE_REFUSAL_DELAY_SECONDS; 0 turns pacing off
    max_held_per_account: int = 64
    max_held: int = 512


@dataclass
class _Window:
    """An account's refusals in one second (held answers are counted apart: they outlive it)."""

    second: int
    refusals: int = 0


class RefusalPacer:
    def __init__(
        self,
        options: PacingOptions,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.options = options
        self._clock, self._sleep = clock, sleep
        self._windows: dict[Hashable, _Window] = {}
        self._held_by: dict[Hashable, int] = {}
        self._held = 0

    @property
    def held(self) -> int:
        return self._held

    async def pace(self, account: Hashable, retry_after: float) -> None:
        """Called as `account` is refused; returns when the refusal may be answered."""
        delay = min(self.options.delay_seconds, max(0.0, retry_after))
        if delay <= 0:
            return
        window = self._window(account)
        window.refusals += 1
        if window.refusals <= self.options.free_per_second:
            return
        held_by = self._held_by.get(account, 0)
        if held_by >= self.options.max_held_per_account or self._held >= self.options.max_held:
            return
        self._held_by[account] = held_by + 1
        self._held += 1
        metrics.count_paced_refusal()
        try:
            await self._sleep(delay)
        finally:
            self._held -= 1
            left = self._held_by[account] - 1
            if left:
                self._held_by[account] = left
            else:
                del self._held_by[account]

    def _window(self, account: Hashable) -> _Window:
        second = int(self._clock())
        window = self._windows.get(account)
        if window is None or window.second != second:
            window = _Window(second)
            self._windows[account] = window
            self._forget_idle(second)
        return window

    def _forget_idle(self, second: int) -> None:
        # Bounded memory: windows of earlier seconds are dropped once there are many.
        if len(self._windows) < 1024:
            return
        for account in [a for a, w in self._windows.items() if w.second != second]:
            del self._windows[account]
