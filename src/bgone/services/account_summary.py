"""An account's standing this period: one query set behind `/v1/account` and the account page.

Both answer the same question (plan, limits, credits left, usage this month), so they read
it the same way and cannot disagree; the account page adds its chart, keys and audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import accounts, api_keys, audit, credits, plans, usage
from bgone.domain.accounts import Account
from bgone.domain.clock import now_or_default
from bgone.domain.key_records import KeyRecord
from bgone.domain.plan_limits import Limits

CHART_DAYS = 30
PAGE_AUDIT_EVENTS = 50


@dataclass(frozen=True)
class AccountSummary:
    account: Account
    limits: Limits
    balance: credits.Balance
    period_usage: usage.UsageSummary  # since the start of the calendar month (UTC)


@dataclass(frozen=True)
class AccountPageData:
    summary: AccountSummary
    daily_usage: list[usage.DailyUsage]
    keys: list[KeyRecord]
    events: list[audit.AuditEvent]
    api_plans: list[plans.Plan]  # what a plan without API access can move to


def period_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def summarize(session: Session, account_id: int, now: datetime) -> AccountSummary:
    account = accounts.get_by_id(session, account_id)
    limits = accounts.effective_limits(account)
    return AccountSummary(
        account=account,
        limits=limits,
        balance=credits.balance(session, account_id, limits, now),
        period_usage=usage.usage_summary(session, account_id, period_start(now)),
    )


class AccountSummaries:
    """Read-only, blocking: async callers use a worker thread."""

    def __init__(self, read_sessions: SessionFactory) -> None:
        self.read_sessions = read_sessions

    def summary(self, account_id: int, now: datetime | None = None) -> AccountSummary:
        with transaction(self.read_sessions) as session:
            return summarize(session, account_id, now_or_default(now))

    def account_page(self, account_id: int, now: datetime | None = None) -> AccountPageData:
        moment = now_or_default(now)
        with transaction(self.read_sessions) as session:
            return AccountPageData(
                summary=summarize(session, account_id, moment),
                daily_usage=usage.daily_usage(session, account_id, days=CHART_DAYS, now=moment),
                keys=api_keys.list_keys(session, account_id),
                events=audit.list_for_account(session, account_id, limit=PAGE_AUDIT_EVENTS),
                api_plans=[plan for plan in plans.list_plans(session) if plan.api_access],
            )
