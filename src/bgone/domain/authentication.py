"""Turning a key sent with a request into who is calling and what they may do.

The rules and their persistence; the order of the steps (cache, read-only lookup, write
path, invalid-key counting) belongs to `bgone.services.authentication`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from bgone.db.tables import AccountRow, ApiKeyRow, PlanRow
from bgone.domain import audit
from bgone.domain.accounts import (
    Account,
    AccountStatus,
    account_from_rows,
    effective_limits,
    get_by_id,
)
from bgone.domain.key_records import is_expired
from bgone.domain.plan_limits import Limits
from bgone.domain.roles import KeyScope
from bgone.errors import AccountSuspended, InvalidApiKey, PlanWithoutApiAccess, RevokedApiKey
from bgone.security.hashing import KeyHash, SecretRing
from bgone.security.keys import Environment, ParsedKey, parse_key

# A client stuck retrying with an expired key would otherwise write an audit row per request.
EXPIRED_USE_AUDIT_INTERVAL = timedelta(hours=1)
API_ACTOR = "api"


@dataclass(frozen=True)
class PresentedKey:
    """A well-formed key as a client sent it: parsed once, its digests computed once."""

    parsed: ParsedKey
    current: KeyHash  # under the current server secret: the cache key and the stored hash
    candidates: tuple[str, ...]  # under every secret of the ring, for the lookup

    @classmethod
    def from_text(cls, text: str, ring: SecretRing) -> PresentedKey:
        """Raises MalformedKey, decided from the text alone (no database)."""
        parsed = parse_key(text)
        return cls(parsed, ring.hash_key(text), tuple(ring.candidate_digests(text)))


class KeyVerdict(StrEnum):
    """What a found, unrevoked key needs before its caller may be served."""

    USABLE = "usable"
    EXPIRED = "expired"  # refused, after its use is audited (a write)
    STALE_HASH = "stale_hash"  # usable, once re-hashed under the current secret (a write)


@dataclass(frozen=True)
class KeyLookup:
    context: KeyContext
    verdict: KeyVerdict
    replaced: bool = False  # a rotation replaced the key: its error can point there


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
    status_reason: str | None = None  # the operator's, shown with account_suspended
    # What the key may do beyond removals (bgone.domain.roles).
    scope: KeyScope = KeyScope.REMOVE

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


def require_api_access(context: KeyContext) -> None:
    """403 unless the account is active and its plan includes the API."""
    if context.account_status is AccountStatus.SUSPENDED:
        raise AccountSuspended(suspended_detail(context.status_reason))
    if not context.limits.api_access:
        raise PlanWithoutApiAccess("your plan does not include API access")


def suspended_detail(reason: str | None) -> str:
    if reason:
        return f"this account is suspended: {reason}; contact the operator"
    return "this account is suspended; contact the operator"


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


def look_up(session: Session, key: PresentedKey, moment: datetime) -> KeyLookup:
    """The caller behind `key` and what it needs; raises InvalidApiKey or RevokedApiKey."""
    found = session.execute(_key_query(key)).one_or_none()
    if found is None:
        raise InvalidApiKey("the API key is not valid")
    row, account_row, plan_row = found
    if row.revoked_at is not None:
        raise RevokedApiKey("this API key has been revoked")
    if is_expired(row.expires_at, moment):
        verdict = KeyVerdict.EXPIRED
    elif row.hash != key.current.digest:
        verdict = KeyVerdict.STALE_HASH
    else:
        verdict = KeyVerdict.USABLE
    context = _context(row, account_from_rows(account_row, plan_row))
    return KeyLookup(context, verdict, replaced=row.replaced_by is not None)


def record_expired_use(session: Session, context: KeyContext, ip: str | None, at: datetime) -> None:
    """Audit the use of an expired key, at most once per EXPIRED_USE_AUDIT_INTERVAL."""
    since = at - EXPIRED_USE_AUDIT_INTERVAL
    action = audit.AuditAction.EXPIRED_KEY_USE
    if audit.last_event_at(session, context.key_id, action, since) is None:
        expired_at = context.key_expires_at
        audit.record(
            session,
            context.account_id,
            action,
            actor=API_ACTOR,
            ip=ip,
            key_id=context.key_id,
            detail=f"expired at {expired_at.isoformat() if expired_at else '?'}",
            at=at,
        )


def upgrade_hash(session: Session, key_id: str, current: KeyHash) -> None:
    """Re-hash a key found under an older server secret, so that secret can be retired."""
    session.execute(
        update(ApiKeyRow)
        .where(ApiKeyRow.id == key_id)
        .values(hash=current.digest, hash_version=current.version)
        .execution_options(synchronize_session=False)
    )


def _key_query(key: PresentedKey) -> Select[ApiKeyRow, AccountRow, PlanRow]:
    return (
        select(ApiKeyRow, AccountRow, PlanRow)
        .join(AccountRow, ApiKeyRow.account_id == AccountRow.id)
        .join(PlanRow, AccountRow.plan == PlanRow.name)
        .where(ApiKeyRow.hash.in_(key.candidates))
    )


def context_of_key(session: Session, key_id: str) -> KeyContext | None:
    """The context of a key known by its id (a batch job's worker acts as the key that
    submitted the job), as its account is now; None if the key is gone."""
    key = session.get(ApiKeyRow, key_id)
    if key is None:
        return None
    return _context(key, get_by_id(session, key.account_id))


def _context(key: ApiKeyRow, account: Account) -> KeyContext:
    return KeyContext(
        key_id=key.id,
        account_id=account.id,
        environment=Environment(key.environment),
        limits=effective_limits(account),
        account_status=account.status,
        key_expires_at=key.expires_at,
        allowed_origins=account.allowed_origins,
        status_reason=account.status_reason,
        scope=KeyScope(key.scope),
    )
