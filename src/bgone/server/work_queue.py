"""Inference off the event loop, with bounded concurrency and a bounded queue.

A full queue answers 503 `server_busy` at once, with a Retry-After estimated from recent
run times, instead of letting requests pile up until clients time out.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from bgone.errors import ServerBusy
from bgone.infra import metrics

T = TypeVar("T")


class InferenceGate:
    def __init__(self, workers: int, queue_size: int) -> None:
        self.workers = workers
        self.queue_size = queue_size
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bgone-run")
        self._pending = 0
        self._average_seconds = 0.5  # refined by an exponential moving average
        self._observe()

    @property
    def pending(self) -> int:
        return self._pending

    def retry_after(self) -> int:
        waves = (self._pending + 1) / max(1, self.workers)
        return max(1, math.ceil(waves * self._average_seconds))

    async def run(self, function: Callable[[], T]) -> T:
        # Runs on the event loop thread only, so the counter needs no lock.
        if self._pending >= self.workers + self.queue_size:
            metrics.count_rejection("inference", "queue_full")
            raise ServerBusy(
                "The server is processing as many images as it can; retry shortly.",
                self.retry_after(),
            )
        self._pending += 1
        self._observe()
        started = time.perf_counter()
        # The request's context (its id in every log line, its timings) goes with the work.
        context = contextvars.copy_context()

        def job() -> T:
            metrics.observe_stage("queue_wait", time.perf_counter() - started)
            return function()

        try:
            run = partial(context.run, job)
            return await asyncio.get_running_loop().run_in_executor(self._executor, run)
        finally:
            self._pending -= 1
            self._observe()
            elapsed = time.perf_counter() - started
            self._average_seconds = 0.8 * self._average_seconds + 0.2 * elapsed

    def _observe(self) -> None:
        size = self.workers + self.queue_size
        metrics.observe_pool("inference", self._pending, size, self.workers)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
