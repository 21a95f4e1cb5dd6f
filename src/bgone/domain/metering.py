"""Usage rows and credit settlements, written so that retries and crashes never double-count.

A request that spends credits leaves a *pending* usage row (status 0, holding the credits it
reserved) in the same transaction that reserves them. Its final row then replaces the pending
one and settles the reservation (charge what was delivered, release the rest) in a single
transaction guarded by `status = 0`: writing it twice, or after a recovery released it,
changes nothing. The request id is therefore an idempotency key for both the row and the
credits, which is what lets a replica replay rows it spooled while the database was down.

A replica that dies mid-request leaves pending rows behind; `release_pending` ends them as
`replica_lost`, charging nothing, once another process knows their owner is gone (its journal
lock is free) or once they are older than any request can take (`release_stale`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import literal_column, select, update
from sqlalchemy.orm import Session

from bgone.db.tables import UsageRecordRow
from bgone.domain import credits
from bgone.domain.credits import Reservation, period_key
from bgone.domain.plan_limits import Limits
from bgone.domain.usage import PENDING_STATUS as PENDING_STATUS  # re-exported: callers meter here
from bgone.domain.usage import UsageEntry, record_usage, record_usage_batch
from bgone.domain.usage_rollup import RollupDeltas

LOST_STATUS = 503
LOST_CODE = "replica_lost"
# The endpoint of batch-job items' usage rows. Their pending rows are held against the job
# (bgone.domain.job_items settles them, its reaper re-queues them): no sweep of synchronous
# requests releases them, however long the job waits in the queue.
JOB_ENDPOINT = "jobs"


@dataclass(frozen=True)
class FinalRow:
    """A request's usage row; `entry.credits_milli` is what it is charged (0 on failure)."""

    entry: UsageEntry
    reservation: Reservation | None = None  # credits set aside (or maybe set aside) for it


def reserve_with_pending_row(
    session: Session, entry: UsageEntry, milli: int, limits: Limits
) -> Reservation:
    """Reserve `milli` credits for `entry`'s account; raises InsufficientCredits."""
    if entry.account_id is None:
        raise ValueError("a reservation needs an account")
    reservation = credits.reserve(session, entry.account_id, milli, limits, entry.at)
    pending = replace(entry, status=PENDING_STATUS, credits_milli=milli, error_code=None)
    if not record_usage(session, pending):
        raise RuntimeError(f"request id {entry.request_id} reserved twice")
    if reservation.payg_milli:
        # The row remembers the pay-as-you-go part: whoever settles it gives back the rest.
        session.execute(
            update(UsageRecordRow)
            .where(UsageRecordRow.request_id == entry.request_id)
            .values(payg_milli=reservation.payg_milli)
            .execution_options(synchronize_session=False)
        )
    return reservation


def _finish_pending(session: Session, entry: UsageEntry) -> tuple[datetime, int] | None:
    """Turn the pending row into the final one; its time and the pay-as-you-go part of its
    reservation, or None if there is no pending row."""
    found = session.execute(
        update(UsageRecordRow)
        .where(
            UsageRecordRow.request_id == entry.request_id,
            UsageRecordRow.status == PENDING_STATUS,
        )
        .values(
            status=entry.status,
            endpoint=entry.endpoint,
            key_id=entry.key_id,
            error_code=entry.error_code,
            credits_milli=entry.credits_milli,
            megapixels=entry.megapixels,
            latency_ms=entry.latency_ms,
        )
        .returning(UsageRecordRow.at, UsageRecordRow.payg_milli)
        .execution_options(synchronize_session=False)
    ).first()
    return None if found is None else (found.at, found.payg_milli)


def write_final_rows(session: Session, rows: list[FinalRow]) -> None:
    """Record every row and settle its reservation; rows already recorded are skipped.

    The rows really written (final rows replacing pending ones, and new rows) are added to
    the usage rollup in the same transaction (domain/usage_rollup.py)."""
    settlements = credits.Settlements()
    rollup = RollupDeltas()
    plain: list[UsageEntry] = []
    for row in rows:
        reservation = row.reservation
        finished = None if reservation is None else _finish_pending(session, row.entry)
        if reservation is not None and finished is not None:
            finished_at, payg_milli = finished
            # The row's record of the payg part, not memory's: it was known only after.
            reservation = replace(reservation, payg_milli=min(payg_milli, reservation.milli))
            charged = min(row.entry.credits_milli, reservation.milli)
            settlements.add(reservation, charged)
            _add(rollup, replace(row.entry, at=finished_at))
        elif reservation is not None:
            # No pending row: the reservation never happened (its transaction failed), or
            # a recovery already released it. Either way nothing was spent on this request.
            plain.append(replace(row.entry, credits_milli=0))
        else:
            plain.append(row.entry)
    inserted = record_usage_batch(session, plain)
    for entry in plain:
        if entry.request_id in inserted:  # once, even if the batch held it twice
            inserted.discard(entry.request_id)
            _add(rollup, entry)
    rollup.apply(session)
    settlements.apply(session)


def _add(rollup: RollupDeltas, entry: UsageEntry) -> None:
    rollup.add(
        entry.account_id,
        entry.key_id,
        entry.at,
        entry.endpoint,
        entry.status,
        entry.credits_milli,
        entry.megapixels,
    )


def release_pending(session: Session, request_ids: list[str]) -> int:
    """End these requests' pending rows, if any, releasing their credits; how many were."""
    settlements = credits.Settlements()
    rollup = RollupDeltas()
    released = 0
    for request_id in request_ids:
        pending = session.execute(
            select(
                UsageRecordRow.account_id,
                UsageRecordRow.at,
                UsageRecordRow.credits_milli,
                UsageRecordRow.key_id,
                UsageRecordRow.endpoint,
                UsageRecordRow.megapixels,
                UsageRecordRow.payg_milli,
            )
            .where(
                UsageRecordRow.request_id == request_id,
                UsageRecordRow.status == PENDING_STATUS,
            )
            .with_for_update()
        ).first()
        if pending is None or pending.account_id is None:
            continue
        ended = session.execute(
            update(UsageRecordRow)
            .where(
                UsageRecordRow.request_id == request_id,
                UsageRecordRow.status == PENDING_STATUS,
            )
            .values(status=LOST_STATUS, error_code=LOST_CODE, credits_milli=0)
            .returning(UsageRecordRow.id)
            .execution_options(synchronize_session=False)
        ).first()
        if ended is not None:
            held = Reservation(
                pending.account_id,
                period_key(pending.at),
                pending.credits_milli,
                payg_milli=pending.payg_milli,
            )
            settlements.add(held, 0)
            # Ended, the row is final: the rollup counts it as the failure it now is.
            rollup.add(
                pending.account_id,
                pending.key_id,
                pending.at,
                pending.endpoint,
                LOST_STATUS,
                0,
                pending.megapixels,
            )
            released += 1
    rollup.apply(session)
    settlements.apply(session)
    return released


def release_stale(session: Session, before: datetime) -> int:
    """Release pending rows older than `before`: their replica is gone, wherever it ran."""
    # A literal, not a bound parameter: only then can the planner use the partial index on
    # pending rows (ix_usage_records_pending_at) instead of reading the whole table.
    pending = UsageRecordRow.status == literal_column(str(PENDING_STATUS))
    stale = session.scalars(
        select(UsageRecordRow.request_id).where(
            pending, UsageRecordRow.at < before, UsageRecordRow.endpoint != JOB_ENDPOINT
        )
    ).all()
    return release_pending(session, list(stale))
