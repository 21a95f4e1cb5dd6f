"""The jobs' periodic upkeep: the lease reaper and retention, each slot run once.

Every consumer process runs this upkeep; `bgone.domain.periodic_claims` lets one of them
run each slot. The reaper queues again the items whose worker died (their lease lapsed) and
those whose task message was lost; retention deletes ended jobs past `BGONE_JOB_RETENTION`,
their files and results first, then their rows. Both take `now`, so tests move the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import job_items, periodic_claims
from bgone.services.job_inputs import JobInputs
from bgone.services.jobs import JobFinishedCallback, notify_finished

RETENTION_PERIOD = timedelta(minutes=10)
# A queued item waiting this long (or 20 leases) without a claim lost its task message.
STALE_QUEUE = timedelta(minutes=10)


def never_drained() -> bool:
    return False


@dataclass
class JobUpkeep:
    sessions: SessionFactory
    inputs: JobInputs
    enqueue: Callable[[str, int], None]
    lease: timedelta
    retention: timedelta
    on_job_finished: Sequence[JobFinishedCallback] = field(default_factory=list)
    # Whether the task queue holds no message. Huey deletes a message as a worker takes it,
    # so one taken by a worker killed before its claim is gone: once the queue is empty, an
    # item still queued a lease after it was queued (or due) has no message left.
    queue_is_drained: Callable[[], bool] = never_drained

    @property
    def reap_period(self) -> timedelta:
        return max(timedelta(seconds=1), self.lease / 2)

    def reap(self, now: datetime) -> int:
        """Queue lost items again (once per slot across consumers); how many."""
        with transaction(self.sessions) as session:
            if not periodic_claims.claim(
                session, "jobs.reap", periodic_claims.slot_of(now, self.reap_period), now
            ):
                return 0
            # Asked only by the consumer that won the slot: one queue count per slot.
            drained = self.queue_is_drained()
            stale = self.lease if drained else max(STALE_QUEUE, self.lease * 20)
            reaped = job_items.reap(session, now, stale)
        for job_id, index in reaped.again:
            self.enqueue(job_id, index)
        for job_id in reaped.failed_jobs:
            with transaction(self.sessions) as session:
                ended = job_items.end_job_if_done(session, job_id, now, self.retention)
            if ended:
                notify_finished(self.sessions, job_id, self.on_job_finished)
        return len(reaped.again)

    def expire(self, now: datetime) -> int:
        """Delete ended jobs past their retention (once per slot); how many."""
        with transaction(self.sessions) as session:
            if not periodic_claims.claim(
                session, "jobs.retention", periodic_claims.slot_of(now, RETENTION_PERIOD), now
            ):
                return 0
            expired = job_items.expired_jobs(session, now)
        for job_id in expired:
            self.inputs.discard(job_id)
        with transaction(self.sessions) as session:
            job_items.forget(session, expired)
        return len(expired)
