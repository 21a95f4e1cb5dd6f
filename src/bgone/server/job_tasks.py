"""The jobs on the task queue: the Huey task that runs an item, the consumer, the upkeep.

Every process registers the task (API replicas enqueue it, workers run it). A consumer's
threads hand each item to one asyncio event loop, the one the removal use case's pools
keep their books on: in `bgone serve` the server's own loop, in `bgone worker` a loop of its
own. The upkeep thread (reaper, retention) runs beside each consumer; its slots are claimed
once across consumers (`bgone.services.job_upkeep`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from huey import Huey
from huey.api import TaskWrapper
from huey.consumer import Consumer

from bgone.infra.task_queue import ConsumerPlan, build_consumer
from bgone.services.job_runner import JobRunner
from bgone.services.job_upkeep import JobUpkeep

log = logging.getLogger(__name__)

RUN_ITEM = "jobs.run_item"
# The task fails only when the database cannot be reached (claiming or finishing the item):
# Huey tries it again, every few seconds for about five minutes, and after that the reaper
# re-sends the message of an item left queued. Work pauses while the database is away.
DATABASE_RETRIES = 100
DATABASE_RETRY_SECONDS = 3


class JobTasks:
    """The `jobs.run_item` task on `queue`; `runner` is asked for only where tasks run."""

    def __init__(self, queue: Huey, runner: Callable[[], JobRunner]) -> None:
        self.queue = queue
        self._runner = runner
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: TaskWrapper = queue.task(
            name=RUN_ITEM, retries=DATABASE_RETRIES, retry_delay=DATABASE_RETRY_SECONDS
        )(self._run_item)

    def enqueue(self, job_id: str, index: int) -> None:
        self._task(job_id, index)

    def queue_is_drained(self) -> bool:
        """No message waits in the queue (scheduled ones, which wait apart, not counted)."""
        return bool(self.queue.pending_count() == 0)

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop items run on (the removal pools' loop)."""
        self._loop = loop

    def _run_item(self, job_id: str, index: int) -> None:
        if self._loop is None:
            raise RuntimeError("jobs.run_item ran in a process without an event loop bound")
        coroutine = self._runner().run(job_id, index)
        delay = asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()
        if delay is not None:  # the account is paced: the item comes back later
            self._task.schedule((job_id, index), delay=delay)


class UpkeepThread:
    """Runs the reaper every half lease and retention every few minutes, until stopped."""

    def __init__(self, upkeep: JobUpkeep, clock: Callable[[], datetime] | None = None) -> None:
        self._upkeep = upkeep
        self._clock = clock or (lambda: datetime.now(UTC))
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bgone-job-upkeep", daemon=True)

    def start(self) -> UpkeepThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        interval = self._upkeep.reap_period.total_seconds()
        while not self._stopped.wait(interval):
            now = self._clock()
            try:
                reaped = self._upkeep.reap(now)
                if reaped:
                    log.warning("queued %d job items again (their worker stopped)", reaped)
                self._upkeep.expire(now)
            except Exception as error:  # the database is away: the next round retries
                log.info("job upkeep postponed: %s", error)


class JobConsumer:
    """A Huey consumer with its upkeep thread, started and stopped together."""

    def __init__(self, tasks: JobTasks, plan: ConsumerPlan, upkeep: JobUpkeep) -> None:
        self.consumer: Consumer = build_consumer(tasks.queue, plan)
        self.upkeep = UpkeepThread(upkeep)

    def start(self) -> JobConsumer:
        """Run beside a server: its threads only. The server keeps its own signal handlers
        (Huey's `start` would take SIGTERM and SIGINT from uvicorn)."""
        self.consumer._set_signal_handlers = lambda: None
        self.consumer.start()
        self.upkeep.start()
        return self

    def run(self) -> None:
        """Block, as `bgone worker` does, until SIGTERM or SIGINT."""
        self.upkeep.start()
        try:
            self.consumer.run()
        finally:
            self.upkeep.stop()

    def stop(self) -> None:
        self.upkeep.stop()
        self.consumer.stop(graceful=True)
