"""Revision 0007 turns every account into a team of one owner, with no change an API client
could see: its keys keep managing keys, and its owner logs in with the same password."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, text

from bgone.db.engine import make_engine, make_session_factory, transaction
from bgone.db.migrate import alembic_config, upgrade
from bgone.db.tables import AccountRow, ApiKeyRow
from bgone.domain import accounts, members, users
from bgone.domain.roles import KeyScope, Role
from bgone.security.passwords import hash_password, verify_password
from tests.unit.db.old_rows import old_account, old_key
from tests.unit.domain.support import NOW


def test_upgrade_to_0007_makes_each_account_a_team_of_one_owner(
    empty_database_url: str,
) -> None:
    upgrade(empty_database_url, "0005")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            first = old_account(connection, "one@example.com", NOW, hash_password("first pass"))
            second = old_account(connection, "two@example.com", NOW)
            old_key(connection, "key_one", first, "dashboard:one@example.com", NOW)
            connection.execute(
                text(
                    "INSERT INTO web_sessions (token_hash, account_id, csrf_token, created_at, "
                    "expires_at) VALUES ('t', :a, 'c', :at, :at)"
                ),
                {"a": first, "at": NOW},
            )
        engine.dispose()

        upgrade(empty_database_url)

        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            one = users.get_by_email(session, "one@example.com")
            assert one is not None and one.password_hash is not None
            assert verify_password(one.password_hash, "first pass")
            assert [(m.email, m.role) for m in members.list_members(session, first)] == [
                ("one@example.com", Role.OWNER)
            ]
            assert [m.role for m in members.list_members(session, second)] == [Role.OWNER]
            assert session.get(AccountRow, first).password_hash is None  # type: ignore[union-attr]
            key = session.get(ApiKeyRow, "key_one")
            assert key is not None and key.scope == KeyScope.MANAGE.value
            assert key.created_by_user_id == one.id
            assert members.account_named(session, "one@example.com") == first
            # New people get ids past the migrated ones (PostgreSQL's sequence was moved).
            created = accounts.create_account(session, "three@example.com", "business")
            three = users.get_by_email(session, "three@example.com")
            assert three is not None and three.id not in (first, second)
            assert members.role_of(session, created.id, three.id) is Role.OWNER
            new_key_scope = session.scalar(text("SELECT scope FROM api_keys WHERE id = 'key_one'"))
            assert new_key_scope == "manage"
            # Old sessions are gone: everyone signs in to the dashboard once more.
            assert session.scalar(text("SELECT count(*) FROM web_sessions")) == 0
            assert session.scalars(select(ApiKeyRow)).all()
    finally:
        engine.dispose()


def test_downgrade_from_0007_gives_each_account_its_owners_password_back(
    empty_database_url: str,
) -> None:
    upgrade(empty_database_url, "0005")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            account = old_account(connection, "one@example.com", NOW, hash_password("first pass"))
            old_key(connection, "key_new", account, "key:x", NOW)
            old_key(connection, "key_old", account, "key:x", NOW, replaced_by="key_new")
        upgrade(empty_database_url)
        with engine.connect() as connection:
            config = alembic_config(empty_database_url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
            connection.commit()
        with engine.connect() as connection:
            stored = connection.scalar(text("SELECT password_hash FROM accounts"))
            successor = connection.scalar(
                text("SELECT replaced_by FROM api_keys WHERE id = 'key_old'")
            )
        assert stored is not None and verify_password(stored, "first pass")
        assert successor == "key_new"
    finally:
        engine.dispose()
