"""Usage across all accounts, for the console's fleet page: per UTC day from the rollup
(requests, credits, failed requests), and failures per day and error code from the raw rows
of the last days (the rollup keeps statuses, not codes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bgone.db.tables import UsageRecordRow, UsageRollupRow
from bgone.domain.usage import utc_day

DAYS = 30
ERROR_DAYS = 7


@dataclass(frozen=True)
class FleetDay:
    day: date
    requests: int
    credits: float
    failed: int


@dataclass(frozen=True)
class ErrorCount:
    day: date
    code: str
    status: int
    count: int


def per_day(session: Session, now: datetime, days: int = DAYS) -> list[FleetDay]:
    since = now.date() - timedelta(days=days - 1)
    failed = func.sum(case((UsageRollupRow.status >= 400, UsageRollupRow.requests), else_=0))
    rows = session.execute(
        select(
            UsageRollupRow.day,
            func.sum(UsageRollupRow.requests),
            func.sum(UsageRollupRow.credits_milli),
            failed,
        )
        .where(UsageRollupRow.day >= since)
        .group_by(UsageRollupRow.day)
        .order_by(UsageRollupRow.day.desc())
    ).all()
    return [
        FleetDay(day, int(requests or 0), (milli or 0) / 1000, int(failures or 0))
        for day, requests, milli, failures in rows
    ]


def errors_by_code(session: Session, now: datetime, days: int = ERROR_DAYS) -> list[ErrorCount]:
    """Failed requests per UTC day and error code, newest day first, the most frequent first."""
    day = utc_day(session)
    since = datetime.combine(now.date() - timedelta(days=days - 1), time(), tzinfo=UTC)
    count = func.count()
    rows = session.execute(
        select(day, UsageRecordRow.error_code, UsageRecordRow.status, count)
        .where(UsageRecordRow.at >= since, UsageRecordRow.error_code.isnot(None))
        .group_by(day, UsageRecordRow.error_code, UsageRecordRow.status)
        .order_by(day.desc(), count.desc(), UsageRecordRow.error_code)
    ).all()
    return [
        ErrorCount(
            date.fromisoformat(found) if isinstance(found, str) else found,
            code or "",
            status,
            number,
        )
        for found, code, status, number in rows
    ]
