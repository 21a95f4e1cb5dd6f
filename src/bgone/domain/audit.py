"""The audit trail: who did what to an account's keys and members, when, and from where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bgone.db.tables import AuditEventRow, MembershipRow
from bgone.domain.clock import now_or_default

DEFAULT_LIST_LIMIT = 100


class AuditAction(StrEnum):
    KEY_CREATED = "key_created"
    KEY_ROTATED = "key_rotated"
    KEY_REVOKED = "key_revoked"
    EXPIRED_KEY_USE = "expired_key_use"
    MEMBER_ADDED = "member_added"
    MEMBER_ROLE_CHANGED = "member_role_changed"
    MEMBER_REMOVED = "member_removed"
    ORIGINS_CHANGED = "origins_changed"
    MEMBER_INVITED = "member_invited"
    INVITATION_WITHDRAWN = "invitation_withdrawn"
    KEY_LEAK_REPORTED = "key_leak_reported"  # bgone.domain.leaks
    LEAK_SETTING_CHANGED = "leak_setting_changed"
    # Signing in safely (services/account_security.py).
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"  # by an emailed link, or set by the operator
    PASSWORD_RESET_LINK = "password_reset_link"  # the operator printed a reset link
    EMAIL_VERIFIED = "email_verified"
    SESSIONS_ENDED = "sessions_ended"
    # Two-factor sign-in (services/two_factor.py).
    TWO_FACTOR_ENABLED = "two_factor_enabled"
    TWO_FACTOR_DISABLED = "two_factor_disabled"
    TWO_FACTOR_RESET = "two_factor_reset"  # by an owner, or by the operator's CLI
    RECOVERY_CODE_USED = "recovery_code_used"
    TWO_FACTOR_POLICY = "two_factor_policy"  # 'members must use two-factor' on or off
    # The operator's account actions (services/keys.py, the CLI).
    ACCOUNT_STATUS_CHANGED = "account_status_changed"
    CREDITS_GRANTED = "credits_granted"  # pay-as-you-go credits (domain/payg.py)
    # An owner's: the account closed (domain/account_closing.py), ownership handed over.
    ACCOUNT_DELETED = "account_deleted"
    OWNERSHIP_TRANSFERRED = "ownership_transferred"
    PLAN_CHANGED = "plan_changed"  # by the operator, or a self-serve switch
    LIMITS_CHANGED = "limits_changed"
    PLAN_REQUESTED = "plan_requested"  # a member asked the operator for a plan
    PLAN_REQUEST_ANSWERED = "plan_request_answered"


@dataclass(frozen=True)
class AuditEvent:
    id: int
    account_id: int
    at: datetime
    action: AuditAction
    key_id: str | None
    actor: str
    ip: str | None
    detail: str


def record(
    session: Session,
    account_id: int,
    action: AuditAction,
    actor: str,
    ip: str | None = None,
    key_id: str | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> AuditEvent:
    row = AuditEventRow(
        account_id=account_id,
        at=now_or_default(at),
        action=action.value,
        key_id=key_id,
        actor=actor,
        ip=ip,
        detail=detail,
    )
    session.add(row)
    session.flush()
    return _event_from_row(row)


def list_for_account(
    session: Session, account_id: int, limit: int = DEFAULT_LIST_LIMIT
) -> list[AuditEvent]:
    """Newest first; the id breaks ties between events recorded in the same instant."""
    statement = (
        select(AuditEventRow)
        .where(AuditEventRow.account_id == account_id)
        .order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc())
        .limit(limit)
    )
    return [_event_from_row(row) for row in session.scalars(statement)]


def last_event_at(
    session: Session, key_id: str, action: AuditAction, since: datetime
) -> datetime | None:
    """When `action` was last recorded for `key_id` at or after `since`, if it was."""
    statement = (
        select(AuditEventRow.at)
        .where(
            AuditEventRow.key_id == key_id,
            AuditEventRow.action == action.value,
            AuditEventRow.at >= since,
        )
        .order_by(AuditEventRow.at.desc())
        .limit(1)
    )
    return session.scalars(statement).first()


def _event_from_row(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        account_id=row.account_id,
        at=row.at,
        action=AuditAction(row.action),
        key_id=row.key_id,
        actor=row.actor,
        ip=row.ip,
        detail=row.detail,
    )


def record_for_user(
    session: Session,
    user_id: int,
    action: AuditAction,
    actor: str,
    ip: str | None = None,
    detail: str = "",
) -> int:
    """A person's own change (their password, their second factor) is recorded in the audit
    log of every account they are a member of; how many accounts that was."""
    account_ids = session.scalars(
        select(MembershipRow.account_id)
        .where(MembershipRow.user_id == user_id)
        .order_by(MembershipRow.account_id)
    ).all()
    for account_id in account_ids:
        record(session, account_id, action, actor, ip, detail=detail)
    return len(account_ids)
