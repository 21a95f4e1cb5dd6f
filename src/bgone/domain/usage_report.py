"""Usage reports: `GET /v1/usage`, the account page's CSV and its monthly statement.

A report is one SELECT on the usage rollup (domain/usage_rollup.py), whatever the number of
keys: grouped by at most one of `day` / `month` and any of `key`, `endpoint`, `status`, over
UTC dates `from` (inclusive) to `to` (exclusive). Key names come from a join in that same
statement, never from a query per key.

Every row has the same fields in the same order, which is also the CSV's column order:
the grouping columns asked for (`day` or `month`, `key_id` and `key_name`, `endpoint`,
`status`, in that order), then `requests`, `failed_requests` (HTTP status 400 and above),
`credits` and `megapixels`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session

from bgone.db.tables import ApiKeyRow, UsageRollupRow
from bgone.domain.credits import milli_to_credits
from bgone.domain.usage_rollup import NO_KEY
from bgone.errors import InvalidDateRange, InvalidGroupBy, quoted

PERIODS = ("day", "month")
DIMENSIONS = ("key", "endpoint", "status")
DEFAULT_GROUP_BY = ("day",)
MAX_RANGE_DAYS = 400  # a year and a bit: a report of any month, quarter or year
MEASURES = ("requests", "failed_requests", "credits", "megapixels")
# The columns each grouping adds, in the order rows and CSVs give them.
GROUP_COLUMNS = {
    "day": ("day",),
    "month": ("month",),
    "key": ("key_id", "key_name"),
    "endpoint": ("endpoint",),
    "status": ("status",),
}
GROUP_ORDER = ("day", "month", "key", "endpoint", "status")


@dataclass(frozen=True)
class UsageQuery:
    account_id: int
    start: date  # inclusive, UTC
    end: date  # exclusive, UTC
    group_by: tuple[str, ...]  # in GROUP_ORDER

    @property
    def columns(self) -> tuple[str, ...]:
        grouped = tuple(name for group in self.group_by for name in GROUP_COLUMNS[group])
        return grouped + MEASURES


@dataclass(frozen=True)
class UsageReport:
    query: UsageQuery
    rows: list[dict[str, Any]]

    def document(self) -> dict[str, Any]:
        return {
            "from": self.query.start.isoformat(),
            "to": self.query.end.isoformat(),
            "group_by": list(self.query.group_by),
            "columns": list(self.query.columns),
            "rows": self.rows,
        }

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.query.columns)
        for row in self.rows:
            writer.writerow(["" if row[name] is None else row[name] for name in self.query.columns])
        return out.getvalue()


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def parse_group_by(text: str | None) -> tuple[str, ...]:
    """`day,key` -> ('day', 'key'): at most one of day/month, any of key, endpoint, status."""
    if text is None:
        return DEFAULT_GROUP_BY
    names = [part.strip().lower() for part in text.split(",")]
    if text.strip() == "":
        return ()
    allowed = PERIODS + DIMENSIONS
    for name in names:
        if name not in allowed:
            raise InvalidGroupBy(
                f"group_by: {quoted(name)} is not one of {', '.join(allowed)} "
                "(a comma-separated list, e.g. day,key)"
            )
    if len(set(names)) != len(names):
        raise InvalidGroupBy("group_by names each grouping at most once")
    if "day" in names and "month" in names:
        raise InvalidGroupBy("group_by takes day or month, not both")
    return tuple(name for name in GROUP_ORDER if name in names)


def _parse_date(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidDateRange(
            f"{name}: {quoted(text)} is not an ISO date (YYYY-MM-DD, UTC)"
        ) from None


def parse_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """`from` inclusive, `to` exclusive, UTC dates; default: this month (so far and to come)."""
    first = _parse_date("from", start) if start else None
    last = _parse_date("to", end) if end else None
    if first is None and last is None:
        first = month_start(today)
        last = next_month(first)
    elif first is None:
        assert last is not None
        first = month_start(last - timedelta(days=1))
    elif last is None:
        last = next_month(month_start(first))
    if last <= first:
        raise InvalidDateRange(f"to ({last}) must come after from ({first}); to is exclusive")
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidDateRange(f"a report covers at most {MAX_RANGE_DAYS} days")
    return first, last


def parse_month(text: str | None, today: date) -> date:
    """`2026-12` -> the first of that month; default: this month."""
    if not text:
        return month_start(today)
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise InvalidDateRange(f"month: {quoted(text)} is not a month (YYYY-MM)") from None


def _month_of(session: Session) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(UsageRollupRow.day, "YYYY-MM")
    return func.substr(UsageRollupRow.day, 1, 7)  # SQLite keeps dates as YYYY-MM-DD text


def report_statement(session: Session, query: UsageQuery) -> Select[Any]:
    """The one SELECT that answers `query`."""
    rollup = UsageRollupRow
    grouped: list[Any] = []  # columns and expressions
    selected: list[ColumnElement[Any]] = []
    joined = False
    for group in query.group_by:
        if group == "day":
            grouped.append(rollup.day)
            selected.append(rollup.day.label("day"))
        elif group == "month":
            month = _month_of(session)
            grouped.append(month)
            selected.append(month.label("month"))
        elif group == "key":
            joined = True
            grouped += [rollup.key_id, ApiKeyRow.name]
            selected += [rollup.key_id.label("key_id"), ApiKeyRow.name.label("key_name")]
        elif group == "endpoint":
            grouped.append(rollup.endpoint)
            selected.append(rollup.endpoint.label("endpoint"))
        else:
            grouped.append(rollup.status)
            selected.append(rollup.status.label("status"))
    failed = case((rollup.status >= 400, rollup.requests), else_=literal(0))
    statement = select(
        *selected,
        func.coalesce(func.sum(rollup.requests), 0).label("requests"),
        func.coalesce(func.sum(failed), 0).label("failed_requests"),
        func.coalesce(func.sum(rollup.credits_milli), 0).label("credits_milli"),
        func.coalesce(func.sum(rollup.megapixels), 0.0).label("megapixels"),
    ).where(
        rollup.account_id == query.account_id,
        rollup.day >= query.start,
        rollup.day < query.end,
    )
    if joined:
        statement = statement.select_from(rollup).outerjoin(
            ApiKeyRow, ApiKeyRow.id == rollup.key_id
        )
    if grouped:
        statement = statement.group_by(*grouped).order_by(*grouped)
    return statement


def run_report(session: Session, query: UsageQuery) -> UsageReport:
    rows: list[dict[str, Any]] = []
    for found in session.execute(report_statement(session, query)).mappings():
        if not query.group_by and not found["requests"]:
            break  # no usage at all: no row, as with any grouping
        row: dict[str, Any] = {}
        for group in query.group_by:
            if group == "day":
                day = found["day"]
                row["day"] = day if isinstance(day, str) else day.isoformat()
            elif group == "month":
                row["month"] = found["month"]
            elif group == "key":
                key_id = found["key_id"]
                row["key_id"] = None if key_id == NO_KEY else key_id
                row["key_name"] = found["key_name"]
            elif group == "endpoint":
                row["endpoint"] = found["endpoint"]
            else:
                row["status"] = int(found["status"])
        row["requests"] = int(found["requests"])
        row["failed_requests"] = int(found["failed_requests"])
        row["credits"] = milli_to_credits(int(found["credits_milli"]))
        row["megapixels"] = round(float(found["megapixels"]), 3)
        rows.append(row)
    return UsageReport(query, rows)
