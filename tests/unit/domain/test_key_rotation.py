"""Rotation's limits: it never lengthens a key's life, the replacement keeps the original's
lifetime, and a chain of rotations leaves at most one predecessor working per key."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import ApiKeyRow
from bgone.domain import accounts, api_keys, key_rotation
from bgone.domain.key_records import KeyState
from bgone.domain.plan_limits import LimitChanges
from bgone.security.hashing import SecretRing
from tests.unit.domain.support import NOW, MakeAccount


def usable_keys(sessions: SessionFactory, account_id: int, at: datetime) -> int:
    with sessions() as session:
        count = session.scalar(
            select(func.count()).where(
                ApiKeyRow.account_id == account_id,
                ApiKeyRow.revoked_at.is_(None),
                or_(ApiKeyRow.expires_at.is_(None), ApiKeyRow.expires_at > at),
            )
        )
    return count or 0


def test_a_short_lived_key_is_not_extended_by_a_long_grace(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        old = api_keys.create_key(
            session, account.id, "ci", "production", "me", ring, now=NOW,
            expires_at=NOW + timedelta(seconds=60),
        )  # fmt: skip
        rotated = key_rotation.rotate(
            session, account.id, old.record.id, "me", ring, timedelta(days=30), now=NOW
        )

    assert rotated.replaced.expires_at == NOW + timedelta(seconds=60)  # its own end, not 30 days
    assert rotated.replaced.state_at(NOW + timedelta(seconds=61)) is KeyState.EXPIRED
    # The replacement lives as long as the original was made to: 60 s, from the rotation.
    assert rotated.issued.record.expires_at == NOW + timedelta(seconds=60)


def test_the_replacement_keeps_the_originals_lifetime_and_the_grace_can_end_it_sooner(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    later = NOW + timedelta(days=80)
    with transaction(sessions) as session:
        expiring = api_keys.create_key(
            session, account.id, "a", "production", "me", ring, now=NOW,
            expires_at=NOW + timedelta(days=90),
        )  # fmt: skip
        forever = api_keys.create_key(session, account.id, "b", "production", "me", ring, now=NOW)
        first = key_rotation.rotate(
            session, account.id, expiring.record.id, "me", ring, timedelta(hours=24), now=later
        )
        second = key_rotation.rotate(
            session, account.id, first.issued.record.id, "me", ring, now=later + timedelta(days=1)
        )
        never = key_rotation.rotate(session, account.id, forever.record.id, "me", ring, now=later)

    assert first.replaced.expires_at == later + timedelta(hours=24)  # earlier than day 90
    assert first.issued.record.expires_at == later + timedelta(days=90)
    # A replacement's replacement keeps the same 90 days: lifetimes do not drift in chains.
    assert second.issued.record.expires_at == later + timedelta(days=1) + timedelta(days=90)
    assert never.issued.record.expires_at is None
    assert never.replaced.expires_at == later + key_rotation.DEFAULT_ROTATION_GRACE


def test_chains_of_rotations_never_exceed_twice_the_key_limit(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        accounts.set_limits(session, account.id, LimitChanges(max_keys=2))
        current = [
            api_keys.create_key(session, account.id, name, "production", "me", ring, now=NOW)
            for name in ("a", "b")
        ]
    moment = NOW
    for step in range(10):
        moment += timedelta(minutes=1)
        with transaction(sessions) as session:
            # Rotation never fails on the key limit: the old key is on its way out.
            rotated = key_rotation.rotate(
                session, account.id, current[step % 2].record.id, "me", ring,
                timedelta(days=30), now=moment,
            )  # fmt: skip
        current[step % 2] = rotated.issued
        assert usable_keys(sessions, account.id, moment) <= 2 * 2

    with sessions() as session:
        working = [
            record
            for record in api_keys.list_keys(session, account.id)
            if record.state_at(moment) in (KeyState.ACTIVE, KeyState.ROTATING)
        ]
    # Each of the two current keys, and at most one predecessor of each still in its grace.
    assert len(working) == 4
    assert sum(record.state_at(moment) is KeyState.ACTIVE for record in working) == 2


def test_rotating_a_replacement_ends_its_predecessors_grace_at_once(
    sessions: SessionFactory, make_account: MakeAccount, ring: SecretRing
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        first = api_keys.create_key(session, account.id, "a", "production", "me", ring, now=NOW)
        second = key_rotation.rotate(
            session, account.id, first.record.id, "me", ring, timedelta(days=7), now=NOW
        )
        third = key_rotation.rotate(
            session, account.id, second.issued.record.id, "me", ring, timedelta(days=7),
            now=NOW + timedelta(hours=1),
        )  # fmt: skip
        first_after = api_keys.get_key(session, account.id, first.record.id)

    assert second.ended_predecessor is None
    assert third.ended_predecessor == first.record.id
    assert first_after.expires_at == NOW + timedelta(hours=1)
    assert first_after.state_at(NOW + timedelta(hours=1)) is KeyState.EXPIRED
    assert third.replaced.state_at(NOW + timedelta(hours=1)) is KeyState.ROTATING
