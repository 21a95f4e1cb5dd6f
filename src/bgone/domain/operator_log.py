"""The global audit log: every operator action, whoever did it (a console session or the
CLI), on which account if any, and from where. One table (`operator_actions`), apart from
each account's own log (bgone.domain.audit), which its customers read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bgone.db.tables import OperatorActionRow
from bgone.domain.clock import now_or_default

DEFAULT_LIST_LIMIT = 100


class OperatorAction(StrEnum):
    PLAN_CHANGED = "plan_changed"  # an account moved to another plan
    LIMITS_CHANGED = "limits_changed"  # an account's custom limits
    STATUS_CHANGED = "status_changed"  # suspended or resumed, with the reason
    CREDITS_GRANTED = "credits_granted"
    KEY_REVOKED = "key_revoked"
    ORIGINS_CHANGED = "origins_changed"
    PLAN_EDITED = "plan_edited"  # a plan's own limits (`bgone plans set`)
    PLAN_REQUEST_APPROVED = "plan_request_approved"
    PLAN_REQUEST_DECLINED = "plan_request_declined"
    OPERATOR_ADDED = "operator_added"
    OPERATOR_REMOVED = "operator_removed"
    ACCOUNT_CREATED = "account_created"
    MEMBER_ADDED = "member_added"
    KEY_CREATED = "key_created"
    KEY_ROTATED = "key_rotated"
    PASSWORD_RESET = "password_reset"  # a reset link printed, or a password set
    TWO_FACTOR_RESET = "two_factor_reset"


@dataclass(frozen=True)
class LoggedAction:
    id: int
    at: datetime
    actor: str
    action: OperatorAction
    account_id: int | None
    ip: str | None
    detail: str


@dataclass(frozen=True)
class ActionEntry:
    """What one operator action records."""

    actor: str  # "operator:cli" or "console:<email>"
    action: OperatorAction
    account_id: int | None = None
    detail: str = ""
    ip: str | None = None


def record(session: Session, entry: ActionEntry, at: datetime | None = None) -> None:
    session.add(
        OperatorActionRow(
            at=now_or_default(at),
            actor=entry.actor,
            action=entry.action.value,
            account_id=entry.account_id,
            ip=entry.ip,
            detail=entry.detail,
        )
    )
    session.flush()


def recent(
    session: Session, account_id: int | None = None, limit: int = DEFAULT_LIST_LIMIT
) -> list[LoggedAction]:
    """Newest first: the whole log, or one account's part of it."""
    statement = select(OperatorActionRow)
    if account_id is not None:
        statement = statement.where(OperatorActionRow.account_id == account_id)
    statement = statement.order_by(OperatorActionRow.at.desc(), OperatorActionRow.id.desc())
    return [
        LoggedAction(
            row.id,
            row.at,
            row.actor,
            OperatorAction(row.action),
            row.account_id,
            row.ip,
            row.detail,
        )
        for row in session.scalars(statement.limit(limit))
    ]
