"""A job item's life: claimed with a lease, finished once, charged once; reaped when lost.

Huey does not redeliver a task whose worker died, so the item row is the truth: a worker
*claims* a queued item (queued -> running, attempts + 1, a lease), renews the lease while it
works, and *finishes* it with one conditional UPDATE (still running, still its attempt) in
the transaction that writes the item's final usage row, which charges or releases the
reservation. Whoever loses a race (a worker presumed dead that was only slow) changes
nothing. The reaper queues again the items whose lease lapsed; an item lost this way
`MAX_ATTEMPTS` times fails `job_item_lost`. A duplicate task message is harmless: only one
claim of a queued item succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bgone.db.tables import JobItemRow, JobRow
from bgone.domain import metering
from bgone.domain.credits import Reservation, period_key
from bgone.domain.jobs import OPEN_ITEM_STATES, OPEN_JOB_STATES, ItemFailure, ItemState, JobState
from bgone.domain.metering import JOB_ENDPOINT, FinalRow
from bgone.domain.usage import UsageEntry
from bgone.errors import JobCancelled, JobItemLost

MAX_ATTEMPTS = 3
LOST = ItemFailure(
    JobItemLost.status, JobItemLost.code, "the item's worker stopped three times; not charged"
)
CANCELLED = ItemFailure(
    JobCancelled.status, JobCancelled.code, "the job was cancelled before this item started"
)


@dataclass(frozen=True)
class ClaimedItem:
    job_id: str
    index: int
    attempt: int
    account_id: int
    key_id: str
    request_id: str
    name: str
    source: str
    source_is_url: bool
    options_json: str
    reserved_milli: int
    job_created_at: datetime

    @property
    def reservation(self) -> Reservation | None:
        if self.reserved_milli <= 0:
            return None
        return Reservation(self.account_id, period_key(self.job_created_at), self.reserved_milli)


@dataclass(frozen=True)
class ItemResult:
    """A delivered result: where its file is, and what it is charged."""

    path: str
    format: str
    credits_milli: int
    megapixels: float
    latency_ms: float


def claim(
    session: Session, job_id: str, index: int, now: datetime, lease: timedelta
) -> ClaimedItem | None:
    """Take a queued item for this worker; None when it is not queued (taken, cancelled)."""
    claimed = session.execute(
        update(JobItemRow)
        .where(
            JobItemRow.job_id == job_id,
            JobItemRow.index == index,
            JobItemRow.state == ItemState.QUEUED.value,
        )
        .values(
            state=ItemState.RUNNING.value,
            attempts=JobItemRow.attempts + 1,
            lease_expires_at=now + lease,
        )
        .returning(JobItemRow.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        return None
    session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.state == JobState.QUEUED.value)
        .values(state=JobState.RUNNING.value, started_at=now)
        .execution_options(synchronize_session=False)
    )
    item = session.get_one(JobItemRow, (job_id, index))
    job = session.get_one(JobRow, job_id)
    return ClaimedItem(
        job_id=job_id,
        index=index,
        attempt=claimed.attempts,
        account_id=job.account_id,
        key_id=job.key_id,
        request_id=item.request_id,
        name=item.name,
        source=item.source,
        source_is_url=item.source_is_url,
        options_json=job.options,
        reserved_milli=item.credits_reserved_milli,
        job_created_at=job.created_at,
    )


def _mine(item: ClaimedItem) -> list[object]:
    return [
        JobItemRow.job_id == item.job_id,
        JobItemRow.index == item.index,
        JobItemRow.state == ItemState.RUNNING.value,
        JobItemRow.attempts == item.attempt,
    ]


def renew(session: Session, item: ClaimedItem, now: datetime, lease: timedelta) -> bool:
    """Extend this worker's lease; False when the item is no longer its own."""
    result = session.execute(
        update(JobItemRow)
        .where(*_mine(item))  # type: ignore[arg-type]
        .values(lease_expires_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def give_back(session: Session, item: ClaimedItem, now: datetime, due: datetime) -> bool:
    """Queue the item again without counting the attempt (the account's pace: its message
    comes back at `due`, which the reaper reads as the time it was queued)."""
    result = session.execute(
        update(JobItemRow)
        .where(*_mine(item))  # type: ignore[arg-type]
        .values(
            state=ItemState.QUEUED.value,
            attempts=JobItemRow.attempts - 1,
            lease_expires_at=None,
            queued_at=max(now, due),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(
    session: Session,
    item: ClaimedItem,
    now: datetime,
    result: ItemResult | None = None,
    failure: ItemFailure | None = None,
) -> bool:
    """End the item as succeeded (`result`) or failed (`failure`) and write its usage row,
    once: False (and nothing written) when another attempt owns or ended it."""
    if (result is None) == (failure is None):
        raise ValueError("an item ends with a result or a failure")
    charged = result.credits_milli if result is not None else 0
    values: dict[str, object] = {
        "state": (ItemState.SUCCEEDED if result else ItemState.FAILED).value,
        "lease_expires_at": None,
        "finished_at": now,
        "charged": True,
        "credits_charged_milli": charged,
    }
    if result is not None:
        values |= {"result_path": result.path, "result_format": result.format}
    if failure is not None:
        values |= {"error_code": failure.code, "error_detail": failure.detail[:2000]}
    ended = session.execute(
        update(JobItemRow)
        .where(*_mine(item))  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not ended.rowcount:  # type: ignore[attr-defined]
        return False
    entry = UsageEntry(
        request_id=item.request_id,
        at=now,
        endpoint=JOB_ENDPOINT,
        status=200 if result else failure.status,  # type: ignore[union-attr]
        account_id=item.account_id,
        key_id=item.key_id,
        error_code=None if failure is None else failure.code,
        credits_milli=charged,
        megapixels=result.megapixels if result else 0.0,
        latency_ms=result.latency_ms if result else 0.0,
    )
    metering.write_final_rows(session, [FinalRow(entry, item.reservation)])
    return True


def end_job_if_done(session: Session, job_id: str, now: datetime, retention: timedelta) -> bool:
    """Mark the job completed once none of its items is open; True for the one caller that
    did (run it after the item's own transaction committed, so that the last two items to
    end, in two transactions, cannot both see the other still open)."""
    still_open = session.scalar(
        select(JobItemRow.index)
        .where(JobItemRow.job_id == job_id, JobItemRow.state.in_(OPEN_ITEM_STATES))
        .limit(1)
    )
    if still_open is not None:
        return False
    ended = session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.state.in_(OPEN_JOB_STATES))
        .values(state=JobState.COMPLETED.value, finished_at=now, expires_at=now + retention)
        .execution_options(synchronize_session=False)
    )
    return bool(ended.rowcount)  # type: ignore[attr-defined]


def cancel(session: Session, job_id: str, now: datetime, retention: timedelta) -> int:
    """Cancel the job's items that have not started, releasing their reservations; items
    already running finish (and are charged) as usual. How many were cancelled."""
    rows = session.scalars(
        select(JobItemRow)
        .where(JobItemRow.job_id == job_id, JobItemRow.state == ItemState.QUEUED.value)
        .with_for_update()
    ).all()
    job = session.get_one(JobRow, job_id)
    finals: list[FinalRow] = []
    for row in rows:
        row.state = ItemState.CANCELLED.value
        row.error_code, row.error_detail = CANCELLED.code, CANCELLED.detail
        row.charged, row.finished_at = True, now
        entry = UsageEntry(
            request_id=row.request_id,
            at=now,
            endpoint=JOB_ENDPOINT,
            status=CANCELLED.status,
            account_id=job.account_id,
            key_id=job.key_id,
            error_code=CANCELLED.code,
        )
        reservation = None
        if row.credits_reserved_milli > 0:
            reservation = Reservation(
                job.account_id, period_key(job.created_at), row.credits_reserved_milli
            )
        finals.append(FinalRow(entry, reservation))
    session.flush()
    metering.write_final_rows(session, finals)
    job.state, job.finished_at, job.expires_at = JobState.CANCELLED.value, now, now + retention
    return len(rows)


@dataclass(frozen=True)
class Reaped:
    again: list[tuple[str, int]]  # (job id, index) to queue again
    failed_jobs: set[str]  # jobs of which the reaper failed an item: they may have ended


def reap(session: Session, now: datetime, stale_queue: timedelta) -> Reaped:
    """Items to queue again: running ones whose lease lapsed, and queued ones waiting longer
    than `stale_queue` (their task message was lost: taken by a worker that died before its
    claim, or a Redis flushed). Items lost too often fail instead, uncharged."""
    lapsed = session.scalars(
        select(JobItemRow)
        .where(
            JobItemRow.state == ItemState.RUNNING.value,
            JobItemRow.lease_expires_at < now,
        )
        .with_for_update()
    ).all()
    again: list[tuple[str, int]] = []
    failed_jobs: set[str] = set()
    for row in lapsed:
        if row.attempts >= MAX_ATTEMPTS:
            job = session.get_one(JobRow, row.job_id)
            claimed = ClaimedItem(
                row.job_id, row.index, row.attempts, job.account_id, job.key_id,
                row.request_id, row.name, row.source, row.source_is_url, job.options,
                row.credits_reserved_milli, job.created_at,
            )  # fmt: skip
            finish(session, claimed, now, failure=LOST)
            failed_jobs.add(row.job_id)
            continue
        row.state, row.lease_expires_at, row.queued_at = ItemState.QUEUED.value, None, now
        again.append((row.job_id, row.index))
    waiting = session.scalars(
        select(JobItemRow)
        .where(JobItemRow.state == ItemState.QUEUED.value, JobItemRow.queued_at < now - stale_queue)
        .limit(1000)
    ).all()
    for row in waiting:
        row.queued_at = now
        again.append((row.job_id, row.index))
    return Reaped(again, failed_jobs)


def expired_jobs(session: Session, now: datetime, limit: int = 100) -> list[str]:
    """Ended jobs past their retention: the caller deletes their files, then `forget`s them."""
    ended = (JobState.COMPLETED.value, JobState.FAILED.value, JobState.CANCELLED.value)
    return list(
        session.scalars(
            select(JobRow.id).where(JobRow.state.in_(ended), JobRow.expires_at < now).limit(limit)
        )
    )


def forget(session: Session, job_ids: list[str]) -> None:
    """Delete the jobs' rows (their usage rows stay: they are the account's record)."""
    if job_ids:
        session.execute(delete(JobItemRow).where(JobItemRow.job_id.in_(job_ids)))
        session.execute(delete(JobRow).where(JobRow.id.in_(job_ids)))
