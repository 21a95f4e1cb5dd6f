"""KeyService: each change in one transaction with its audit event, and the cache
invalidated exactly once for what the change made wrong."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import accounts, audit
from bgone.domain.accounts import Account, AccountStatus
from bgone.domain.audit import AuditAction
from bgone.domain.key_records import KeyState
from bgone.domain.plan_limits import LimitChanges
from bgone.errors import InvalidOrigin, KeyNotActive, NotFound, UnknownPlan
from bgone.security.hashing import SecretRing
from bgone.services.keys import KeyActor, KeyService
from tests.unit.domain.support import MakeAccount
from tests.unit.services.support import RecordingKeyCache


@pytest.fixture
def service(sessions: SessionFactory, ring: SecretRing, key_cache: RecordingKeyCache) -> KeyService:
    return KeyService(sessions, sessions, ring, key_cache)


def owner(make_account: MakeAccount) -> KeyActor:
    account = make_account()
    return KeyActor(account.id, f"dashboard:{account.email}", "192.0.2.7")


def events(sessions: SessionFactory, account_id: int) -> list[audit.AuditEvent]:
    with transaction(sessions) as session:
        return audit.list_for_account(session, account_id)


def test_create_audits_with_the_actor_and_invalidates_nothing(
    service: KeyService,
    sessions: SessionFactory,
    key_cache: RecordingKeyCache,
    make_account: MakeAccount,
) -> None:
    actor = owner(make_account)
    issued = service.create(actor, "shop", "staging", lifetime=timedelta(days=90))

    assert issued.record.created_by == actor.actor
    assert issued.record.expires_at is not None
    [event] = events(sessions, actor.account_id)
    assert (event.action, event.actor, event.ip, event.key_id) == (
        AuditAction.KEY_CREATED,
        actor.actor,
        "192.0.2.7",
        issued.record.id,
    )
    # Nothing can be cached about a key that did not exist.
    assert key_cache.invalidated == []


# The longest valid email: a 64-character local part and a 255-character domain.
LONGEST_EMAIL = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 63, "e" * 59]) + ".com"


def test_the_dashboard_manages_keys_for_the_longest_email(
    service: KeyService, sessions: SessionFactory, make_account: MakeAccount
) -> None:
    assert len(LONGEST_EMAIL) == 320
    account = make_account(email=LONGEST_EMAIL)
    actor = KeyActor(account.id, f"dashboard:{account.email}", "192.0.2.7")

    issued = service.create(actor, "shop", "production")
    rotated = service.rotate(actor, issued.record.id)
    service.revoke(actor, rotated.issued.record.id)

    assert issued.record.created_by == rotated.issued.record.created_by == actor.actor
    assert {event.actor for event in events(sessions, account.id)} == {actor.actor}


def test_rotate_invalidates_the_old_key_once(
    service: KeyService, key_cache: RecordingKeyCache, make_account: MakeAccount
) -> None:
    actor = owner(make_account)
    old = service.create(actor, "shop", "production")

    rotation = service.rotate(actor, old.record.id, timedelta(hours=1))

    assert rotation.replaced.id == old.record.id
    assert rotation.replaced.replaced_by == rotation.issued.record.id
    assert rotation.replaced.expires_at is not None
    assert key_cache.invalidated == [old.record.id]


def test_rotating_a_replacement_invalidates_the_predecessor_whose_grace_it_ended(
    service: KeyService, key_cache: RecordingKeyCache, make_account: MakeAccount
) -> None:
    actor = owner(make_account)
    first = service.create(actor, "shop", "production")
    second = service.rotate(actor, first.record.id, timedelta(days=7)).issued
    key_cache.invalidated.clear()

    third = service.rotate(actor, second.record.id, timedelta(days=7))

    assert third.ended_predecessor == first.record.id
    # The first key's cached answers still say it works for a week: they must go too.
    assert key_cache.invalidated == [second.record.id, first.record.id]
    [ended] = [
        record for record in service.list_keys(actor.account_id) if record.id == first.record.id
    ]
    assert ended.expires_at is not None and ended.expires_at <= third.issued.record.created_at


def test_revoke_invalidates_once_and_audits_once(
    service: KeyService,
    sessions: SessionFactory,
    key_cache: RecordingKeyCache,
    make_account: MakeAccount,
) -> None:
    actor = owner(make_account)
    issued = service.create(actor, "shop", "production")

    record = service.revoke(actor, issued.record.id)

    assert record.revoked_at is not None
    assert key_cache.invalidated == [issued.record.id]
    revoked = [e for e in events(sessions, actor.account_id) if e.action is AuditAction.KEY_REVOKED]
    assert [(event.actor, event.ip) for event in revoked] == [(actor.actor, "192.0.2.7")]


def test_a_failed_change_commits_nothing_and_invalidates_nothing(
    service: KeyService, key_cache: RecordingKeyCache, make_account: MakeAccount
) -> None:
    actor = owner(make_account)
    issued = service.create(actor, "shop", "production")
    service.revoke(actor, issued.record.id)
    key_cache.invalidated.clear()

    with pytest.raises(KeyNotActive):
        service.rotate(actor, issued.record.id)
    with pytest.raises(NotFound):
        service.revoke(actor, "key_doesnotexist0000")
    assert key_cache.invalidated == []
    assert [record.id for record in service.list_keys(actor.account_id)] == [issued.record.id]


def test_another_accounts_key_is_not_found(
    service: KeyService, key_cache: RecordingKeyCache, make_account: MakeAccount
) -> None:
    mine, theirs = owner(make_account), owner(make_account)
    their_key = service.create(theirs, "theirs", "production")

    with pytest.raises(NotFound):
        service.revoke(mine, their_key.record.id)
    assert key_cache.invalidated == []
    assert service.list_keys(theirs.account_id)[0].state_at(their_key.record.created_at) is (
        KeyState.ACTIVE
    )


def test_account_changes_invalidate_each_of_its_keys_exactly_once(
    service: KeyService,
    sessions: SessionFactory,
    key_cache: RecordingKeyCache,
    make_account: MakeAccount,
) -> None:
    actor = owner(make_account)
    bystander = owner(make_account)
    key_ids = {service.create(actor, name, "production").record.id for name in ("a", "b")}
    service.create(bystander, "other", "production")

    changes: list[Callable[[], Account]] = [
        lambda: service.set_allowed_origins(actor.account_id, ["https://Tools.Example.com/"]),
        lambda: service.change_plan(actor.account_id, "enterprise"),
        lambda: service.change_limits(actor.account_id, LimitChanges(max_keys=3)),
        lambda: service.change_status(actor.account_id, AccountStatus.SUSPENDED),
    ]
    for change in changes:
        key_cache.invalidated.clear()
        change()
        assert sorted(key_cache.invalidated) == sorted(key_ids)

    with transaction(sessions) as session:
        account = accounts.get_by_id(session, actor.account_id)
    assert account.allowed_origins == ("https://tools.example.com",)
    assert (account.plan.name, account.status) == ("enterprise", AccountStatus.SUSPENDED)
    assert accounts.effective_limits(account).max_keys == 3


def test_refused_account_changes_invalidate_nothing(
    service: KeyService, key_cache: RecordingKeyCache, make_account: MakeAccount
) -> None:
    actor = owner(make_account)
    service.create(actor, "a", "production")

    with pytest.raises(InvalidOrigin):
        service.set_allowed_origins(actor.account_id, ["not an origin"])
    with pytest.raises(UnknownPlan):
        service.change_plan(actor.account_id, "platinum")
    assert key_cache.invalidated == []


def test_operator_finds_the_owner_and_reads_the_audit_log(
    service: KeyService, make_account: MakeAccount
) -> None:
    actor = owner(make_account)
    issued = service.create(actor, "a", "production")

    assert service.owner_of(issued.record.id) == actor.account_id
    with pytest.raises(NotFound):
        service.owner_of("key_doesnotexist0000")
    operator = KeyActor(service.owner_of(issued.record.id), "operator (cli)")
    service.revoke(operator, issued.record.id)
    assert [event.actor for event in service.audit_log(actor.account_id)] == [
        "operator (cli)",
        actor.actor,
    ]
