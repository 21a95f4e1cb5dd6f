"""Revision 0005 widens the actor columns of a database in use, keeping every row: on SQLite
it rebuilds api_keys, whose rows refer to each other (replaced_by), with foreign keys on."""

from __future__ import annotations

from sqlalchemy import text

from bgone.db.engine import make_engine
from bgone.db.migrate import upgrade
from tests.unit.db.old_rows import old_account, old_event, old_key
from tests.unit.domain.support import NOW


def test_upgrade_to_0005_keeps_rotated_keys_and_their_audit_events(
    empty_database_url: str,
) -> None:
    upgrade(empty_database_url, "0004")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            account_id = old_account(connection, "owner@example.com", NOW)
            # The successor first: replaced_by refers to it.
            old_key(connection, "key_second", account_id, "key:x", NOW)
            old_key(
                connection,
                "key_first",
                account_id,
                "dashboard:owner@example.com",
                NOW,
                replaced_by="key_second",
            )
            old_event(connection, account_id, "key_first", NOW)
            old_event(connection, account_id, "key_second", NOW)
        engine.dispose()

        upgrade(empty_database_url, "0005")

        with engine.connect() as connection:
            kept = connection.execute(
                text("SELECT replaced_by, created_by FROM api_keys WHERE id = 'key_first'")
            ).one()
            events = connection.scalar(text("SELECT count(*) FROM audit_events"))
        assert tuple(kept) == ("key_second", "dashboard:owner@example.com")
        assert events == 2
    finally:
        engine.dispose()
