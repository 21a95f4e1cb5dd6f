"""How much each account has in process on this replica, whatever the stage.

Each pool caps an account's share of its own threads, but an image moves from decoding to
inference: an account sending many large photos at once held its share of the decode pool
and of the pipeline together, twice the images in process a customer at the share's
concurrency has, and so took about two thirds of the cores from it. Counting the account's
images from admission to answer, across stages, caps what it has in process at the share:
past it, 429 at once.

Within the share, images are also weighed while another account has images in process: each
weighs what it weighs against the rate limit, max(1, its megapixels)
(`bgone.domain.pricing.rate_weight`), since decoding, resizing, composing and encoding grow
with the pixels; two 8 MP uploads take several times the CPU of two 1 MP photos, and a share
counted in images gave such an account most of the cores. An image that would take the
account past its share by weight waits (it is not refused: a customer at the share's
concurrency always fits) until the account's earlier images are done, or until no other
account is served. One image of an account always runs, however heavy.

A request counts from before its body is read (`receiving`): sixteen uploads sent at once
all passed the look before any of them held a slot, were each received and parsed whole (25
MB apiece), and only then were all but the share refused. Counted while they arrive, the
ones past the share are refused before their bodies are read.

Bookkeeping on the event loop thread only (admission and release happen there): no lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from bgone.errors import ConcurrencyLimitExceeded
from bgone.infra import metrics


@dataclass
class _Held:
    images: int = 0  # admitted: running or waiting for their weight to fit
    weight: float = 0.0  # of those running


class AccountSlots:
    def __init__(self, share: int, retry_after: Callable[[], int]) -> None:
        self.share = share
        self._retry_after = retry_after
        self._held: dict[Hashable, _Held] = {}
        self._receiving: dict[Hashable, int] = {}  # requests whose body is being read
        self._wakeups: list[asyncio.Future[None]] = []  # images waiting for their weight

    def held_by(self, account: Hashable) -> int:
        """The account's images in process (running or waiting for their weight), and its
        requests still being received."""
        held = self._held.get(account)
        return (held.images if held is not None else 0) + self._receiving.get(account, 0)

    def refuse_if_full(self, account: Hashable) -> None:
        """Raise what `holding` would raise now; takes no slot."""
        if self.held_by(account) >= self.share:
            metrics.count_rejection("in_process", "account_share")
            raise ConcurrencyLimitExceeded(
                f"This account already has {self.share} images in process on this server, "
                "its share; send fewer at a time or retry shortly.",
                self._retry_after(),
            )

    def runs_now(self, account: Hashable, weight: float) -> bool:
        """Whether an admitted image of `weight` may start (else it waits)."""
        held = self._held.get(account, _Held())
        if held.weight == 0:
            return True  # nothing of the account's running: one image always runs
        if not any(other != account for other in self._held):
            return True  # alone on the replica: counted in images only
        return held.weight + weight <= self.share

    @contextmanager
    def receiving(self, account: Hashable) -> Iterator[None]:
        """One of the account's requests while its body is read (before `holding`)."""
        self.refuse_if_full(account)
        self._receiving[account] = self._receiving.get(account, 0) + 1
        try:
            yield
        finally:
            left = self._receiving[account] - 1
            if left:
                self._receiving[account] = left
            else:
                del self._receiving[account]

    @asynccontextmanager
    async def holding(self, account: Hashable, weight: float = 1.0) -> AsyncIterator[None]:
        """One of the account's images, of `weight`, from admission until its answer."""
        self.refuse_if_full(account)
        held = self._held.setdefault(account, _Held())
        held.images += 1
        running = False
        try:
            while not self.runs_now(account, weight):
                wakeup = asyncio.get_running_loop().create_future()
                self._wakeups.append(wakeup)
                await wakeup  # resolved whenever an image ends; then checked again
            held.weight += weight
            running = True
            yield
        finally:
            if running:
                held.weight -= weight
            held.images -= 1
            if held.images == 0:
                del self._held[account]
            self._wake_all()

    def _wake_all(self) -> None:
        wakeups, self._wakeups = self._wakeups, []
        for wakeup in wakeups:
            if not wakeup.done():
                wakeup.set_result(None)
