"""A bounded thread pool that accounts share fairly: a capped share each, turns in rotation.

Image work (downloads, decoding, inference) runs on pools of this kind, never on AnyIO's
default thread pool, so that key lookups, rate limiting, `/readyz` and the dashboard never
wait behind it. Each pool has `workers` threads and room for `queue_size` more tasks. An
account may hold at most its share of slots (running or waiting): past it the account gets
429 `concurrency_limit_exceeded`, and when the whole pool is full anyone gets 503
`server_busy`, both at once with a Retry-After, never a wait. Waiting tasks are started one
account at a time in rotation, so an account with many tasks waiting does not put another
account's one task behind all of them.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from bgone.errors import ConcurrencyLimitExceeded, ServerBusy
from bgone.infra import metrics

T = TypeVar("T")
# The smallest share: a customer sending two requests at a time always fits.
MINIMUM_SHARE = 2


def account_share(fraction: float, workers: int) -> int:
    """Slots one account may hold: max(2, ceil(fraction x workers))."""
    return max(MINIMUM_SHARE, math.ceil(fraction * workers))


@dataclass(frozen=True)
class PoolOptions:
    name: str  # in thread names and error details: "download", "decode", "inference"
    workers: int
    queue_size: int
    account_fraction: float  # BGONE_ACCOUNT_SHARE
    # The run time assumed before any was measured, for the first Retry-After.
    initial_seconds: float = 0.5
    # The stage its waiting time is reported as (bgone_stage_seconds), if any.
    wait_stage: str | None = None


@dataclass
class _Task:
    function: Callable[[], Any]
    future: asyncio.Future[Any]


class AccountSharedPool:
    """Runs blocking functions for accounts, within the pool's and each account's bounds.

    Its bookkeeping runs on the event loop thread only (the threads hand results back
    through the loop), so it needs no lock.
    """

    def __init__(self, options: PoolOptions) -> None:
        self.options = options
        self.workers = options.workers
        self.queue_size = options.queue_size
        self.share = account_share(options.account_fraction, options.workers)
        self._executor = ThreadPoolExecutor(
            max_workers=options.workers, thread_name_prefix=f"bgone-{options.name}"
        )
        self._held: dict[Hashable, int] = {}  # account -> tasks running or waiting
        self._waiting: OrderedDict[Hashable, deque[_Task]] = OrderedDict()
        self._running = 0
        self._average_seconds = options.initial_seconds
        self._observe()

    @property
    def pending(self) -> int:
        """Tasks running or waiting."""
        return sum(self._held.values())

    def held_by(self, account: Hashable) -> int:
        return self._held.get(account, 0)

    def retry_after(self) -> int:
        waves = (self.pending + 1) / max(1, self.workers)
        return max(1, math.ceil(waves * self._average_seconds))

    def refuse_if_full(self, account: Hashable) -> None:
        """Raise what `run` would raise for `account` now; takes no slot. Front ends ask
        before reading a request's body, so that a refusal costs no upload."""
        self._admit(account)

    async def run(self, account: Hashable, function: Callable[[], T]) -> T:
        self._admit(account)
        loop = asyncio.get_running_loop()
        # The request's context (its id in every log line) goes with the work to its thread.
        task = _Task(
            partial(contextvars.copy_context().run, self._timed(function)), loop.create_future()
        )
        self._held[account] = self._held.get(account, 0) + 1
        self._observe()
        self._waiting.setdefault(account, deque()).append(task)
        self._dispatch(loop)
        try:
            result: T = await asyncio.shield(task.future)
            return result
        except asyncio.CancelledError:
            # A task still waiting is dropped; one already running finishes on its thread
            # and gives its slot back then.
            if self._drop_waiting(account, task):
                self._release(account)
            raise

    def _timed(self, function: Callable[[], T]) -> Callable[[], T]:
        stage, queued = self.options.wait_stage, time.perf_counter()
        if stage is None:
            return function

        def waited_then_run() -> T:
            metrics.observe_stage(stage, time.perf_counter() - queued)
            return function()

        return waited_then_run

    def _observe(self) -> None:
        metrics.observe_pool(
            self.options.name, self.pending, self.workers + self.queue_size, self.workers
        )

    def _admit(self, account: Hashable) -> None:
        if self.pending >= self.workers + self.queue_size:
            metrics.count_rejection(self.options.name, "full")
            raise ServerBusy(
                f"The server's {self.options.name} pool is full; retry shortly.",
                self.retry_after(),
            )
        if self.held_by(account) >= self.share:
            metrics.count_rejection(self.options.name, "account_share")
            raise ConcurrencyLimitExceeded(
                f"This account already has {self.share} images in the server's "
                f"{self.options.name} stage, its share; send fewer at a time or retry shortly.",
                self.retry_after(),
            )

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start waiting tasks while threads are free, taking accounts in rotation."""
        while self._running < self.workers and self._waiting:
            account, queue = next(iter(self._waiting.items()))
            task = queue.popleft()
            if queue:
                self._waiting.move_to_end(account)  # its next task waits its turn
            else:
                del self._waiting[account]
            self._running += 1
            done = self._executor.submit(task.function)
            done.add_done_callback(
                partial(self._finished, loop, account, task, time.perf_counter())
            )

    def _finished(
        self,
        loop: asyncio.AbstractEventLoop,
        account: Hashable,
        task: _Task,
        started: float,
        finished: Future[Any],
    ) -> None:
        """On the worker thread: hand the outcome to the event loop, which keeps the books."""
        loop.call_soon_threadsafe(self._finish, loop, account, task, finished, started)

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        account: Hashable,
        task: _Task,
        finished: Future[Any],
        started: float,
    ) -> None:
        self._running -= 1
        self._release(account)
        elapsed = time.perf_counter() - started
        self._average_seconds = 0.8 * self._average_seconds + 0.2 * elapsed
        if not task.future.done():
            error = finished.exception()
            if error is not None:
                task.future.set_exception(error)
            else:
                task.future.set_result(finished.result())
        self._dispatch(loop)

    def _drop_waiting(self, account: Hashable, task: _Task) -> bool:
        queue = self._waiting.get(account)
        if queue is None or task not in queue:
            return False
        queue.remove(task)
        if not queue:
            del self._waiting[account]
        return True

    def _release(self, account: Hashable) -> None:
        left = self._held.get(account, 0) - 1
        if left > 0:
            self._held[account] = left
        else:
            self._held.pop(account, None)
        self._observe()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
