"""Key management as every front end asks for it: the API, the dashboard and the CLI.

Each change runs in one transaction with its audit event, then drops the cached answers it
made wrong, here and on every other replica (through the cache's Redis channel). Doing the
invalidation here, once, is what guarantees that a revoked key stops working whichever
front end revoked it. The methods block: async callers run them in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import accounts, api_keys, audit, key_rotation, origins, payg, plans
from bgone.domain.accounts import Account, AccountStatus
from bgone.domain.clock import utc_now
from bgone.domain.durations import check_lifetime
from bgone.domain.key_records import IssuedKey, KeyRecord
from bgone.domain.key_rotation import Rotated
from bgone.domain.plan_limits import LimitChanges
from bgone.domain.plans import Plan, PlanChanges
from bgone.domain.roles import EVERYTHING, KeyScope, Permission, parse_scope, require
from bgone.errors import InsufficientRole
from bgone.infra.keycache import ALL as ALL_KEYS
from bgone.security.hashing import SecretRing
from bgone.security.keys import Environment
from bgone.services.webhook_events import EventPublisher


class KeyInvalidation(Protocol):
    """What the service needs of a key cache: bgone.infra.keycache.KeyCache has it, and an
    unstarted KeyCache (the CLI's) only publishes to the servers."""

    def invalidate(self, key_id: str) -> None: ...


@dataclass(frozen=True)
class KeyActor:
    """Who changes an account's keys, as the audit log records them."""

    account_id: int
    actor: str  # e.g. "key:key_…", "dashboard:owner@example.com", "operator (cli)"
    ip: str | None = None
    # What the caller's role or key scope grants (bgone.domain.roles); the operator: all.
    granted: frozenset[Permission] = EVERYTHING
    user_id: int | None = None  # the member behind a dashboard change


def _require_may_change(session: Session, by: KeyActor, key_id: str) -> None:
    """Rotating or revoking: any key for admins, owners and manage keys; a developer only
    the keys they created. Another account's key is NotFound, whoever asks."""
    record = api_keys.get_key(session, by.account_id, key_id)
    if Permission.MANAGE_ANY_KEY in by.granted:
        return
    require(by.granted, Permission.MANAGE_OWN_KEYS, "changing keys")
    if by.user_id is None or record.created_by_user_id != by.user_id:
        raise InsufficientRole("your role allows changing only the keys you created")


class KeyService:
    def __init__(
        self,
        sessions: SessionFactory,
        read_sessions: SessionFactory,
        secret_ring: SecretRing,
        key_cache: KeyInvalidation,
        events: EventPublisher | None = None,
    ) -> None:
        self.events = events  # key.revoked (enqueue only); None: no events (unit tests)
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.secret_ring = secret_ring
        self.key_cache = key_cache

    # -- reads -----------------------------------------------------------------------------
    def list_keys(self, account_id: int) -> list[KeyRecord]:
        with transaction(self.read_sessions) as session:
            return api_keys.list_keys(session, account_id)

    def audit_log(self, account_id: int) -> list[audit.AuditEvent]:
        with transaction(self.read_sessions) as session:
            return audit.list_for_account(session, account_id)

    def owner_of(self, key_id: str) -> int:
        """The account a key belongs to; for operator tools only (never over HTTP)."""
        with transaction(self.read_sessions) as session:
            return api_keys.owner_of(session, key_id)

    # -- one key ---------------------------------------------------------------------------
    def create(
        self,
        by: KeyActor,
        name: str,
        environment: Environment | str,
        lifetime: timedelta | None = None,
        scope: KeyScope | str = KeyScope.REMOVE,
    ) -> IssuedKey:
        """A new key, shown once. Nothing cached can be about it yet: no invalidation."""
        checked_scope = parse_scope(scope)
        require(by.granted, Permission.CREATE_KEY, "creating keys")
        if checked_scope is KeyScope.MANAGE:
            require(by.granted, Permission.CREATE_MANAGE_KEY, "creating manage keys")
        with transaction(self.sessions) as session:
            moment = utc_now()
            return api_keys.create_key(
                session,
                by.account_id,
                name,
                environment,
                by.actor,
                self.secret_ring,
                ip=by.ip,
                now=moment,
                # Checked before the addition: a date past the year 9999 would overflow.
                expires_at=moment + check_lifetime(lifetime) if lifetime is not None else None,
                scope=checked_scope,
                created_by_user_id=by.user_id,
            )

    def rotate(
        self, by: KeyActor, key_id: str, grace: timedelta = key_rotation.DEFAULT_ROTATION_GRACE
    ) -> Rotated:
        with transaction(self.sessions) as session:
            _require_may_change(session, by, key_id)
            rotated = key_rotation.rotate(
                session, by.account_id, key_id, by.actor, self.secret_ring, grace=grace, ip=by.ip
            )
        # Cached answers for the old key do not know its new expiry, nor those for its
        # predecessor that the grace it had has just ended.
        self.key_cache.invalidate(key_id)
        if rotated.ended_predecessor is not None:
            self.key_cache.invalidate(rotated.ended_predecessor)
        return rotated

    def revoke(self, by: KeyActor, key_id: str) -> KeyRecord:
        with transaction(self.sessions) as session:
            _require_may_change(session, by, key_id)
            record = api_keys.revoke(session, by.account_id, key_id, by.actor, ip=by.ip)
        self.key_cache.invalidate(key_id)
        if self.events is not None:
            self.events.key_revoked(record, by.actor)
        return record

    def revoke_created_by(self, by: KeyActor, user_id: int) -> list[KeyRecord]:
        """Revoke every usable key `user_id` created (when they leave the account)."""
        revoked = []
        for record in self.list_keys(by.account_id):
            if record.created_by_user_id == user_id and record.revoked_at is None:
                revoked.append(self.revoke(by, record.id))
        return revoked

    # -- the whole account: every cached answer for its keys carries the old state --------
    # Plan, limits and status are the operator's and have no audit action, as before; the
    # browser origins, which members change, are audited with who changed them.
    def set_allowed_origins(
        self, account_id: int, allowed: Iterable[str], by: KeyActor | None = None
    ) -> Account:
        checked = list(allowed)

        def change(session: Session) -> Account:
            account = origins.set_allowed_origins(session, account_id, checked)
            audit.record(
                session,
                account_id,
                audit.AuditAction.ORIGINS_CHANGED,
                actor=by.actor if by else "operator (cli)",
                ip=by.ip if by else None,
                detail=" ".join(account.allowed_origins) or "none",
            )
            return account

        return self._change_account(account_id, change)

    def change_plan(self, account_id: int, plan: str) -> Account:
        return self._change_account(
            account_id, lambda session: accounts.set_plan(session, account_id, plan)
        )

    def change_limits(self, account_id: int, changes: LimitChanges) -> Account:
        return self._change_account(
            account_id, lambda session: accounts.set_limits(session, account_id, changes)
        )

    def change_status(
        self,
        account_id: int,
        status: AccountStatus | str,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Account:
        """Suspend (with a reason shown to the customer) or reactivate; audited when an actor
        is named (the CLI's "operator:cli")."""

        def change(session: Session) -> Account:
            account = accounts.set_status(session, account_id, status, reason)
            if actor is not None:
                audit.record(
                    session,
                    account_id,
                    audit.AuditAction.ACCOUNT_STATUS_CHANGED,
                    actor,
                    detail=account.status.value
                    + (f": {account.status_reason}" if account.status_reason else ""),
                )
            return account

        return self._change_account(account_id, change)

    def change_plan_defaults(self, name: str, changes: PlanChanges) -> Plan:
        """Edit a plan (`bgone plans set`): every account on it without an override follows
        at once, on every replica (each key's cached answer carries the old limits)."""
        with transaction(self.sessions) as session:
            plan = plans.update_plan(session, name, changes)
        self.key_cache.invalidate(ALL_KEYS)
        return plan

    def grant_credits(self, account_id: int, milli: int, actor: str, reason: str = "") -> int:
        """Pay-as-you-go credits, audited; the new payg balance."""
        with transaction(self.sessions) as session:
            balance = payg.grant(session, account_id, milli, actor=actor, reason=reason)
            audit.record(
                session,
                account_id,
                audit.AuditAction.CREDITS_GRANTED,
                actor,
                detail=f"{milli / 1000:g} credits" + (f": {reason}" if reason else ""),
            )
        return balance

    def change_account(self, account_id: int, change: Callable[[Session], Account]) -> Account:
        """Any change to an account in one transaction, then its keys' cached answers dropped
        (the operator's console records its log line inside `change`)."""
        return self._change_account(account_id, change)

    def _change_account(self, account_id: int, change: Callable[[Session], Account]) -> Account:
        with transaction(self.sessions) as session:
            account = change(session)
            key_ids = [record.id for record in api_keys.list_keys(session, account_id)]
        # Only this account's keys: other accounts' cached answers stay valid.
        for key_id in key_ids:
            self.key_cache.invalidate(key_id)
        return account
