"""Pending rows, final rows and releases: idempotent by request id, on SQLite and PostgreSQL.

Also the journal that carries them across outages and crashes (api/usage_journal.py): a
live process's journal is never claimed, a dead one's is, exactly once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import UsageRecordRow
from bgone.domain import credits, metering
from bgone.domain.accounts import effective_limits, get_by_id
from bgone.domain.credits import Reservation
from bgone.domain.plan_limits import Limits
from bgone.domain.usage import UsageEntry, daily_usage, usage_summary
from bgone.infra.usage_journal import Journal, decode_row, encode_row
from tests.unit.domain.support import NOW, MakeAccount


def entry(account_id: int, request_id: str, status: int = 200, charged: int = 0) -> UsageEntry:
    return UsageEntry(
        request_id=request_id,
        at=NOW,
        endpoint="POST /v2",
        status=status,
        account_id=account_id,
        credits_milli=charged,
    )


def limits_of(session: Session, account_id: int) -> Limits:
    return effective_limits(get_by_id(session, account_id))


def figures(sessions: SessionFactory, account_id: int) -> tuple[int, int]:
    """(used, reserved) milli-credits this month."""
    with transaction(sessions) as session:
        balance = credits.balance(session, account_id, limits_of(session, account_id), NOW)
    return balance.used_milli, balance.reserved_milli


def rows(sessions: SessionFactory, account_id: int) -> dict[str, tuple[int, int, str | None]]:
    with transaction(sessions) as session:
        found = session.execute(
            select(
                UsageRecordRow.request_id,
                UsageRecordRow.status,
                UsageRecordRow.credits_milli,
                UsageRecordRow.error_code,
            ).where(UsageRecordRow.account_id == account_id)
        )
        return {request_id: (status, milli, code) for request_id, status, milli, code in found}


def reserve(sessions: SessionFactory, account_id: int, request_id: str) -> Reservation:
    with transaction(sessions) as session:
        return metering.reserve_with_pending_row(
            session, entry(account_id, request_id, status=0), 1000, limits_of(session, account_id)
        )


def test_final_row_charges_once_however_often_it_is_written(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    reservation = reserve(sessions, account.id, "r-delivered")
    assert figures(sessions, account.id) == (0, 1000)
    assert rows(sessions, account.id)["r-delivered"][0] == metering.PENDING_STATUS
    final = metering.FinalRow(entry(account.id, "r-delivered", charged=1000), reservation)
    for _ in range(3):  # a spool replayed again after a crash mid-replay, say
        with transaction(sessions) as session:
            metering.write_final_rows(session, [final])
    assert figures(sessions, account.id) == (1000, 0)
    assert rows(sessions, account.id)["r-delivered"] == (200, 1000, None)
    # A recovery that comes too late changes nothing either.
    with transaction(sessions) as session:
        assert metering.release_pending(session, ["r-delivered"]) == 0
    assert figures(sessions, account.id) == (1000, 0)


def test_summaries_count_a_request_once_it_is_final(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    reservation = reserve(sessions, account.id, "r-running")

    def seen() -> tuple[int, int, int]:
        with transaction(sessions) as session:
            summary = usage_summary(
                session, account.id, NOW - timedelta(days=1), NOW + timedelta(1)
            )
            chart = daily_usage(session, account.id, days=1, now=NOW)
        return summary.requests, summary.credits_milli, chart[-1].credits_milli

    assert seen() == (0, 0, 0)  # reserved, not yet spent
    final = metering.FinalRow(entry(account.id, "r-running", charged=1000), reservation)
    with transaction(sessions) as session:
        metering.write_final_rows(session, [final])
    assert seen() == (1, 1000, 1000)


def test_failed_request_releases_and_orphan_is_released_once(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    failed = reserve(sessions, account.id, "r-failed")
    reserve(sessions, account.id, "r-orphan")
    with transaction(sessions) as session:
        metering.write_final_rows(
            session, [metering.FinalRow(entry(account.id, "r-failed", status=503), failed)]
        )
    assert figures(sessions, account.id) == (0, 1000)
    for expected in (1, 0):
        with transaction(sessions) as session:
            assert metering.release_pending(session, ["r-orphan", "r-unknown"]) == expected
    assert figures(sessions, account.id) == (0, 0)
    assert rows(sessions, account.id)["r-orphan"] == (503, 0, metering.LOST_CODE)


def test_reservation_that_never_happened_is_recorded_free(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    never = Reservation(account.id, credits.period_key(NOW), 1000)
    final = metering.FinalRow(entry(account.id, "r-ambiguous", status=503, charged=0), never)
    with transaction(sessions) as session:
        metering.write_final_rows(session, [final])
    assert rows(sessions, account.id)["r-ambiguous"] == (503, 0, None)
    assert figures(sessions, account.id) == (0, 0)


def test_stale_pending_rows_are_released(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    reserve(sessions, account.id, "r-stale")
    with transaction(sessions) as session:
        assert metering.release_stale(session, NOW) == 0  # not older than NOW
        assert metering.release_stale(session, NOW + timedelta(minutes=1)) == 1
    assert figures(sessions, account.id) == (0, 0)


def test_journal_rows_round_trip() -> None:
    row = metering.FinalRow(
        replace(entry(7, "r-json", charged=250), key_id="key_x", megapixels=1.5),
        Reservation(7, "2025-06", 250),
    )
    assert decode_row(encode_row(row)) == row
    plain = metering.FinalRow(entry(7, "r-plain"))
    assert decode_row(encode_row(plain)) == plain


def test_journal_of_a_live_process_is_never_claimed_a_dead_ones_is(tmp_path: Path) -> None:
    live = Journal(tmp_path)
    dead = Journal(tmp_path)
    dead.note_reservation("r-1")
    dead.spool([metering.FinalRow(entry(7, "r-2"))])
    assert [orphan.name for orphan in live.claim_orphans()] == []  # `dead` still holds its lock

    dead._lock_handle.close()  # what the kernel does when the process dies
    claimed = list(live.claim_orphans())
    assert [orphan.name for orphan in claimed] == [dead.name]
    assert claimed[0].reserved_request_ids == ["r-1"]
    assert [row.entry.request_id for row in claimed[0].rows] == ["r-2"]
    claimed[0].discard()
    assert list(live.claim_orphans()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f"{live.name}.lock",
        f"{live.name}.reservations.jsonl",
    ]
    live.close()
    assert list(tmp_path.iterdir()) == []
