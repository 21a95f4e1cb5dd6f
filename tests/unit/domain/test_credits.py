from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import CreditPeriodRow
from bgone.domain import accounts, credits
from bgone.domain.accounts import Account, effective_limits
from bgone.domain.plan_limits import LimitChanges, Limits
from bgone.errors import InsufficientCredits
from tests.unit.domain.support import NOW, MakeAccount


def account_with_credits(
    sessions: SessionFactory, make_account: MakeAccount, credits_included: int
) -> tuple[Account, Limits]:
    account = make_account()
    with transaction(sessions) as session:
        account = accounts.set_limits(
            session,
            account.id,
            LimitChanges(monthly_credits_milli=credits_included * credits.MILLI_PER_CREDIT),
        )
    return account, effective_limits(account)


def test_conversions_are_exact() -> None:
    assert credits.credits_to_milli("0.25") == 250
    assert credits.credits_to_milli(Decimal("1.5")) == 1500
    assert credits.credits_to_milli(3) == 3000
    with pytest.raises(ValueError):
        credits.credits_to_milli("0.0001")
    assert credits.milli_to_credits(1250) == 1.25
    assert credits.period_key(datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) == "2025-12"


def test_reserve_commit_and_release_are_exact(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, limits = account_with_credits(sessions, make_account, 10)

    with transaction(sessions) as session:
        spent = credits.reserve(session, account.id, 1000, limits, now=NOW)
        failed = credits.reserve(session, account.id, 2500, limits, now=NOW)
    with transaction(sessions) as session:
        assert credits.balance(session, account.id, limits, now=NOW).reserved_milli == 3500
        credits.commit(session, spent, actual_milli=750)
        credits.release(session, failed)
        balance = credits.balance(session, account.id, limits, now=NOW)

    assert (balance.period, balance.included, balance.used, balance.reserved) == (
        "2025-05",
        10.0,
        0.75,
        0.0,
    )
    assert balance.remaining_milli == 9250
    assert balance.remaining == 9.25


def test_commit_cannot_exceed_the_reservation(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, limits = account_with_credits(sessions, make_account, 5)
    with transaction(sessions) as session:
        reservation = credits.reserve(session, account.id, 1000, limits, now=NOW)
        with pytest.raises(ValueError):
            credits.commit(session, reservation, actual_milli=1001)


def test_reserving_more_than_remains_is_refused(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, limits = account_with_credits(sessions, make_account, 2)
    with transaction(sessions) as session:
        credits.reserve(session, account.id, 1500, limits, now=NOW)
        with pytest.raises(InsufficientCredits, match=r"0\.5 remain"):
            credits.reserve(session, account.id, 501, limits, now=NOW)
        credits.reserve(session, account.id, 500, limits, now=NOW)  # exactly what is left
        assert credits.balance(session, account.id, limits, now=NOW).remaining_milli == 0


def test_plan_without_credits_cannot_reserve(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account("starter")
    with pytest.raises(InsufficientCredits), transaction(sessions) as session:
        credits.reserve(session, account.id, 1, effective_limits(account), now=NOW)


def test_new_month_starts_again_from_the_included_amount(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, limits = account_with_credits(sessions, make_account, 3)
    may = NOW
    june = datetime(2025, 6, 1, 0, 0, tzinfo=UTC)
    with transaction(sessions) as session:
        reservation = credits.reserve(session, account.id, 3000, limits, now=may)
        credits.commit(session, reservation, actual_milli=3000)
        with pytest.raises(InsufficientCredits):
            credits.reserve(session, account.id, 1, limits, now=may)

    with transaction(sessions) as session:
        assert credits.balance(session, account.id, limits, now=june).remaining == 3.0
        june_reservation = credits.reserve(session, account.id, 1000, limits, now=june)
        assert june_reservation.period == "2025-06"
        assert credits.balance(session, account.id, limits, now=may).used == 3.0


def test_current_month_allowance_follows_a_limit_change(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, limits = account_with_credits(sessions, make_account, 1)
    with transaction(sessions) as session:
        credits.commit(session, credits.reserve(session, account.id, 1000, limits, now=NOW), 1000)
        upgraded = accounts.set_limits(
            session, account.id, LimitChanges(monthly_credits_milli=5000)
        )
        credits.reserve(session, account.id, 4000, effective_limits(upgraded), now=NOW)
        row = session.get(CreditPeriodRow, (account.id, "2025-05"))
        assert row is not None
        assert (row.included_milli, row.used_milli, row.reserved_milli) == (5000, 1000, 4000)


def test_concurrent_reservations_never_overspend(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    # 20 requests race for 10 credits, from the very first request of the month: the
    # period row itself is created under contention too.
    account, limits = account_with_credits(sessions, make_account, 10)
    threads_count = 20
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def spend_one_credit() -> None:
        barrier.wait()
        try:
            with transaction(sessions) as session:
                credits.reserve(session, account.id, 1000, limits, now=NOW)
            outcome = "reserved"
        except InsufficientCredits:
            outcome = "refused"
        except Exception as error:  # surfaced by the assertion below
            outcome = repr(error)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=spend_one_credit) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["refused"] * 10 + ["reserved"] * 10
    with sessions() as session:
        balance = credits.balance(session, account.id, limits, now=NOW)
    assert (balance.reserved_milli, balance.remaining_milli) == (10_000, 0)
