from __future__ import annotations

from datetime import timedelta

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import ApiKeyRow
from bgone.domain import accounts, api_keys, audit, key_rotation
from bgone.domain.audit import AuditAction
from bgone.domain.key_records import KeyState
from bgone.domain.plan_limits import LimitChanges
from bgone.errors import (
    AccountSuspended,
    InvalidEnvironment,
    InvalidGracePeriod,
    InvalidKeyName,
    KeyLimitReached,
    KeyNotActive,
    NotFound,
    PlanWithoutApiAccess,
)
from bgone.security.hashing import SecretRing
from bgone.security.keys import Environment, display_form, parse_key
from tests.unit.domain.support import NOW, MakeAccount


def test_created_key_is_shown_once_and_stored_as_hmac(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        issued = api_keys.create_key(
            session,
            account.id,
            "  CI server ",
            "staging",
            "owner@example.com",
            ring,
            ip="203.0.113.7",
            now=NOW,
        )

    record = issued.record
    assert parse_key(issued.secret).environment is Environment.STAGING
    assert record.name == "CI server"
    assert record.display == display_form(issued.secret)
    assert record.id.startswith("key_") and len(record.id) == 20
    assert record.state_at(NOW) is KeyState.ACTIVE
    assert issued.secret not in repr(issued)
    with sessions() as session:
        stored = session.get(ApiKeyRow, record.id)
        assert stored is not None
        assert stored.hash == ring.hash_key(issued.secret).digest
        assert issued.secret not in (stored.hash, stored.display)
        events = audit.list_for_account(session, account.id)
    assert [(event.action, event.key_id, event.ip) for event in events] == [
        (AuditAction.KEY_CREATED, record.id, "203.0.113.7")
    ]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_key_name_is_required_and_bounded(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing, name: str
) -> None:
    account = make_account()
    with pytest.raises(InvalidKeyName), transaction(sessions) as session:
        api_keys.create_key(session, account.id, name, "production", "me", ring)


def test_unknown_environment_is_refused(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with pytest.raises(InvalidEnvironment), transaction(sessions) as session:
        api_keys.create_key(session, account.id, "app", "live", "me", ring)


def test_key_limit_counts_only_usable_keys(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        account = accounts.set_limits(session, account.id, LimitChanges(max_keys=2))
        first = api_keys.create_key(session, account.id, "a", "production", "me", ring, now=NOW)
        api_keys.create_key(session, account.id, "b", "production", "me", ring, now=NOW)
        with pytest.raises(KeyLimitReached):
            api_keys.create_key(session, account.id, "c", "production", "me", ring, now=NOW)
        api_keys.revoke(session, account.id, first.record.id, "me", now=NOW)
        api_keys.create_key(session, account.id, "c", "production", "me", ring, now=NOW)


def test_plan_without_api_access_or_suspended_account_cannot_create_keys(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    starter = make_account("starter")
    with pytest.raises(PlanWithoutApiAccess), transaction(sessions) as session:
        api_keys.create_key(session, starter.id, "app", "production", "me", ring)

    business = make_account("business")
    with transaction(sessions) as session:
        suspended = accounts.set_status(session, business.id, "suspended")
    with pytest.raises(AccountSuspended), transaction(sessions) as session:
        api_keys.create_key(session, suspended.id, "app", "production", "me", ring)


def test_rotation_keeps_name_and_environment_and_sets_a_grace_period(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        old = api_keys.create_key(session, account.id, "web", "production", "me", ring, now=NOW)
        new = key_rotation.rotate(
            session,
            account.id,
            old.record.id,
            "admin@example.com",
            ring,
            grace=timedelta(hours=2),
            ip="198.51.100.1",
            now=NOW,
        ).issued
        old_after = api_keys.get_key(session, account.id, old.record.id)
        events = audit.list_for_account(session, account.id)

    assert new.secret != old.secret
    assert (new.record.name, new.record.environment) == ("web", Environment.PRODUCTION)
    assert old_after.expires_at == NOW + timedelta(hours=2)
    assert old_after.replaced_by == new.record.id
    assert old_after.state_at(NOW + timedelta(hours=1)) is KeyState.ROTATING
    assert old_after.state_at(NOW + timedelta(hours=2)) is KeyState.EXPIRED
    assert events[0].action is AuditAction.KEY_ROTATED
    assert (events[0].key_id, events[0].actor, events[0].ip) == (
        old.record.id,
        "admin@example.com",
        "198.51.100.1",
    )


def test_rotating_twice_or_after_revocation_is_refused(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        key = api_keys.create_key(session, account.id, "web", "production", "me", ring, now=NOW)
        key_rotation.rotate(session, account.id, key.record.id, "me", ring, now=NOW)
        with pytest.raises(KeyNotActive):
            key_rotation.rotate(session, account.id, key.record.id, "me", ring, now=NOW)
        other = api_keys.create_key(session, account.id, "cli", "staging", "me", ring, now=NOW)
        api_keys.revoke(session, account.id, other.record.id, "me", now=NOW)
        with pytest.raises(KeyNotActive):
            key_rotation.rotate(session, account.id, other.record.id, "me", ring, now=NOW)


@pytest.mark.parametrize("grace", [timedelta(seconds=-1), timedelta(days=30, seconds=1)])
def test_grace_period_is_bounded(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing, grace: timedelta
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        key = api_keys.create_key(session, account.id, "web", "production", "me", ring, now=NOW)
        with pytest.raises(InvalidGracePeriod):
            key_rotation.rotate(
                session, account.id, key.record.id, "me", ring, grace=grace, now=NOW
            )


def test_revoke_is_immediate_and_idempotent(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        key = api_keys.create_key(session, account.id, "web", "production", "me", ring, now=NOW)
        first = api_keys.revoke(session, account.id, key.record.id, "me", now=NOW)
        second = api_keys.revoke(
            session, account.id, key.record.id, "me", now=NOW + timedelta(minutes=5)
        )
        events = audit.list_for_account(session, account.id)

    assert first.revoked_at == second.revoked_at == NOW
    assert first.state_at(NOW) is KeyState.REVOKED
    assert [event.action for event in events].count(AuditAction.KEY_REVOKED) == 1


def test_another_accounts_key_is_not_found_anywhere(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    owner, stranger = make_account(), make_account()
    with transaction(sessions) as session:
        key = api_keys.create_key(session, owner.id, "web", "production", "me", ring, now=NOW)

    with transaction(sessions) as session:
        assert api_keys.list_keys(session, stranger.id) == []
        with pytest.raises(NotFound):
            api_keys.get_key(session, stranger.id, key.record.id)
        with pytest.raises(NotFound):
            key_rotation.rotate(session, stranger.id, key.record.id, "me", ring, now=NOW)
        with pytest.raises(NotFound):
            api_keys.revoke(session, stranger.id, key.record.id, "me", now=NOW)
        with pytest.raises(NotFound):
            api_keys.revoke(session, owner.id, "key_doesnotexist0000", "me", now=NOW)

    with sessions() as session:
        listed = api_keys.list_keys(session, owner.id)
    assert [record.id for record in listed] == [key.record.id]
    assert listed[0].revoked_at is None
    assert listed[0].replaced_by is None
