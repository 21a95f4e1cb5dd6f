"""Deliveries: one event for one endpoint, its attempts, and the endpoint's delivery log.

Attempts follow RETRY_DELAYS: exponential back-off whose delays add up to about 24 hours,
then the delivery is `failed`. The log keeps each delivery's last answer: HTTP status, how
long it took, and at most EXCERPT_BYTES of the body.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bgone.db.tables import WebhookDeliveryRow, WebhookEndpointRow
from bgone.errors import NotFound

# After the first attempt fails: 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h
# (23 h 51 min in all), ten attempts.
RETRY_DELAYS = tuple(
    timedelta(minutes=minutes) for minutes in (1, 5, 15, 30, 60, 120, 240, 480, 480)
)
EXCERPT_BYTES = 1024
LOG_LENGTH = 50  # the deliveries a log page shows
MAX_ID = 2**63  # BIGINT's range


class DeliveryState:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"  # its endpoint was disabled or switched off


@dataclass(frozen=True)
class AttemptResult:
    """How one POST went: an HTTP status (2xx is success), or `error` without an answer."""

    status: int | None
    response_ms: int
    excerpt: str = ""
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Delivery:
    id: int
    endpoint_id: str
    event_id: str
    event_type: str
    payload: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    response_ms: int | None
    response_excerpt: str | None


@dataclass(frozen=True)
class Work:
    """What an attempt needs: the delivery and where it goes."""

    delivery: Delivery
    account_id: int
    url: str
    enabled: bool


def _delivery(row: WebhookDeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        event_type=row.event_type,
        payload=row.payload,
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        last_status=row.last_status,
        last_error=row.last_error,
        response_ms=row.response_ms,
        response_excerpt=row.response_excerpt,
    )


def create(
    session: Session,
    endpoint_id: str,
    event_id: str,
    event_type: str,
    payload: str,
    now: datetime,
) -> int:
    row = WebhookDeliveryRow(
        endpoint_id=endpoint_id,
        event_id=event_id,
        event_type=event_type,
        payload=payload,
        state=DeliveryState.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def work_for(session: Session, delivery_id: int) -> Work | None:
    """The pending delivery and its endpoint; None when there is nothing left to attempt."""
    found = session.execute(
        select(WebhookDeliveryRow, WebhookEndpointRow)
        .join(WebhookEndpointRow, WebhookEndpointRow.id == WebhookDeliveryRow.endpoint_id)
        .where(WebhookDeliveryRow.id == delivery_id)
    ).first()
    if found is None or found[0].state != DeliveryState.PENDING:
        return None
    delivery, endpoint = found
    return Work(_delivery(delivery), endpoint.account_id, endpoint.url, endpoint.enabled)


def overdue(session: Session, before: datetime, limit: int = 500) -> list[int]:
    """Pending deliveries whose attempt was due before `before` and has not happened: its
    task was lost (Huey does not redeliver a task whose consumer was killed)."""
    return list(
        session.scalars(
            select(WebhookDeliveryRow.id)
            .where(
                WebhookDeliveryRow.state == DeliveryState.PENDING,
                WebhookDeliveryRow.next_attempt_at < before,
            )
            .order_by(WebhookDeliveryRow.next_attempt_at)
            .limit(limit)
        )
    )


def excerpt_of(body: bytes) -> str:
    return body[:EXCERPT_BYTES].decode("utf-8", errors="replace")


def record_attempt(
    session: Session,
    delivery_id: int,
    result: AttemptResult,
    now: datetime,
    delays: Sequence[timedelta] = RETRY_DELAYS,
) -> timedelta | None:
    """Log the attempt; the delay before the next one, or None when there is none to make."""
    row = session.get_one(WebhookDeliveryRow, delivery_id, populate_existing=True)
    row.attempts += 1
    row.last_attempt_at = now
    row.last_status = result.status
    row.last_error = (result.error or "")[:255] or None
    row.response_ms = result.response_ms
    row.response_excerpt = result.excerpt[:EXCERPT_BYTES]
    if result.succeeded:
        row.state, row.next_attempt_at = DeliveryState.SUCCEEDED, None
        return None
    if row.attempts > len(delays):
        row.state, row.next_attempt_at = DeliveryState.FAILED, None
        return None
    delay = delays[row.attempts - 1]
    row.next_attempt_at = now + delay
    return delay


def cancel(session: Session, delivery_id: int, reason: str) -> None:
    row = session.get_one(WebhookDeliveryRow, delivery_id)
    row.state, row.next_attempt_at, row.last_error = DeliveryState.CANCELLED, None, reason


def cancel_pending(session: Session, endpoint_id: str, reason: str) -> None:
    session.execute(
        update(WebhookDeliveryRow)
        .where(
            WebhookDeliveryRow.endpoint_id == endpoint_id,
            WebhookDeliveryRow.state == DeliveryState.PENDING,
        )
        .values(state=DeliveryState.CANCELLED, next_attempt_at=None, last_error=reason)
    )


def forget_ended_before(session: Session, before: datetime) -> int:
    """Delete the deliveries made before `before` that have ended (the log's retention); a
    pending one stays until its attempts end. How many were deleted."""
    result = session.execute(
        delete(WebhookDeliveryRow).where(
            WebhookDeliveryRow.created_at < before,
            WebhookDeliveryRow.state != DeliveryState.PENDING,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def log_of(session: Session, endpoint_id: str, limit: int = LOG_LENGTH) -> list[Delivery]:
    """The endpoint's deliveries, newest first."""
    rows = session.scalars(
        select(WebhookDeliveryRow)
        .where(WebhookDeliveryRow.endpoint_id == endpoint_id)
        .order_by(WebhookDeliveryRow.id.desc())
        .limit(limit)
    )
    return [_delivery(row) for row in rows]


def redeliver(session: Session, endpoint_id: str, delivery_id: int, now: datetime) -> int:
    """A new delivery of the same message (same webhook-id, same body) to the endpoint."""
    if not 0 < delivery_id < MAX_ID:  # out of the column's range: none such
        raise NotFound(f"no delivery {delivery_id} for this endpoint")
    row = session.get(WebhookDeliveryRow, delivery_id)
    if row is None or row.endpoint_id != endpoint_id:
        raise NotFound(f"no delivery {delivery_id} for this endpoint")
    return create(session, endpoint_id, row.event_id, row.event_type, row.payload, now)
