"""Revision 0005 widens the actor columns of a database in use, keeping every row: on SQLite
it rebuilds api_keys, whose rows refer to each other (replaced_by), with foreign keys on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bgone.db.engine import make_engine, make_session_factory, transaction
from bgone.db.migrate import upgrade
from bgone.db.tables import ApiKeyRow, AuditEventRow
from bgone.domain import api_keys, key_rotation
from bgone.domain.accounts import create_account
from bgone.security.hashing import SecretRing
from tests.unit.domain.support import NOW


def test_upgrade_to_0005_keeps_rotated_keys_and_their_audit_events(
    empty_database_url: str,
) -> None:
    upgrade(empty_database_url, "0004")
    ring = SecretRing.from_secrets("server-secret-for-tests")
    engine = make_engine(empty_database_url)
    try:
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            account = create_account(session, "owner@example.com", plan="business", now=NOW)
            first = api_keys.create_key(
                session, account.id, "app", "production", "dashboard:owner@example.com", ring,
                now=NOW,
            )  # fmt: skip
            rotated = key_rotation.rotate(
                session, account.id, first.record.id, "key:x", ring, timedelta(hours=1), now=NOW
            )
        engine.dispose()

        upgrade(empty_database_url)

        with sessions() as session:
            kept = session.get(ApiKeyRow, first.record.id)
            events = session.scalar(select(func.count()).select_from(AuditEventRow))
        assert kept is not None and kept.replaced_by == rotated.issued.record.id
        assert kept.created_by == "dashboard:owner@example.com"
        assert events == 2
    finally:
        engine.dispose()
