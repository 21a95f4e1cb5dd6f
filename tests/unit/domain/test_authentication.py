from __future__ import annotations

from datetime import timedelta

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import ApiKeyRow
from bgone.domain import accounts, api_keys, audit
from bgone.domain.accounts import AccountStatus
from bgone.domain.audit import AuditAction
from bgone.domain.authentication import authenticate, require_api_access, touch_key_usage
from bgone.domain.key_records import IssuedKey
from bgone.domain.plan_limits import LimitChanges
from bgone.errors import (
    AccountSuspended,
    ExpiredApiKey,
    InvalidApiKey,
    MissingApiKey,
    PlanWithoutApiAccess,
    RevokedApiKey,
)
from bgone.security.hashing import SecretRing
from bgone.security.keys import Environment, generate_key
from tests.unit.domain.support import NOW, MakeAccount


class ExplodingFactory:
    """A session factory that fails the test if anything asks it for a session."""

    def __call__(self) -> None:
        raise AssertionError("the database was queried")


def issue(
    sessions: SessionFactory,
    make_account: MakeAccount,
    ring: SecretRing,
    environment: str = "production",
) -> IssuedKey:
    account = make_account()
    with transaction(sessions) as session:
        return api_keys.create_key(session, account.id, "app", environment, "me", ring, now=NOW)


def test_valid_key_gives_its_context(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account("enterprise")
    with transaction(sessions) as session:
        account = accounts.set_limits(session, account.id, LimitChanges(max_megapixels=12.0))
        issued = api_keys.create_key(session, account.id, "app", "staging", "me", ring, now=NOW)

    context = authenticate(sessions, issued.secret, ring, now=NOW)

    assert (context.key_id, context.account_id) == (issued.record.id, account.id)
    assert context.environment is Environment.STAGING
    assert context.account_status is AccountStatus.ACTIVE
    assert context.limits.max_megapixels == 12.0
    assert context.rate_per_minute == 60  # enterprise staging rate
    assert not context.spends_credits
    require_api_access(context)


@pytest.mark.parametrize("secret", [None, ""])
def test_missing_key(secret: str | None, ring: SecretRing) -> None:
    with pytest.raises(MissingApiKey):
        authenticate(ExplodingFactory(), secret, ring, now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["hello", "bgone_live_" + "a" * 38, "Bearer x"])
def test_malformed_key_is_refused_without_a_query(secret: str, ring: SecretRing) -> None:
    with pytest.raises(InvalidApiKey):
        authenticate(ExplodingFactory(), secret, ring, now=NOW)  # type: ignore[arg-type]


def test_well_formed_unknown_key_is_invalid(sessions: SessionFactory, ring: SecretRing) -> None:
    with pytest.raises(InvalidApiKey):
        authenticate(sessions, generate_key(Environment.PRODUCTION), ring, now=NOW)


def test_revoked_key_is_refused(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    issued = issue(sessions, make_account, ring)
    with transaction(sessions) as session:
        api_keys.revoke(session, issued.record.account_id, issued.record.id, "me", now=NOW)

    with pytest.raises(RevokedApiKey):
        authenticate(sessions, issued.secret, ring, now=NOW)


def test_rotated_key_works_during_grace_then_expires_with_an_audit_event(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        old = api_keys.create_key(session, account.id, "app", "production", "me", ring, now=NOW)
        new = api_keys.rotate(
            session, account.id, old.record.id, "me", ring, grace=timedelta(hours=24), now=NOW
        )

    later = NOW + timedelta(hours=23, minutes=59)
    in_grace = authenticate(sessions, old.secret, ring, now=later)
    assert in_grace.key_id == old.record.id
    assert in_grace.key_expires_at == NOW + timedelta(hours=24)
    assert not in_grace.is_expired_at(later)
    assert in_grace.is_expired_at(NOW + timedelta(hours=24))  # for callers that cache it
    assert authenticate(sessions, new.secret, ring, now=later).key_id == new.record.id

    expired_at = NOW + timedelta(hours=24)
    for attempt in range(3):  # a retrying client must not flood the audit trail
        retried_at = expired_at + timedelta(minutes=attempt)
        with pytest.raises(ExpiredApiKey):
            authenticate(sessions, old.secret, ring, ip="192.0.2.9", now=retried_at)
    with pytest.raises(ExpiredApiKey):
        authenticate(sessions, old.secret, ring, now=expired_at + timedelta(hours=2))
    assert authenticate(sessions, new.secret, ring, now=expired_at).key_id == new.record.id

    with sessions() as session:
        events = audit.list_for_account(session, account.id)
    expired_uses = [event for event in events if event.action is AuditAction.EXPIRED_KEY_USE]
    assert [(event.at, event.ip) for event in expired_uses] == [
        (expired_at + timedelta(hours=2), None),
        (expired_at, "192.0.2.9"),
    ]
    assert all(event.key_id == old.record.id for event in expired_uses)


def test_zero_grace_expires_the_old_key_at_once(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        old = api_keys.create_key(session, account.id, "app", "production", "me", ring, now=NOW)
        api_keys.rotate(session, account.id, old.record.id, "me", ring, grace=timedelta(0), now=NOW)

    with pytest.raises(ExpiredApiKey):
        authenticate(sessions, old.secret, ring, now=NOW)


def test_server_secret_rotation_keeps_old_keys_working_and_rehashes_them(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    old_ring = SecretRing.from_secrets("first-secret")
    issued = issue(sessions, make_account, old_ring)
    new_ring = SecretRing.from_secrets("second-secret", ["first-secret"])
    only_new_secret = SecretRing.from_secrets("second-secret")

    with pytest.raises(InvalidApiKey):  # not yet re-hashed: the new secret alone cannot match
        authenticate(sessions, issued.secret, only_new_secret, now=NOW)
    assert authenticate(sessions, issued.secret, new_ring, now=NOW).key_id == issued.record.id

    with sessions() as session:
        stored = session.get(ApiKeyRow, issued.record.id)
        assert stored is not None
        assert (stored.hash, stored.hash_version) == (new_ring.hash_key(issued.secret).digest, 2)
    # Re-hashed on use, so the first secret can now be retired.
    assert authenticate(sessions, issued.secret, only_new_secret, now=NOW).account_id == (
        issued.record.account_id
    )


def test_suspended_account_and_plan_without_api_are_forbidden(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    issued = issue(sessions, make_account, ring)
    account_id = issued.record.account_id
    with transaction(sessions) as session:
        accounts.set_status(session, account_id, AccountStatus.SUSPENDED)
    with pytest.raises(AccountSuspended):
        require_api_access(authenticate(sessions, issued.secret, ring, now=NOW))

    with transaction(sessions) as session:
        accounts.set_status(session, account_id, AccountStatus.ACTIVE)
        accounts.set_plan(session, account_id, "starter")
    context = authenticate(sessions, issued.secret, ring, now=NOW)
    with pytest.raises(PlanWithoutApiAccess):
        require_api_access(context)
    assert context.spends_credits


def test_touch_key_usage_never_moves_backwards(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    issued = issue(sessions, make_account, ring)
    later = NOW + timedelta(minutes=10)
    with transaction(sessions) as session:
        touch_key_usage(session, issued.record.id, "2001:db8::1", later)
        touch_key_usage(session, issued.record.id, "192.0.2.1", NOW)

    with sessions() as session:
        record = api_keys.get_key(session, issued.record.account_id, issued.record.id)
    assert (record.last_used_at, record.last_used_ip) == (later, "2001:db8::1")
