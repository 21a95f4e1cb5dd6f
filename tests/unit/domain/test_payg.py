"""Pay-as-you-go credits: granted once, never reset, spent after the month's."""

from __future__ import annotations

import threading

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import credits, payg
from bgone.errors import InsufficientCredits
from tests.unit.domain.support import NOW, MakeAccount
from tests.unit.domain.test_credits import account_with_credits


def test_the_month_first_then_payg_and_release_gives_both_back(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, limits = account_with_credits(sessions, make_account, 2)
    with transaction(sessions) as session:
        payg.grant(session, account.id, 3000, actor="operator:cli", reason="goodwill")
    with transaction(sessions) as session:
        first = credits.reserve(session, account.id, 1500, limits, now=NOW)
        second = credits.reserve(session, account.id, 2000, limits, now=NOW)
    assert (first.milli, first.payg_milli) == (1500, 0)
    assert (second.milli, second.payg_milli) == (2000, 1500)
    with transaction(sessions) as session:
        balance = credits.balance(session, account.id, limits, now=NOW)
        assert (balance.remaining_milli, balance.payg_milli) == (0, 1500)
        credits.release(session, second)
        credits.commit(session, first, 1500)
        balance = credits.balance(session, account.id, limits, now=NOW)
    assert (balance.remaining_milli, balance.payg_milli, balance.total_milli) == (500, 3000, 3500)


def test_commit_charges_the_month_first_and_returns_unused_payg(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, limits = account_with_credits(sessions, make_account, 1)
    with transaction(sessions) as session:
        payg.grant(session, account.id, 5000, actor="operator:cli")
        reservation = credits.reserve(session, account.id, 3000, limits, now=NOW)
        credits.commit(session, reservation, 2000)
        balance = credits.balance(session, account.id, limits, now=NOW)
    assert (balance.used_milli, balance.remaining_milli, balance.payg_milli) == (1000, 0, 4000)


def test_more_than_month_and_payg_together_is_refused(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, limits = account_with_credits(sessions, make_account, 1)
    with transaction(sessions) as session:
        payg.grant(session, account.id, 1000, actor="operator:cli")
    try:
        with transaction(sessions) as session:
            credits.reserve(session, account.id, 2001, limits, now=NOW)
    except InsufficientCredits as error:
        assert "2.001" in error.detail
    else:
        raise AssertionError("reserved more than there is")
    with sessions() as session:
        balance = credits.balance(session, account.id, limits, now=NOW)
    assert (balance.remaining_milli, balance.payg_milli) == (1000, 1000)


def test_trial_is_granted_once(sessions: SessionFactory, make_account: MakeAccount) -> None:
    account = make_account()
    with transaction(sessions) as session:
        assert payg.grant_trial(session, account.id, 5000) is True
    with transaction(sessions) as session:
        assert payg.grant_trial(session, account.id, 5000) is False
        assert payg.payg_balance(session, account.id) == 5000
        assert [grant.kind for grant in payg.list_grants(session, account.id)] == ["trial"]


def test_concurrent_reservations_never_overdraw_payg(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    # No monthly credits; 20 requests race for 7 pay-as-you-go credits.
    account, limits = account_with_credits(sessions, make_account, 0)
    with transaction(sessions) as session:
        payg.grant(session, account.id, 7000, actor="operator:cli")
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

    assert sorted(outcomes) == ["refused"] * 13 + ["reserved"] * 7
    with sessions() as session:
        assert payg.payg_balance(session, account.id) == 0


def test_pending_rows_remember_the_payg_part_for_settlement_and_recovery(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    from dataclasses import replace

    from bgone.domain import metering
    from tests.unit.domain.test_metering import entry, limits_of

    account, _ = account_with_credits(sessions, make_account, 1)
    with transaction(sessions) as session:
        payg.grant(session, account.id, 4000, actor="operator:cli")
    held = []
    for request_id in ("r-paid", "r-orphan"):
        with transaction(sessions) as session:
            held.append(
                metering.reserve_with_pending_row(
                    session,
                    entry(account.id, request_id, status=0),
                    2000,
                    limits_of(session, account.id),
                )
            )
    with sessions() as session:
        assert payg.payg_balance(session, account.id) == 1000  # 1 from the month, 3 payg
    # Memory forgot the split (a journal replay): the row's record is what counts.
    paid = replace(held[0], payg_milli=0)
    with transaction(sessions) as session:
        metering.write_final_rows(
            session, [metering.FinalRow(entry(account.id, "r-paid", charged=2000), paid)]
        )
        assert metering.release_pending(session, ["r-orphan"]) == 1
    with sessions() as session:
        balance = credits.balance(session, account.id, limits_of(session, account.id), NOW)
    assert (balance.used_milli, balance.reserved_milli, balance.payg_milli) == (1000, 0, 3000)
