"""API key management: create, list, revoke (rotation is bgone.domain.key_rotation).

The secret is returned once, at creation; only its HMAC digest is stored. A key id that
belongs to another account is reported exactly like one that does not exist, so ids cannot
be probed across accounts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bgone.db.tables import KEY_NAME_LENGTH, ApiKeyRow
from bgone.domain import audit
from bgone.domain.accounts import Account, AccountStatus, effective_limits, lock_account
from bgone.domain.clock import now_or_default
from bgone.domain.durations import check_lifetime
from bgone.domain.key_records import IssuedKey, KeyRecord, record_from_row
from bgone.domain.roles import KeyScope
from bgone.errors import (
    AccountSuspended,
    InvalidEnvironment,
    InvalidKeyName,
    KeyLimitReached,
    NotFound,
    PlanWithoutApiAccess,
)
from bgone.security.hashing import SecretRing
from bgone.security.keys import Environment, display_form, generate_key, random_base62

KEY_ID_PREFIX = "key_"
KEY_ID_RANDOM_LENGTH = 16


def create_key(
    session: Session,
    account_id: int,
    name: str,
    environment: Environment | str,
    created_by: str,
    ring: SecretRing,
    ip: str | None = None,
    now: datetime | None = None,
    expires_at: datetime | None = None,
    scope: KeyScope = KeyScope.REMOVE,
    created_by_user_id: int | None = None,
) -> IssuedKey:
    """A new key, optionally expiring at `expires_at` (a second to a century from now)."""
    moment = now_or_default(now)
    if expires_at is not None:
        check_lifetime(expires_at - moment)
    checked_name = _checked_name(name)
    checked_environment = _checked_environment(environment)
    # Locking the account serialises concurrent creations, so two of them cannot both see
    # one slot left (SQLite serialises writers anyway and ignores FOR UPDATE).
    account = lock_account(session, account_id)
    require_may_issue(account)
    max_keys = effective_limits(account).max_keys
    if _count_usable_keys(session, account.id, moment) >= max_keys:
        raise KeyLimitReached(
            f"this account may have {max_keys} active keys; revoke one to create another"
        )
    issued = insert_key(
        session,
        account.id,
        checked_name,
        checked_environment,
        created_by,
        ring,
        moment,
        expires_at,
        scope=scope,
        created_by_user_id=created_by_user_id,
    )
    audit.record(
        session,
        account.id,
        audit.AuditAction.KEY_CREATED,
        actor=created_by,
        ip=ip,
        key_id=issued.record.id,
        detail=f"{checked_environment.value} {scope.value} key {checked_name!r}",
        at=moment,
    )
    return issued


def list_keys(session: Session, account_id: int) -> list[KeyRecord]:
    statement = (
        select(ApiKeyRow)
        .where(ApiKeyRow.account_id == account_id)
        .order_by(ApiKeyRow.created_at, ApiKeyRow.id)
    )
    return [record_from_row(row) for row in session.scalars(statement)]


def get_key(session: Session, account_id: int, key_id: str) -> KeyRecord:
    return record_from_row(owned_row(session, account_id, key_id))


def revoke(
    session: Session,
    account_id: int,
    key_id: str,
    actor: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> KeyRecord:
    """Refuse the key from now on. Revoking twice changes nothing and is not an error."""
    moment = now_or_default(now)
    row = owned_row(session, account_id, key_id, lock=True)
    if row.revoked_at is None:
        row.revoked_at = moment
        session.flush()
        audit.record(
            session,
            account_id,
            audit.AuditAction.KEY_REVOKED,
            actor=actor,
            ip=ip,
            key_id=key_id,
            at=moment,
        )
    return record_from_row(row)


def insert_key(
    session: Session,
    account_id: int,
    name: str,
    environment: Environment,
    created_by: str,
    ring: SecretRing,
    moment: datetime,
    expires_at: datetime | None = None,
    scope: KeyScope = KeyScope.REMOVE,
    created_by_user_id: int | None = None,
) -> IssuedKey:
    secret = generate_key(environment)
    key_hash = ring.hash_key(secret)
    row = ApiKeyRow(
        id=KEY_ID_PREFIX + random_base62(KEY_ID_RANDOM_LENGTH),
        account_id=account_id,
        name=name,
        environment=environment.value,
        display=display_form(secret),
        hash=key_hash.digest,
        hash_version=key_hash.version,
        created_by=created_by,
        created_by_user_id=created_by_user_id,
        scope=scope.value,
        created_at=moment,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return IssuedKey(record=record_from_row(row), secret=secret)


def owned_row(session: Session, account_id: int, key_id: str, lock: bool = False) -> ApiKeyRow:
    statement = select(ApiKeyRow).where(ApiKeyRow.id == key_id, ApiKeyRow.account_id == account_id)
    row = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    if row is None:
        raise NotFound(f"no API key {key_id}")
    return row


def _count_usable_keys(session: Session, account_id: int, moment: datetime) -> int:
    statement = select(func.count()).where(
        ApiKeyRow.account_id == account_id,
        ApiKeyRow.revoked_at.is_(None),
        or_(ApiKeyRow.expires_at.is_(None), ApiKeyRow.expires_at > moment),
    )
    return session.scalar(statement) or 0


def require_may_issue(account: Account) -> None:
    if account.status is AccountStatus.SUSPENDED:
        reason = f": {account.status_reason}" if account.status_reason else ""
        raise AccountSuspended(f"this account is suspended{reason}")
    if not effective_limits(account).api_access:
        raise PlanWithoutApiAccess(f"the {account.plan.display_name} plan has no API access")


def _checked_name(name: str) -> str:
    stripped = name.strip()
    if not stripped:
        raise InvalidKeyName("a key needs a name, such as the app or server that uses it")
    if len(stripped) > KEY_NAME_LENGTH:
        raise InvalidKeyName(f"key names are at most {KEY_NAME_LENGTH} characters")
    return stripped


def _checked_environment(environment: Environment | str) -> Environment:
    try:
        return Environment(environment)
    except ValueError as error:
        choices = ", ".join(member.value for member in Environment)
        raise InvalidEnvironment(f"environment must be one of: {choices}") from error


def owner_of(session: Session, key_id: str) -> int:
    """The account a key belongs to; for operator tools only (never exposed over HTTP)."""
    account_id = session.scalar(select(ApiKeyRow.account_id).where(ApiKeyRow.id == key_id))
    if account_id is None:
        raise NotFound(f"no API key {key_id}")
    return account_id
