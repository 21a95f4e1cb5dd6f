"""Which model run gets which cores.

A lone request runs the model on every core it is given (lowest latency). When several
requests are in process, each model run takes one core instead, so that runs sit side by
side rather than sharing threads: a multi-threaded run stalls at every operator's barrier
whenever another request's decoding or encoding takes one of its cores, and measured on
2 cores that stalling costs more than a fifth of the throughput (README, Performance).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Grant:
    """What a model run was given: its cores, and whether it should run single-threaded."""

    cores: int
    single_threaded: bool


class CorePlan:
    """Hands out the model's cores: `threads_per_run` to a wide run, one to a narrow run.

    `total` cores are shared; a wide run waits until all its cores are free, and while one
    waits no narrow run may start, so a lone request is never starved by a stream of
    narrow ones.
    """

    def __init__(self, threads_per_run: int, total: int) -> None:
        self.threads_per_run = threads_per_run
        self.total = max(total, threads_per_run)
        self._free = self.total
        self._wide_waiting = 0
        self._running = 0
        self._condition = threading.Condition()

    @property
    def running(self) -> int:
        return self._running

    @contextmanager
    def run(self, narrow: bool) -> Iterator[Grant]:
        """Blocks until the cores are free; `narrow` asks for a single core."""
        single = narrow and self.threads_per_run > 1
        wanted = 1 if single else self.threads_per_run
        with self._condition:
            if not single:
                self._wide_waiting += 1
            try:
                while self._free < wanted or (single and self._wide_waiting):
                    self._condition.wait()
            finally:
                if not single:
                    self._wide_waiting -= 1
            self._free -= wanted
            self._running += 1
        try:
            yield Grant(wanted, single)
        finally:
            with self._condition:
                self._free += wanted
                self._running -= 1
                self._condition.notify_all()


class InFlight:
    """The photos this process is working on: how many, and the working pixels of those
    decoded, which decide whether a model run may go narrow beside the others."""

    def __init__(self, max_overlap_pixels: float) -> None:
        self.max_overlap_pixels = max_overlap_pixels
        self._count = 0
        self._undeclared = 0
        self._pixels = 0
        self._lock = threading.Lock()

    @contextmanager
    def entered(self) -> Iterator[Callable[[int], None]]:
        """Counts a photo while the block runs; the block calls the function it is given
        with the working pixels once they are known."""
        declared: list[int] = []

        def declare(pixels: int) -> None:
            with self._lock:
                if not declared:
                    self._undeclared -= 1
                    self._pixels += pixels
                    declared.append(pixels)

        with self._lock:
            self._count += 1
            self._undeclared += 1
        try:
            yield declare
        finally:
            with self._lock:
                self._count -= 1
                if declared:
                    self._pixels -= declared[0]
                else:
                    self._undeclared -= 1

    def overlap(self) -> bool:
        """Whether a model run started now should go narrow (single-threaded)."""
        with self._lock:
            # A photo still being decoded may be large: until its size is known, stay wide.
            return (
                self._count > 1
                and self._undeclared == 0
                and self._pixels <= self.max_overlap_pixels
            )
