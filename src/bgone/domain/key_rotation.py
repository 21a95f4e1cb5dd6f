"""Rotating a key: a new secret with the same name and environment, the old one working for
a grace period, so deployments switch over without downtime.

Three limits keep rotation from being a way around the others. The old key's end is the
earlier of its own expiry and the grace period's end: rotating never lengthens a key's
life. The replacement keeps the original's lifetime policy: a key made to live 90 days is
replaced by one that lives 90 days from the rotation, and a key that never expires by one
that never does. And since rotation is allowed at the key limit (the old key is on its way
out), rotating a key whose own predecessor is still in its grace period ends that grace at
once: each key has at most one predecessor still working, so an account has at most twice
its `max_keys` usable keys, never an unbounded chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bgone.db.tables import ApiKeyRow
from bgone.domain import audit
from bgone.domain.accounts import lock_account
from bgone.domain.api_keys import insert_key, owned_row, require_may_issue
from bgone.domain.clock import now_or_default
from bgone.domain.durations import check_grace
from bgone.domain.key_records import IssuedKey, KeyRecord, KeyState, record_from_row
from bgone.domain.roles import KeyScope
from bgone.errors import KeyNotActive
from bgone.security.hashing import SecretRing
from bgone.security.keys import Environment

DEFAULT_ROTATION_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class Rotated:
    issued: IssuedKey
    replaced: KeyRecord  # the old key, as it is now: in its grace period (or already ended)
    # The old key's own predecessor, whose grace this rotation ended; its cached answers
    # still carry the later end.
    ended_predecessor: str | None = None


def rotate(
    session: Session,
    account_id: int,
    key_id: str,
    actor: str,
    ring: SecretRing,
    grace: timedelta = DEFAULT_ROTATION_GRACE,
    ip: str | None = None,
    now: datetime | None = None,
) -> Rotated:
    """Replace an active key; the old one works until the earlier of its expiry and `grace`."""
    moment = now_or_default(now)
    check_grace(grace)
    account = lock_account(session, account_id)
    require_may_issue(account)
    old = owned_row(session, account.id, key_id, lock=True)
    state = record_from_row(old).state_at(moment)
    if state is not KeyState.ACTIVE:
        raise KeyNotActive(f"key {key_id} is {state.value} and cannot be rotated")
    # An active key was never rotated, so its expiry is still the one it was created with.
    lifetime = old.expires_at - old.created_at if old.expires_at is not None else None
    issued = insert_key(
        session,
        account.id,
        old.name,
        Environment(old.environment),
        actor,
        ring,
        moment,
        moment + lifetime if lifetime is not None else None,
        # The replacement is the same key to everyone: same scope, same creator.
        scope=KeyScope(old.scope),
        created_by_user_id=old.created_by_user_id,
    )
    accepted_until = moment + grace
    if old.expires_at is not None:
        accepted_until = min(accepted_until, old.expires_at)
    old.expires_at = accepted_until
    old.replaced_by = issued.record.id
    ended = _end_predecessor_grace(session, old.id, moment)
    session.flush()
    detail = f"replaced by {issued.record.id}; accepted until {accepted_until.isoformat()}"
    if ended is not None:
        detail += f"; the grace of {ended} ended"
    audit.record(
        session,
        account.id,
        audit.AuditAction.KEY_ROTATED,
        actor=actor,
        ip=ip,
        key_id=old.id,
        detail=detail,
        at=moment,
    )
    return Rotated(issued, record_from_row(old), ended)


def _end_predecessor_grace(session: Session, key_id: str, moment: datetime) -> str | None:
    """End, now, the grace of the key that `key_id` replaced, if it is still working."""
    statement = select(ApiKeyRow).where(
        ApiKeyRow.replaced_by == key_id,
        ApiKeyRow.revoked_at.is_(None),
        ApiKeyRow.expires_at > moment,
    )
    predecessor = session.scalars(statement.with_for_update()).one_or_none()
    if predecessor is None:
        return None
    predecessor.expires_at = moment
    return predecessor.id
