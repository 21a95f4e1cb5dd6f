"""Revision 0011 backfills the usage rollup from the usage rows already there: final rows
only (pending ones are requests still running), by account, key, UTC day, endpoint, status."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bgone.db.engine import make_engine, make_session_factory, transaction
from bgone.db.migrate import upgrade
from bgone.db.tables import UsageRollupRow
from bgone.domain.accounts import create_account
from bgone.domain.usage import PENDING_STATUS, UsageEntry, record_usage_batch
from tests.unit.domain.support import NOW


def test_upgrade_to_0011_backfills_the_rollup(empty_database_url: str) -> None:
    upgrade(empty_database_url, "0009")
    engine = make_engine(empty_database_url)
    try:
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            account = create_account(session, "owner@example.com", plan="business", now=NOW)
            late = NOW.replace(hour=23, minute=59)
            record_usage_batch(
                session,
                [
                    UsageEntry("a", NOW, "POST /v2", 200, account.id, "key_a", None, 1000, 1.5),
                    UsageEntry("b", late, "POST /v2", 200, account.id, "key_a", None, 250, 0.5),
                    UsageEntry("c", NOW + timedelta(days=1), "POST /v2", 400, account.id),
                    UsageEntry("d", NOW, "POST /v2", PENDING_STATUS, account.id, "key_a"),
                    UsageEntry("e", NOW, "POST /v2", 401),  # no account: nobody's report
                ],
            )
        engine.dispose()

        upgrade(empty_database_url)

        with sessions() as session:
            found = [
                (row.day, row.key_id, row.status, row.requests, row.credits_milli, row.megapixels)
                for row in session.scalars(select(UsageRollupRow).order_by(UsageRollupRow.day))
            ]
        day = NOW.date()
        assert found == [
            (day, "key_a", 200, 2, 1250, 2.0),
            (day + timedelta(days=1), "", 400, 1, 0, 0.0),
        ]
        assert isinstance(found[0][0], date)
    finally:
        engine.dispose()
