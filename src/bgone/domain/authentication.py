"""Turning the secret in a request into who is calling and what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import AccountRow, ApiKeyRow, PlanRow
from bgone.domain import audit
from bgone.domain.accounts import Account, AccountStatus, account_from_rows, effective_limits
from bgone.domain.clock import now_or_default
from bgone.domain.key_records import is_expired
from bgone.domain.plan_limits import Limits
from bgone.errors import (
    AccountSuspended,
    BgoneError,
    ExpiredApiKey,
    InvalidApiKey,
    MissingApiKey,
    PlanWithoutApiAccess,
    RevokedApiKey,
)
from bgone.security.hashing import SecretRing
from bgone.security.keys import Environment, MalformedKey, parse_key

# A client stuck retrying with an expired key would otherwise write an audit row per request.
EXPIRED_USE_AUDIT_INTERVAL = timedelta(hours=1)
API_ACTOR = "api"


@dataclass(frozen=True)
class KeyContext:
    """What the API layer needs per request; safe to cache briefly."""

    key_id: str
    account_id: int
    environment: Environment
    limits: Limits
    account_status: AccountStatus
    # Set for a key in its rotation grace period. Nothing announces the end of a grace
    # period, so whoever caches this context must check it on every hit.
    key_expires_at: datetime | None = None
    # Browser origins the account lets send its keys (see bgone.api.browser).
    allowed_origins: tuple[str, ...] = ()

    def is_expired_at(self, now: datetime) -> bool:
        return is_expired(self.key_expires_at, now)

    @property
    def rate_per_minute(self) -> int:
        if self.environment is Environment.STAGING:
            return self.limits.staging_rate_per_minute
        return self.limits.rate_per_minute

    @property
    def spends_credits(self) -> bool:
        """Staging keys never spend credits: callers skip reserve/commit for them."""
        return self.environment is Environment.PRODUCTION


def authenticate(
    sessions: SessionFactory,
    secret: str | None,
    ring: SecretRing,
    ip: str | None = None,
    now: datetime | None = None,
    read_sessions: SessionFactory | None = None,
) -> KeyContext:
    """The caller behind `secret`, or a 401 error saying why not.

    Takes a session factory rather than a session because the audit event for an expired
    key must be committed even though the request then fails. With `read_sessions`, the
    usual answers come from a read-only transaction, which on SQLite never queues behind
    (or sleeps waiting for) the writers; only an expired key or a hash upgrade writes.
    """
    moment = now_or_default(now)
    if not secret:
        raise MissingApiKey("this endpoint needs an API key")
    try:
        parse_key(secret)
    except MalformedKey as error:
        # Decided from the text alone: garbage never reaches the database.
        raise InvalidApiKey("the API key is not valid") from error

    outcome: KeyContext | BgoneError | None = None
    if read_sessions is not None:
        with transaction(read_sessions) as session:
            outcome = _read_only_outcome(session, secret, ring, moment)
    if outcome is None:
        with transaction(sessions) as session:
            outcome = _check_key(session, secret, ring, ip, moment)
    # Raised only now, so that an audit event recorded while checking is committed.
    if isinstance(outcome, BgoneError):
        raise outcome
    return outcome


def require_api_access(context: KeyContext) -> None:
    """403 unless the account is active and its plan includes the API."""
    if context.account_status is AccountStatus.SUSPENDED:
        raise AccountSuspended("this account is suspended; contact the operator")
    if not context.limits.api_access:
        raise PlanWithoutApiAccess("your plan does not include API access")


def touch_key_usage(session: Session, key_id: str, ip: str | None, at: datetime) -> None:
    """Record when and from where a key was last used; never moves backwards in time."""
    session.execute(
        update(ApiKeyRow)
        .where(
            ApiKeyRow.id == key_id,
            or_(ApiKeyRow.last_used_at.is_(None), ApiKeyRow.last_used_at < at),
        )
        .values(last_used_at=at, last_used_ip=ip)
        .execution_options(synchronize_session=False)
    )


def _read_only_outcome(
    session: Session, secret: str, ring: SecretRing, moment: datetime
) -> KeyContext | BgoneError | None:
    """The answer when it needs no write, else None (expired-use audit, hash upgrade)."""
    found = session.execute(_key_query(secret, ring)).one_or_none()
    if found is None:
        return InvalidApiKey("the API key is not valid")
    key, account_row, plan_row = found
    if key.revoked_at is not None:
        return RevokedApiKey("this API key has been revoked")
    if is_expired(key.expires_at, moment) or key.hash != ring.hash_key(secret).digest:
        return None
    return _context(key, account_from_rows(account_row, plan_row))


def _key_query(secret: str, ring: SecretRing) -> Select[ApiKeyRow, AccountRow, PlanRow]:
    return (
        select(ApiKeyRow, AccountRow, PlanRow)
        .join(AccountRow, ApiKeyRow.account_id == AccountRow.id)
        .join(PlanRow, AccountRow.plan == PlanRow.name)
        .where(ApiKeyRow.hash.in_(ring.candidate_digests(secret)))
    )


def _context(key: ApiKeyRow, account: Account) -> KeyContext:
    return KeyContext(
        key_id=key.id,
        account_id=account.id,
        environment=Environment(key.environment),
        limits=effective_limits(account),
        account_status=account.status,
        key_expires_at=key.expires_at,
        allowed_origins=account.allowed_origins,
    )


def _check_key(
    session: Session, secret: str, ring: SecretRing, ip: str | None, moment: datetime
) -> KeyContext | BgoneError:
    found = session.execute(_key_query(secret, ring)).one_or_none()
    if found is None:
        return InvalidApiKey("the API key is not valid")
    key, account_row, plan_row = found
    if key.revoked_at is not None:
        return RevokedApiKey("this API key has been revoked")
    if is_expired(key.expires_at, moment):
        _audit_expired_use(session, key, ip, moment)
        return ExpiredApiKey("this API key has expired; use the key that replaced it")
    _upgrade_hash(session, key, secret, ring)
    return _context(key, account_from_rows(account_row, plan_row))


def _audit_expired_use(session: Session, key: ApiKeyRow, ip: str | None, at: datetime) -> None:
    since = at - EXPIRED_USE_AUDIT_INTERVAL
    if audit.last_event_at(session, key.id, audit.AuditAction.EXPIRED_KEY_USE, since) is None:
        audit.record(
            session,
            key.account_id,
            audit.AuditAction.EXPIRED_KEY_USE,
            actor=API_ACTOR,
            ip=ip,
            key_id=key.id,
            detail=f"expired at {key.expires_at.isoformat() if key.expires_at else '?'}",
            at=at,
        )


def _upgrade_hash(session: Session, key: ApiKeyRow, secret: str, ring: SecretRing) -> None:
    """Re-hash a key found under an older server secret, so that secret can be retired."""
    current = ring.hash_key(secret)
    if key.hash != current.digest:
        key.hash = current.digest
        key.hash_version = current.version
        session.flush()
