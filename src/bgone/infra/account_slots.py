"""How many images each account has in process on this replica, whatever their stage.

Each pool caps an account's share of its own threads, but an image moves from decoding to
inference: an account sending many large photos at once held its share of the decode pool
and of the pipeline together, twice the images in process a customer at the share's
concurrency has, and so took about two thirds of the cores from it. Counting the account's
images from admission to answer, across stages, caps what it has in process at the share.

Bookkeeping on the event loop thread only (admission and release happen there): no lock.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

from bgone.errors import ConcurrencyLimitExceeded
from bgone.infra import metrics


class AccountSlots:
    def __init__(self, share: int, retry_after: Callable[[], int]) -> None:
        self.share = share
        self._retry_after = retry_after
        self._held: dict[Hashable, int] = {}

    def held_by(self, account: Hashable) -> int:
        return self._held.get(account, 0)

    def refuse_if_full(self, account: Hashable) -> None:
        """Raise what `holding` would raise now; takes no slot."""
        if self.held_by(account) >= self.share:
            metrics.count_rejection("in_process", "account_share")
            raise ConcurrencyLimitExceeded(
                f"This account already has {self.share} images in process on this server, "
                "its share; send fewer at a time or retry shortly.",
                self._retry_after(),
            )

    @contextmanager
    def holding(self, account: Hashable) -> Iterator[None]:
        """One of the account's images, from admission until its answer."""
        self.refuse_if_full(account)
        self._held[account] = self.held_by(account) + 1
        try:
            yield
        finally:
            left = self._held[account] - 1
            if left:
                self._held[account] = left
            else:
                del self._held[account]
