"""Batch jobs: their rows, their admission and what the API and the dashboard read of them.

A job is admitted whole or not at all: one transaction inserts the job, its items and, per
item, the pending usage row that reserves the item's credits (`metering`), so a job that
would exceed the account's credits leaves nothing behind. Items that could not even be read
at admission (a ZIP entry with an odd path, say) are stored failed, with their final usage
row, uncharged. How an item runs and ends is `bgone.domain.job_items`.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bgone.db.tables import JobItemRow, JobRow
from bgone.domain import metering
from bgone.domain.metering import JOB_ENDPOINT, FinalRow
from bgone.domain.plan_limits import Limits
from bgone.domain.usage import PENDING_STATUS, UsageEntry


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"  # every item ended, whether it succeeded or failed
    FAILED = "failed"  # the job itself could not run
    CANCELLED = "cancelled"


class ItemState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_JOB_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)
OPEN_ITEM_STATES = (ItemState.QUEUED.value, ItemState.RUNNING.value)


def new_job_id() -> str:
    return f"job_{secrets.token_hex(12)}"


def item_request_id(job_id: str, index: int) -> str:
    """The item's usage row: the idempotency key of its reservation and its charge."""
    return f"{job_id}-{index}"


@dataclass(frozen=True)
class ItemFailure:
    """Why an item failed: the catalogue's status and code, as a synchronous call says it."""

    status: int
    code: str
    detail: str


@dataclass(frozen=True)
class NewItem:
    name: str  # the stem its result is named after in the ZIP
    source: str  # the stored upload's path, or the URL
    source_is_url: bool = False
    failure: ItemFailure | None = None  # failed at admission: never queued


@dataclass(frozen=True)
class NewJob:
    id: str
    account_id: int
    key_id: str
    options: dict[str, str]
    webhook_url: str | None
    items: list[NewItem]
    created_at: datetime
    expires_at: datetime
    cost_milli: int  # what one item reserves; 0 for staging keys


def create_job(session: Session, job: NewJob, limits: Limits) -> list[int]:
    """Insert the job and reserve its items; the indexes to queue. InsufficientCredits
    (raised before anything is committed) refuses the whole job."""
    queued = [index for index, item in enumerate(job.items) if item.failure is None]
    session.add(
        JobRow(
            id=job.id,
            account_id=job.account_id,
            key_id=job.key_id,
            state=JobState.QUEUED.value if queued else JobState.COMPLETED.value,
            options=json.dumps(job.options, sort_keys=True),
            webhook_url=job.webhook_url,
            item_count=len(job.items),
            created_at=job.created_at,
            finished_at=None if queued else job.created_at,
            expires_at=job.expires_at,
        )
    )
    session.flush()
    failed: list[FinalRow] = []
    for index, item in enumerate(job.items):
        request_id = item_request_id(job.id, index)
        entry = UsageEntry(
            request_id=request_id,
            at=job.created_at,
            endpoint=JOB_ENDPOINT,
            status=PENDING_STATUS,
            account_id=job.account_id,
            key_id=job.key_id,
        )
        reserved = 0
        if item.failure is not None:
            failure = item.failure
            failed.append(
                FinalRow(
                    UsageEntry(
                        request_id=request_id,
                        at=job.created_at,
                        endpoint=JOB_ENDPOINT,
                        status=failure.status,
                        account_id=job.account_id,
                        key_id=job.key_id,
                        error_code=failure.code,
                    )
                )
            )
        elif job.cost_milli > 0:
            metering.reserve_with_pending_row(session, entry, job.cost_milli, limits)
            reserved = job.cost_milli
        session.add(
            JobItemRow(
                job_id=job.id,
                index=index,
                request_id=request_id,
                name=item.name[:255],
                source=item.source,
                source_is_url=item.source_is_url,
                state=(ItemState.FAILED if item.failure else ItemState.QUEUED).value,
                error_code=item.failure.code if item.failure else None,
                error_detail=item.failure.detail if item.failure else None,
                credits_reserved_milli=reserved,
                credits_charged_milli=0,
                charged=item.failure is not None,
                attempts=0,
                queued_at=job.created_at,
                finished_at=job.created_at if item.failure else None,
            )
        )
    if failed:
        metering.write_final_rows(session, failed)
    return queued


# -- reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    index: int
    name: str
    state: ItemState
    error_code: str | None
    error_detail: str | None
    credits_charged_milli: int
    result_path: str | None
    result_format: str | None
    source: str
    source_is_url: bool


@dataclass(frozen=True)
class JobView:
    id: str
    account_id: int
    key_id: str
    state: JobState
    item_count: int
    options: dict[str, str]
    webhook_url: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime
    counts: dict[ItemState, int] = field(default_factory=dict)

    @property
    def ended_items(self) -> int:
        return sum(n for state, n in self.counts.items() if state.value not in OPEN_ITEM_STATES)


def _view(row: JobRow, counts: Counter[ItemState]) -> JobView:
    return JobView(
        id=row.id,
        account_id=row.account_id,
        key_id=row.key_id,
        state=JobState(row.state),
        item_count=row.item_count,
        options=json.loads(row.options),
        webhook_url=row.webhook_url,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        expires_at=row.expires_at,
        counts={state: counts.get(state, 0) for state in ItemState},
    )


def _counts(session: Session, job_ids: list[str]) -> dict[str, Counter[ItemState]]:
    found: dict[str, Counter[ItemState]] = {job_id: Counter() for job_id in job_ids}
    if not job_ids:
        return found
    rows = session.execute(
        select(JobItemRow.job_id, JobItemRow.state, func.count())
        .where(JobItemRow.job_id.in_(job_ids))
        .group_by(JobItemRow.job_id, JobItemRow.state)
    )
    for job_id, state, count in rows:
        found[job_id][ItemState(state)] = count
    return found


def get_job(session: Session, job_id: str, account_id: int | None = None) -> JobView | None:
    """The job, if it exists and (when `account_id` is given) belongs to that account."""
    row = session.get(JobRow, job_id)
    if row is None or (account_id is not None and row.account_id != account_id):
        return None
    return _view(row, _counts(session, [job_id])[job_id])


def list_jobs(
    session: Session, account_id: int, limit: int, before: datetime | None = None
) -> list[JobView]:
    """The account's jobs, newest first, `limit` of them created before `before`."""
    query = select(JobRow).where(JobRow.account_id == account_id)
    if before is not None:
        query = query.where(JobRow.created_at < before)
    rows = session.scalars(query.order_by(JobRow.created_at.desc()).limit(limit)).all()
    counts = _counts(session, [row.id for row in rows])
    return [_view(row, counts[row.id]) for row in rows]


def _item_view(row: JobItemRow) -> ItemView:
    return ItemView(
        index=row.index,
        name=row.name,
        state=ItemState(row.state),
        error_code=row.error_code,
        error_detail=row.error_detail,
        credits_charged_milli=row.credits_charged_milli,
        result_path=row.result_path,
        result_format=row.result_format,
        source=row.source,
        source_is_url=row.source_is_url,
    )


def job_items(
    session: Session, job_id: str, offset: int = 0, limit: int | None = None
) -> list[ItemView]:
    query = (
        select(JobItemRow)
        .where(JobItemRow.job_id == job_id)
        .order_by(JobItemRow.index)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return [_item_view(row) for row in session.scalars(query)]


def credits_charged_milli(session: Session, job_id: str) -> int:
    """What the job's delivered items were charged, in all."""
    total = session.scalar(
        select(func.coalesce(func.sum(JobItemRow.credits_charged_milli), 0)).where(
            JobItemRow.job_id == job_id
        )
    )
    return int(total or 0)


def job_item(session: Session, job_id: str, index: int) -> ItemView | None:
    row = session.get(JobItemRow, (job_id, index))
    return None if row is None else _item_view(row)
