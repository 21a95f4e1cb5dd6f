"""One group commit of usage rows on real SQLite and PostgreSQL: one bad row fails alone, and
every other request's row (and its credits) in the same batch is kept."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import ApiKeyRow, CreditPeriodRow, UsageRecordRow
from bgone.domain import api_keys, metering
from bgone.domain.accounts import Account, create_account, effective_limits
from bgone.domain.metering import FinalRow
from bgone.domain.usage import UsageEntry
from bgone.infra.usage_batches import UsageWrite, commit_batch
from bgone.infra.usage_journal import Journal
from bgone.infra.usage_writer import UsageWriter
from bgone.security.hashing import SecretRing
from tests.support.db_fixtures import POSTGRES
from tests.unit.domain.support import NOW

GOOD_ROWS = 120
RESERVED_ROWS = 20  # of the good rows, those that settle a credit reservation
NO_SUCH_ACCOUNT = 999_999
# What a loopback proxy once handed on as the client address: longer than any IP address.
FORWARDED_GARBAGE = "203.0.113.7, 198.51.100.23, 192.0.2.1, 203.0.113.250, 10.0.0.1"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "journal")
    yield opened
    opened.close()


def account(sessions: SessionFactory, name: str) -> Account:
    with transaction(sessions) as session:
        return create_account(session, f"{name}@example.com", plan="business", now=NOW)


def entry(
    account_id: int, request_id: str, key_id: str | None = None, at: datetime = NOW
) -> UsageEntry:
    return UsageEntry(
        request_id, at, "POST /v2", 200, account_id, key_id, credits_milli=1000, megapixels=1.0
    )


def good_writes(sessions: SessionFactory, owner: Account) -> list[UsageWrite]:
    """GOOD_ROWS writes of one account, the first RESERVED_ROWS of them with a reservation."""
    writes = []
    for number in range(GOOD_ROWS):
        request = entry(owner.id, f"good-{number}")
        reservation = None
        if number < RESERVED_ROWS:
            with transaction(sessions) as session:
                reservation = metering.reserve_with_pending_row(
                    session, request, 1000, effective_limits(owner)
                )
        writes.append(UsageWrite(FinalRow(request, reservation)))
    return writes


def kept_rows(sessions: SessionFactory, account_id: int) -> int:
    with sessions() as session:
        statement = select(func.count()).where(
            UsageRecordRow.account_id == account_id,
            UsageRecordRow.status != metering.PENDING_STATUS,
        )
        return session.scalar(statement) or 0


def used_milli(sessions: SessionFactory, account_id: int) -> int:
    with sessions() as session:
        statement = select(func.sum(CreditPeriodRow.used_milli)).where(
            CreditPeriodRow.account_id == account_id
        )
        return session.scalar(statement) or 0


def test_a_row_that_breaks_a_constraint_fails_alone(
    sessions: SessionFactory, journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    owner = account(sessions, "owner")
    good = good_writes(sessions, owner)
    orphan = UsageWrite(FinalRow(entry(NO_SUCH_ACCOUNT, "bad-account")))

    with caplog.at_level(logging.ERROR, logger="bgone.infra.usage_writer"):
        outcomes = commit_batch(sessions, journal, [*good[:60], orphan, *good[60:]])

    assert [index for index, error in enumerate(outcomes) if error is not None] == [60]
    assert kept_rows(sessions, owner.id) == GOOD_ROWS
    assert used_milli(sessions, owner.id) == RESERVED_ROWS * 1000
    assert "bad-account" in caplog.text  # the one bad row is logged, by its request id
    assert not journal.spooled


def test_an_address_too_long_for_its_column_loses_no_row(
    sessions: SessionFactory, journal: Journal
) -> None:
    """PostgreSQL refuses the address (VARCHAR(45)); SQLite stores it, so there it is easy."""
    ring = SecretRing.from_secrets("server-secret-for-tests")
    owner, other = account(sessions, "owner"), account(sessions, "other")
    with transaction(sessions) as session:
        key = api_keys.create_key(session, other.id, "app", "production", "me", ring, now=NOW)
    good = good_writes(sessions, owner)
    key_id = key.record.id
    garbled = UsageWrite(FinalRow(entry(other.id, "long", key_id)), FORWARDED_GARBAGE, True)
    later = UsageWrite(
        FinalRow(entry(other.id, "later", key_id, NOW + timedelta(seconds=1))), "192.0.2.9", True
    )

    outcomes = commit_batch(sessions, journal, [*good[:60], garbled, *good[60:], later])

    assert outcomes == [None] * (GOOD_ROWS + 2)  # every usage row itself was fine
    assert kept_rows(sessions, owner.id) == GOOD_ROWS
    assert kept_rows(sessions, other.id) == 2
    assert used_milli(sessions, owner.id) == RESERVED_ROWS * 1000
    with sessions() as session:
        stored = session.get(ApiKeyRow, key_id)
    assert stored is not None and stored.last_used_at == NOW + timedelta(seconds=1)
    if sessions.kw["bind"].dialect.name == POSTGRES:
        assert stored.last_used_ip == "192.0.2.9"


def test_a_bad_spooled_row_does_not_hold_back_the_others_replay(
    sessions: SessionFactory, journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    owner = account(sessions, "owner")
    good = [write.row for write in good_writes(sessions, owner)]
    journal.spool([*good[:10], FinalRow(entry(NO_SUCH_ACCOUNT, "bad-spooled")), *good[10:]])

    with caplog.at_level(logging.ERROR, logger="bgone.infra"):
        writer = UsageWriter(sessions, journal)  # replays the spool as it starts
        writer.close()

    assert kept_rows(sessions, owner.id) == GOOD_ROWS
    assert used_milli(sessions, owner.id) == RESERVED_ROWS * 1000
    assert "bad-spooled" in caplog.text
