"""The Authenticator: parse once, cache, read-only lookup, write path, invalid-key count."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import ApiKeyRow
from bgone.domain import accounts, api_keys, audit, key_rotation
from bgone.domain.accounts import AccountStatus
from bgone.domain.audit import AuditAction
from bgone.domain.authentication import KeyContext, require_api_access
from bgone.domain.key_records import IssuedKey
from bgone.domain.plan_limits import LimitChanges
from bgone.errors import (
    AccountSuspended,
    ExpiredApiKey,
    InvalidApiKey,
    MissingApiKey,
    PlanWithoutApiAccess,
    RevokedApiKey,
    TooManyInvalidKeys,
)
from bgone.infra.ratelimit import LimitsRateLimiter
from bgone.infra.refusal_pacing import PacingOptions, RefusalPacer
from bgone.security.hashing import SecretRing
from bgone.security.keys import Environment, generate_key
from bgone.services.authentication import Authenticator
from tests.unit.domain.support import NOW, MakeAccount
from tests.unit.services.support import RecordingKeyCache

INVALID_KEYS_PER_MINUTE = 3


def authenticate(
    sessions: SessionFactory,
    secret: str,
    ring: SecretRing,
    ip: str | None = None,
    now: datetime = NOW,
) -> KeyContext:
    """The database path of a fresh authenticator (its cache is empty)."""
    authenticator = Authenticator(
        sessions,
        sessions,
        ring,
        RecordingKeyCache(),
        LimitsRateLimiter("memory://"),
        INVALID_KEYS_PER_MINUTE,
    )
    return authenticator.from_database(authenticator.present(secret), ip, now)


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


def test_a_key_found_revoked_is_refused_from_memory_afterwards(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    """A client sending a revoked key hundreds of times a second costs one lookup."""
    issued = issue(sessions, make_account, ring)
    with transaction(sessions) as session:
        api_keys.revoke(session, issued.record.account_id, issued.record.id, "me", now=NOW)
    authenticator = Authenticator(
        sessions, sessions, ring, RecordingKeyCache(), LimitsRateLimiter("memory://"), 30
    )
    with pytest.raises(RevokedApiKey):
        asyncio.run(authenticator.authenticate(issued.secret, None))
    authenticator.read_sessions = authenticator.sessions = ExplodingFactory()  # type: ignore[assignment]
    for _ in range(3):
        with pytest.raises(RevokedApiKey):
            asyncio.run(authenticator.authenticate(issued.secret, None))


def test_a_revoked_key_sent_again_and_again_is_paced_like_a_refused_account(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    """Past the pacer's free refusals a second, a revoked key's 401s are held back: a
    client hammering with it waits instead of taking the other customers' CPU."""
    issued = issue(sessions, make_account, ring)
    with transaction(sessions) as session:
        api_keys.revoke(session, issued.record.account_id, issued.record.id, "me", now=NOW)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    pacer = RefusalPacer(PacingOptions(free_per_second=3, delay_seconds=1.0), lambda: 0.0, sleep)
    authenticator = Authenticator(
        sessions, sessions, ring, RecordingKeyCache(), LimitsRateLimiter("memory://"), 30, pacer
    )
    for _ in range(6):
        with pytest.raises(RevokedApiKey):
            asyncio.run(authenticator.authenticate(issued.secret, None))
    # The first refusal came from the database, the next three were free, then held.
    assert slept == [1.0, 1.0]


def test_rotated_key_works_during_grace_then_expires_with_an_audit_event(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        old = api_keys.create_key(session, account.id, "app", "production", "me", ring, now=NOW)
        new = key_rotation.rotate(
            session, account.id, old.record.id, "me", ring, grace=timedelta(hours=24), now=NOW
        ).issued

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
        key_rotation.rotate(
            session, account.id, old.record.id, "me", ring, grace=timedelta(0), now=NOW
        )

    with pytest.raises(ExpiredApiKey):
        authenticate(sessions, old.secret, ring, now=NOW)


def test_an_expired_key_points_to_its_replacement_only_when_it_has_one(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        rotated = api_keys.create_key(session, account.id, "a", "production", "me", ring, now=NOW)
        key_rotation.rotate(
            session, account.id, rotated.record.id, "me", ring, timedelta(0), now=NOW
        )
        lapsed = api_keys.create_key(
            session, account.id, "b", "production", "me", ring, now=NOW,
            expires_at=NOW + timedelta(hours=1),
        )  # fmt: skip

    with pytest.raises(ExpiredApiKey, match="use the key that replaced it"):
        authenticate(sessions, rotated.secret, ring, now=NOW)
    with pytest.raises(ExpiredApiKey) as refused:
        authenticate(sessions, lapsed.secret, ring, now=NOW + timedelta(hours=2))
    assert "replaced" not in refused.value.detail
    assert "create a new key" in refused.value.detail


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
        authenticate(sessions, issued.secret, ring, now=NOW)

    with transaction(sessions) as session:
        accounts.set_status(session, account_id, AccountStatus.ACTIVE)
        accounts.set_plan(session, account_id, "starter")
    with pytest.raises(PlanWithoutApiAccess):
        authenticate(sessions, issued.secret, ring, now=NOW)


# -- the whole path: cache, database, invalid-key counting ----------------------------------


class CountingFactory:
    """A session factory that counts the transactions asked of it."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self.opened = 0

    def __call__(self) -> object:
        self.opened += 1
        return self.sessions()


def counted_authenticator(
    sessions: SessionFactory, ring: SecretRing
) -> tuple[Authenticator, CountingFactory, CountingFactory, RecordingKeyCache]:
    writes, reads, cache = CountingFactory(sessions), CountingFactory(sessions), RecordingKeyCache()
    authenticator = Authenticator(
        writes,  # type: ignore[arg-type]
        reads,  # type: ignore[arg-type]
        ring,
        cache,
        LimitsRateLimiter("memory://"),
        INVALID_KEYS_PER_MINUTE,
    )
    return authenticator, writes, reads, cache


def test_a_usable_key_is_read_once_then_answered_from_the_cache(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    issued = issue(sessions, make_account, ring)
    authenticator, writes, reads, cache = counted_authenticator(sessions, ring)

    first = asyncio.run(authenticator.authenticate(issued.secret, "192.0.2.1"))
    second = asyncio.run(authenticator.authenticate(issued.secret, "192.0.2.1"))

    assert first == second and first.key_id == issued.record.id
    assert (reads.opened, writes.opened) == (1, 0)  # no write for a usable key
    assert cache.stored == [issued.record.id]


def test_only_a_key_that_needs_a_write_takes_the_write_path(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    issued = issue(sessions, make_account, SecretRing.from_secrets("first-secret"))
    new_ring = SecretRing.from_secrets("second-secret", ["first-secret"])
    authenticator, writes, reads, _ = counted_authenticator(sessions, new_ring)

    key = authenticator.present(issued.secret)
    authenticator.from_database(key, None, NOW)  # found under the old secret: re-hashed
    authenticator.from_database(key, None, NOW)

    assert (reads.opened, writes.opened) == (2, 1)


def test_a_suspended_account_is_cached_and_refused_from_the_cache(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    issued = issue(sessions, make_account, ring)
    with transaction(sessions) as session:
        accounts.set_status(session, issued.record.account_id, AccountStatus.SUSPENDED)
    authenticator, _, reads, cache = counted_authenticator(sessions, ring)

    for _ in range(2):
        with pytest.raises(AccountSuspended):
            asyncio.run(authenticator.authenticate(issued.secret, None))
    assert reads.opened == 1 and cache.stored == [issued.record.id]


def test_an_expired_cached_context_goes_back_to_the_database(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        old = api_keys.create_key(session, account.id, "app", "production", "me", ring, now=NOW)
        key_rotation.rotate(
            session, account.id, old.record.id, "me", ring, timedelta(hours=1), now=NOW
        )
    authenticator, _, _, _ = counted_authenticator(sessions, ring)
    key = authenticator.present(old.secret)

    authenticator.from_database(key, None, NOW)
    assert authenticator.from_cache(key, NOW) is not None
    assert authenticator.from_cache(key, NOW + timedelta(hours=1)) is None


def test_invalid_keys_are_counted_per_address_until_throttled(
    sessions: SessionFactory, ring: SecretRing
) -> None:
    authenticator, _, _, _ = counted_authenticator(sessions, ring)
    unknown = generate_key(Environment.PRODUCTION)

    for _ in range(INVALID_KEYS_PER_MINUTE):
        with pytest.raises(InvalidApiKey):
            asyncio.run(authenticator.authenticate(unknown, "192.0.2.66"))
    with pytest.raises(TooManyInvalidKeys):
        asyncio.run(authenticator.authenticate("bgone_live_malformed", "192.0.2.66"))
    # Another address is not held back.
    with pytest.raises(InvalidApiKey):
        asyncio.run(authenticator.authenticate(unknown, "192.0.2.67"))


def test_malformed_keys_never_reach_the_database(ring: SecretRing) -> None:
    authenticator = Authenticator(
        ExplodingFactory(),  # type: ignore[arg-type]
        ExplodingFactory(),  # type: ignore[arg-type]
        ring,
        RecordingKeyCache(),
        LimitsRateLimiter("memory://"),
        INVALID_KEYS_PER_MINUTE,
    )
    with pytest.raises(InvalidApiKey, match="malformed \\(wrong length\\)"):
        asyncio.run(authenticator.authenticate("bgone_live_tooShort", None))
