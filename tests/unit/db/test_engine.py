from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from bgone.db.engine import SessionFactory, make_engine, transaction
from bgone.db.tables import AccountRow, CreditPeriodRow

CREATED = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def add_account(sessions: SessionFactory, email: str, created_at: datetime) -> int:
    with transaction(sessions) as session:
        row = AccountRow(email=email, plan="business", status="active", created_at=created_at)
        session.add(row)
        session.flush()
        return row.id


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'bgone.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()


def test_timestamps_come_back_aware_and_in_utc(sessions: SessionFactory) -> None:
    paris = timezone(timedelta(hours=1))
    account_id = add_account(sessions, "tz@example.com", CREATED.astimezone(paris))

    with sessions() as session:
        row = session.get(AccountRow, account_id, populate_existing=True)
        assert row is not None
        assert row.created_at == CREATED
        assert row.created_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(sessions: SessionFactory) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        add_account(sessions, "naive@example.com", datetime(2025, 3, 1, 12, 30))


def test_foreign_keys_are_enforced(sessions: SessionFactory) -> None:
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add(AccountRow(email="x@example.com", plan="no-such-plan", created_at=CREATED))


def test_credit_counters_cannot_go_negative(sessions: SessionFactory) -> None:
    account_id = add_account(sessions, "credits@example.com", CREATED)
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add(
            CreditPeriodRow(
                account_id=account_id,
                period="2025-03",
                included_milli=1000,
                used_milli=0,
                reserved_milli=-1,
            )
        )


def test_emails_must_be_stored_lower_case(sessions: SessionFactory) -> None:
    with pytest.raises(IntegrityError):
        add_account(sessions, "Upper@Example.com", CREATED)


def test_transaction_rolls_back_on_error(sessions: SessionFactory) -> None:
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        session.add(AccountRow(email="gone@example.com", plan="business", created_at=CREATED))
        session.flush()
        raise RuntimeError("boom")

    with sessions() as session:
        count = session.execute(text("SELECT count(*) FROM accounts")).scalar()
    assert count == 0
