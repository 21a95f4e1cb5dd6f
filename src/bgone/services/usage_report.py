"""Usage reports and monthly statements, for `GET /v1/usage` and the account page.

Both read the usage rollup through bgone.domain.usage_report: one SELECT per report,
whatever the number of keys. Read-only and blocking: async callers use a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import CreditPeriodRow
from bgone.domain import accounts, credits
from bgone.domain.clock import now_or_default
from bgone.domain.usage_report import (
    UsageQuery,
    UsageReport,
    next_month,
    parse_group_by,
    parse_month,
    parse_range,
    run_report,
)

CSV_GROUP_BY = ("day", "key", "endpoint", "status")  # the account page's monthly download


@dataclass(frozen=True)
class Statement:
    """A month's credits: included, used, pay-as-you-go, and what each key used."""

    month: str  # YYYY-MM
    included: float
    used: float
    pay_as_you_go: float  # 0 until pay-as-you-go grants exist
    by_key: list[dict[str, object]]  # the report's rows grouped by key


class UsageReports:
    def __init__(self, read_sessions: SessionFactory) -> None:
        self.read_sessions = read_sessions

    def report(
        self,
        account_id: int,
        start: str | None,
        end: str | None,
        group_by: str | None,
        today: date | None = None,
    ) -> UsageReport:
        """Parse the API's parameters (raising InvalidGroupBy / InvalidDateRange), then read."""
        day = today or now_or_default(None).date()
        groups = parse_group_by(group_by)
        first, last = parse_range(start, end, day)
        return self._run(UsageQuery(account_id, first, last, groups))

    def month_csv(
        self, account_id: int, month: str | None, today: date | None = None
    ) -> tuple[str, str]:
        """The month as YYYY-MM, and its usage by day, key, endpoint and status as CSV."""
        first = parse_month(month, today or now_or_default(None).date())
        report = self._run(UsageQuery(account_id, first, next_month(first), CSV_GROUP_BY))
        return first.strftime("%Y-%m"), report.csv()

    def statement(
        self, account_id: int, month: str | None = None, today: date | None = None
    ) -> Statement:
        first = parse_month(month, today or now_or_default(None).date())
        query = UsageQuery(account_id, first, next_month(first), ("key",))
        with transaction(self.read_sessions) as session:
            limits = accounts.effective_limits(accounts.get_by_id(session, account_id))
            period = session.get(CreditPeriodRow, (account_id, first.strftime("%Y-%m")))
            report = run_report(session, query)
        # A month's own allowance once it has a ledger row; the plan's before its first request.
        included_milli = period.included_milli if period else limits.monthly_credits_milli
        used_milli = period.used_milli if period else 0
        return Statement(
            month=first.strftime("%Y-%m"),
            included=credits.milli_to_credits(included_milli),
            used=credits.milli_to_credits(used_milli),
            pay_as_you_go=0.0,
            by_key=report.rows,
        )

    def _run(self, query: UsageQuery) -> UsageReport:
        with transaction(self.read_sessions) as session:
            return run_report(session, query)
