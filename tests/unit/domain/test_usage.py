from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import usage
from bgone.domain.usage import DailyUsage, UsageEntry
from tests.unit.domain.support import NOW, MakeAccount


def entry(
    request_id: str,
    account_id: int | None,
    at: datetime,
    credits_milli: int = 0,
    megapixels: float = 0.0,
    latency_ms: float = 0.0,
    status: int = 200,
    error_code: str | None = None,
) -> UsageEntry:
    return UsageEntry(
        request_id=request_id,
        at=at,
        endpoint="/v1.0/removebg",
        status=status,
        account_id=account_id,
        error_code=error_code,
        credits_milli=credits_milli,
        megapixels=megapixels,
        latency_ms=latency_ms,
    )


def test_recording_is_idempotent_by_request_id(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    first = entry("req-1", account.id, NOW, credits_milli=1000, megapixels=1.2)
    with transaction(sessions) as session:
        assert usage.record_usage(session, first)
        assert not usage.record_usage(session, first)
    with transaction(sessions) as session:
        assert not usage.record_usage(session, entry("req-1", account.id, NOW, credits_milli=5))
        summary = usage.usage_summary(session, account.id, since=NOW - timedelta(days=1))

    assert (summary.requests, summary.credits_milli, summary.megapixels) == (1, 1000, 1.2)


def test_summary_counts_requests_failures_credits_and_latency(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, other = make_account(), make_account()
    start = datetime(2025, 5, 1, tzinfo=UTC)
    with transaction(sessions) as session:
        usage.record_usage(session, entry("a", account.id, NOW, credits_milli=1000, latency_ms=100))
        usage.record_usage(session, entry("b", account.id, NOW, credits_milli=250, latency_ms=300))
        usage.record_usage(
            session, entry("c", account.id, NOW, status=402, error_code="insufficient_credits")
        )
        usage.record_usage(session, entry("d", account.id, start - timedelta(seconds=1)))
        usage.record_usage(session, entry("e", other.id, NOW, credits_milli=9000))
        usage.record_usage(session, entry("f", None, NOW, status=401))
        summary = usage.usage_summary(session, account.id, since=start, until=NOW + timedelta(1))
        empty = usage.usage_summary(session, account.id, since=NOW + timedelta(days=1))

    assert (summary.requests, summary.failed_requests) == (3, 1)
    assert summary.credits == 1.25
    assert summary.average_latency_ms == (100 + 300 + 0) / 3
    assert (empty.requests, empty.credits_milli, empty.average_latency_ms) == (0, 0, 0.0)


def test_daily_usage_groups_by_utc_day_with_empty_days(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    today = NOW.date()
    with transaction(sessions) as session:
        # 23:30 UTC on the 12th is already the 13th in Tokyo; the chart counts UTC days.
        late = datetime(2025, 5, 12, 23, 30, tzinfo=UTC)
        usage.record_usage(session, entry("1", account.id, late, credits_milli=1000))
        usage.record_usage(session, entry("2", account.id, late, credits_milli=500))
        usage.record_usage(session, entry("3", account.id, NOW, credits_milli=2000))
        old = NOW - timedelta(days=3)
        usage.record_usage(session, entry("4", account.id, old, credits_milli=7))  # too old
        chart = usage.daily_usage(session, account.id, days=3, now=NOW)

    assert chart == [
        DailyUsage(day=date(2025, 5, 12), requests=2, credits_milli=1500),
        DailyUsage(day=date(2025, 5, 13), requests=0, credits_milli=0),
        DailyUsage(day=today, requests=1, credits_milli=2000),
    ]
    assert chart[0].credits == 1.5
