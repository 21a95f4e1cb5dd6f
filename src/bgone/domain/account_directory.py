"""The console's list of accounts: searched by an account id or any member's email, sorted,
paginated, with this period's credits, this month's requests and the last activity, in two
queries whatever the number of accounts on the page (the page, and its count)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from bgone.db.tables import (
    AccountRow,
    ApiKeyRow,
    CreditPeriodRow,
    MembershipRow,
    UsageRollupRow,
    UserRow,
)
from bgone.domain.credits import period_key

PAGE_SIZE = 25


class SortBy(StrEnum):
    EMAIL = "email"
    PLAN = "plan"
    STATUS = "status"
    CREDITS = "credits"
    REQUESTS = "requests"
    ACTIVITY = "activity"


@dataclass(frozen=True)
class DirectoryQuery:
    search: str = ""
    sort: SortBy = SortBy.EMAIL
    descending: bool = False
    page: int = 1  # from 1


@dataclass(frozen=True)
class DirectoryRow:
    account_id: int
    email: str
    plan: str
    status: str
    credits_used: float
    requests_this_month: int
    last_activity: datetime | None


@dataclass(frozen=True)
class DirectoryPage:
    rows: list[DirectoryRow]
    total: int
    page: int
    pages: int


def _matches(search: str) -> ColumnElement[bool] | None:
    text = search.strip().lower()
    if not text:
        return None
    pattern = f"%{text.replace('%', '').replace('_', '')}%"
    member_matches = (
        select(MembershipRow.account_id)
        .join(UserRow, UserRow.id == MembershipRow.user_id)
        .where(UserRow.email.like(pattern))
    )
    conditions: list[ColumnElement[bool]] = [
        AccountRow.email.like(pattern),
        AccountRow.id.in_(member_matches),
    ]
    if text.isdigit() and len(text) < 10:
        conditions.append(AccountRow.id == int(text))
    return or_(*conditions)


def list_accounts(session: Session, query: DirectoryQuery, now: datetime) -> DirectoryPage:
    month_start = date(now.year, now.month, 1)
    requests = (
        select(
            UsageRollupRow.account_id.label("account_id"),
            func.sum(UsageRollupRow.requests).label("requests"),
        )
        .where(UsageRollupRow.day >= month_start)
        .group_by(UsageRollupRow.account_id)
        .subquery()
    )
    activity = (
        select(
            ApiKeyRow.account_id.label("account_id"),
            func.max(ApiKeyRow.last_used_at).label("last_used"),
        )
        .group_by(ApiKeyRow.account_id)
        .subquery()
    )
    used = func.coalesce(CreditPeriodRow.used_milli, 0)
    request_count = func.coalesce(requests.c.requests, 0)
    sort_columns = {
        SortBy.EMAIL: AccountRow.email,
        SortBy.PLAN: AccountRow.plan,
        SortBy.STATUS: AccountRow.status,
        SortBy.CREDITS: used,
        SortBy.REQUESTS: request_count,
        SortBy.ACTIVITY: func.coalesce(activity.c.last_used, AccountRow.created_at),
    }
    condition = _matches(query.search)
    statement = (
        select(
            AccountRow.id,
            AccountRow.email,
            AccountRow.plan,
            AccountRow.status,
            used,
            request_count,
            activity.c.last_used,
        )
        .outerjoin(
            CreditPeriodRow,
            (CreditPeriodRow.account_id == AccountRow.id)
            & (CreditPeriodRow.period == period_key(now)),
        )
        .outerjoin(requests, requests.c.account_id == AccountRow.id)
        .outerjoin(activity, activity.c.account_id == AccountRow.id)
    )
    counted = select(func.count()).select_from(AccountRow)
    if condition is not None:
        statement = statement.where(condition)
        counted = counted.where(condition)
    column = sort_columns[query.sort]
    ordering = column.desc() if query.descending else column.asc()
    page = max(query.page, 1)
    total = session.scalar(counted) or 0
    found = session.execute(
        statement.order_by(ordering, AccountRow.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    rows = [
        DirectoryRow(
            account_id=account_id,
            email=email,
            plan=plan,
            status=status,
            credits_used=used_milli / 1000,
            requests_this_month=int(count),
            last_activity=last_used,
        )
        for account_id, email, plan, status, used_milli, count, last_used in found
    ]
    return DirectoryPage(rows, total, page, max(1, -(-total // PAGE_SIZE)))
