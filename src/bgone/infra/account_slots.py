"""How much each account has in process on this replica, whatever the stage.

Each pool caps an account's share of its own threads, but an image moves from decoding to
inference: an account sending many large photos at once held its share of the decode pool
and of the pipeline together, twice the images in process a customer at the share's
concurrency has, and so took about two thirds of the cores from it. Counting the account's
images from admission to answer, across stages, caps what it has in process at the share.

While another account has images in process too, each image weighs what it weighs against
the rate limit, max(1, its megapixels) (`bgone.domain.pricing.rate_weight`): decoding,
resizing, composing and encoding grow with the pixels, so two 8 MP uploads take several
times the CPU of two 1 MP photos, and a share counted in images gave such an account most
of the cores. An image is always admitted when its account has nothing in process, however
heavy; and an account alone on the replica is counted in images, so a single customer's
large photos still run side by side on an otherwise idle server.

Bookkeeping on the event loop thread only (admission and release happen there): no lock.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bgone.errors import ConcurrencyLimitExceeded
from bgone.infra import metrics


@dataclass
class _Held:
    images: int = 0
    weight: float = 0.0


class AccountSlots:
    def __init__(self, share: int, retry_after: Callable[[], int]) -> None:
        self.share = share
        self._retry_after = retry_after
        self._held: dict[Hashable, _Held] = {}

    def held_by(self, account: Hashable) -> int:
        """The account's images in process."""
        held = self._held.get(account)
        return held.images if held is not None else 0

    def fits(self, account: Hashable, weight: float = 1.0) -> bool:
        held = self._held.get(account, _Held())
        if held.images == 0:
            return True  # one image at a time is every account's, however heavy
        if not any(other != account for other in self._held):
            return held.images < self.share  # alone here: counted in images
        return held.weight + weight <= self.share

    def refuse_if_full(self, account: Hashable, weight: float = 1.0) -> None:
        """Raise what `holding` would raise now; takes no slot."""
        if not self.fits(account, weight):
            metrics.count_rejection("in_process", "account_share")
            raise ConcurrencyLimitExceeded(
                f"This account already has its share of this server ({self.share} images, "
                "an image of more than 1 MP counting as its megapixels while other accounts "
                "are served) in process; send fewer at a time or retry shortly.",
                self._retry_after(),
            )

    @contextmanager
    def holding(self, account: Hashable, weight: float = 1.0) -> Iterator[None]:
        """One of the account's images, of `weight`, from admission until its answer."""
        self.refuse_if_full(account, weight)
        held = self._held.setdefault(account, _Held())
        held.images += 1
        held.weight += weight
        try:
            yield
        finally:
            held.images -= 1
            held.weight -= weight
            if held.images == 0:
                del self._held[account]
