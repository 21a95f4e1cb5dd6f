"""Usage across all accounts, for the console's fleet page: per UTC day from the rollup
(requests, credits, failed requests), and failures by error code from the raw rows of the
last days (the rollup keeps statuses, not codes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bgone.db.tables import UsageRecordRow, UsageRollupRow

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
    rows = session.execute(
        select(UsageRecordRow.error_code, UsageRecordRow.status, func.count())
        .where(
            UsageRecordRow.at >= now - timedelta(days=days), UsageRecordRow.error_code.isnot(None)
        )
        .group_by(UsageRecordRow.error_code, UsageRecordRow.status)
        .order_by(func.count().desc())
    ).all()
    return [ErrorCount(code or "", status, count) for code, status, count in rows]
