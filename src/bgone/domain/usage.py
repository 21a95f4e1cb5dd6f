"""One row per API request: the basis of usage statistics and of the dashboard's chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, case, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from bgone.db.tables import UsageRecordRow
from bgone.db.upsert import dialect_insert
from bgone.domain.clock import now_or_default
from bgone.domain.credits import milli_to_credits

# A request still running holds a pending row (see domain/metering.py); summaries leave it
# out until its final row replaces it, so a dashboard never counts reserved credits as spent.
PENDING_STATUS = 0

DEFAULT_CHART_DAYS = 30


@dataclass(frozen=True)
class UsageEntry:
    """One API request. Failed authentications have no account or key."""

    request_id: str
    at: datetime
    endpoint: str
    status: int
    account_id: int | None = None
    key_id: str | None = None
    error_code: str | None = None
    credits_milli: int = 0
    megapixels: float = 0.0
    latency_ms: float = 0.0


@dataclass(frozen=True)
class UsageSummary:
    requests: int
    failed_requests: int  # HTTP status 400 and above
    credits_milli: int
    megapixels: float
    average_latency_ms: float

    @property
    def credits(self) -> float:
        return milli_to_credits(self.credits_milli)


@dataclass(frozen=True)
class DailyUsage:
    day: date  # UTC
    requests: int
    credits_milli: int

    @property
    def credits(self) -> float:
        return milli_to_credits(self.credits_milli)


def record_usage(session: Session, entry: UsageEntry) -> bool:
    """Store `entry`; False if its request id was already recorded (a retried write)."""
    insert = dialect_insert(session, UsageRecordRow).values(
        request_id=entry.request_id,
        account_id=entry.account_id,
        key_id=entry.key_id,
        at=entry.at,
        endpoint=entry.endpoint,
        status=entry.status,
        error_code=entry.error_code,
        credits_milli=entry.credits_milli,
        megapixels=entry.megapixels,
        latency_ms=entry.latency_ms,
    )
    statement = insert.on_conflict_do_nothing(index_elements=[UsageRecordRow.request_id]).returning(
        UsageRecordRow.id
    )
    # RETURNING rather than rowcount, which PostgreSQL drivers may report as -1 here.
    return session.execute(statement).first() is not None


def record_usage_batch(session: Session, entries: list[UsageEntry]) -> set[str]:
    """Store many rows in one statement (group commit); repeated request ids are skipped.

    Returns the request ids really inserted (not skipped), for the rollup to count."""
    if not entries:
        return set()
    statement = (
        dialect_insert(session, UsageRecordRow)
        .on_conflict_do_nothing(index_elements=[UsageRecordRow.request_id])
        .returning(UsageRecordRow.request_id)
    )
    inserted = session.scalars(
        statement,
        [
            {
                "request_id": entry.request_id,
                "account_id": entry.account_id,
                "key_id": entry.key_id,
                "at": entry.at,
                "endpoint": entry.endpoint,
                "status": entry.status,
                "error_code": entry.error_code,
                "credits_milli": entry.credits_milli,
                "megapixels": entry.megapixels,
                "latency_ms": entry.latency_ms,
            }
            for entry in entries
        ],
    ).all()
    return set(inserted)


def usage_summary(
    session: Session, account_id: int, since: datetime, until: datetime | None = None
) -> UsageSummary:
    """Totals for requests at or after `since` and before `until` (default: now)."""
    statement = select(
        func.count(),
        func.coalesce(func.sum(case((UsageRecordRow.status >= 400, 1), else_=0)), 0),
        func.coalesce(func.sum(UsageRecordRow.credits_milli), 0),
        func.coalesce(func.sum(UsageRecordRow.megapixels), 0.0),
        func.coalesce(func.avg(UsageRecordRow.latency_ms), 0.0),
    ).where(
        UsageRecordRow.account_id == account_id,
        UsageRecordRow.status != PENDING_STATUS,
        UsageRecordRow.at >= since,
        UsageRecordRow.at < now_or_default(until),
    )
    requests, failed, credits_milli, megapixels, latency = session.execute(statement).one()
    return UsageSummary(
        requests=int(requests),
        failed_requests=int(failed),
        credits_milli=int(credits_milli),
        megapixels=float(megapixels),
        average_latency_ms=float(latency),
    )


def daily_usage(
    session: Session, account_id: int, days: int = DEFAULT_CHART_DAYS, now: datetime | None = None
) -> list[DailyUsage]:
    """Requests and credits per UTC day, oldest first, with empty days included as zeros."""
    if days < 1:
        raise ValueError("days must be at least 1")
    today = now_or_default(now).date()
    first_day = today - timedelta(days=days - 1)
    day = _utc_day(session)
    statement = (
        select(day, func.count(), func.coalesce(func.sum(UsageRecordRow.credits_milli), 0))
        .where(
            UsageRecordRow.account_id == account_id,
            UsageRecordRow.status != PENDING_STATUS,
            UsageRecordRow.at >= datetime.combine(first_day, time(), tzinfo=UTC),
            UsageRecordRow.at < datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC),
        )
        .group_by(day)
    )
    totals: dict[date, tuple[int, int]] = {}
    for found_day, requests, credits_milli in session.execute(statement):
        # SQLite's date() returns text, PostgreSQL a date.
        as_date = date.fromisoformat(found_day) if isinstance(found_day, str) else found_day
        totals[as_date] = (int(requests), int(credits_milli))
    chart: list[DailyUsage] = []
    for offset in range(days):
        current = first_day + timedelta(days=offset)
        requests, credits_milli = totals.get(current, (0, 0))
        chart.append(DailyUsage(day=current, requests=requests, credits_milli=credits_milli))
    return chart


def _utc_day(session: Session) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        # timestamptz -> the wall-clock time in UTC, whatever the connection's time zone.
        return sql_cast(func.timezone("UTC", UsageRecordRow.at), Date)
    # SQLite holds UTC text already (see UtcDateTime).
    return func.date(UsageRecordRow.at)


# The UTC day of a usage row, in either dialect (the console's fleet page groups by it too).
utc_day = _utc_day
