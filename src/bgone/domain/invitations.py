"""Invitations: an owner or admin invites an email with a role; the link is single-use and
expires after a week, and may be withdrawn. Only the link's SHA-256 is kept, so the link is
shown once, to the inviter (and, later, emailed: see bgone.services.invitations).

Accepting needs the invited person (by email): the one who follows the link signs up or
logs in as that email, then joins with the invited role (bgone.domain.members.add_member,
audited). Inviting is managing members: the same rules apply (owners invite owners).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bgone.db.tables import InvitationRow
from bgone.domain import audit, members
from bgone.domain.accounts import normalize_email
from bgone.domain.clock import now_or_default
from bgone.domain.members import MemberChange
from bgone.domain.roles import EVERYTHING, Permission, Role, require
from bgone.errors import NotFound
from bgone.security.keys import random_base62

INVITATION_LIFETIME = timedelta(days=7)
TOKEN_BYTES = 32


@dataclass(frozen=True)
class Invitation:
    id: str
    account_id: int
    email: str
    role: Role
    created_by: str
    created_at: datetime
    expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    session: Session, by: MemberChange, email: str, role: Role, now: datetime | None = None
) -> tuple[Invitation, str]:
    """The invitation and its secret token (for the link; not stored)."""
    require(by.granted, Permission.MANAGE_MEMBERS, "inviting members")
    if role is Role.OWNER:
        require(by.granted, Permission.MANAGE_OWNERS, "inviting owners")
    moment = now_or_default(now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = InvitationRow(
        id="inv_" + random_base62(16),
        account_id=by.account_id,
        email=normalize_email(email),
        role=role.value,
        token_hash=_hash(token),
        created_by=by.actor,
        created_at=moment,
        expires_at=moment + INVITATION_LIFETIME,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        by.account_id,
        audit.AuditAction.MEMBER_INVITED,
        actor=by.actor,
        ip=by.ip,
        detail=f"{row.email} as {role.value} ({row.id})",
        at=moment,
    )
    return _invitation(row), token


def list_open(session: Session, account_id: int, now: datetime | None = None) -> list[Invitation]:
    statement = (
        select(InvitationRow)
        .where(
            InvitationRow.account_id == account_id,
            InvitationRow.accepted_at.is_(None),
            InvitationRow.withdrawn_at.is_(None),
            InvitationRow.expires_at > now_or_default(now),
        )
        .order_by(InvitationRow.created_at)
    )
    return [_invitation(row) for row in session.scalars(statement)]


def withdraw(session: Session, by: MemberChange, invitation_id: str) -> Invitation:
    require(by.granted, Permission.MANAGE_MEMBERS, "withdrawing invitations")
    row = session.scalars(
        select(InvitationRow)
        .where(InvitationRow.id == invitation_id, InvitationRow.account_id == by.account_id)
        .with_for_update()
    ).one_or_none()
    if row is None or row.accepted_at is not None or row.withdrawn_at is not None:
        raise NotFound(f"no open invitation {invitation_id}")
    if row.role == Role.OWNER.value:
        require(by.granted, Permission.MANAGE_OWNERS, "withdrawing owner invitations")
    row.withdrawn_at = now_or_default(None)
    session.flush()
    audit.record(
        session,
        by.account_id,
        audit.AuditAction.INVITATION_WITHDRAWN,
        actor=by.actor,
        ip=by.ip,
        detail=f"{row.email} ({row.id})",
    )
    return _invitation(row)


def find_open(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """The invitation behind a link, if it can still be accepted; else NotFound."""
    row = _open_row(session, token, now)
    return _invitation(row)


def accept(
    session: Session, token: str, user_id: int, email: str, ip: str | None = None
) -> Invitation:
    """The invited person joins: once, before the expiry, as the invited email. One who
    is a member already keeps their role (the invitation is used up all the same)."""
    row = _open_row(session, token, None, lock=True)
    if normalize_email(email) != row.email:
        raise NotFound("this invitation is for another email address")
    row.accepted_at = now_or_default(None)
    if members.role_of(session, row.account_id, user_id) is None:
        change = MemberChange(row.account_id, EVERYTHING, f"invitation:{row.id}", ip)
        members.add_member(session, change, user_id, Role(row.role))
    session.flush()
    return _invitation(row)


def _open_row(
    session: Session, token: str, now: datetime | None, lock: bool = False
) -> InvitationRow:
    statement = select(InvitationRow).where(InvitationRow.token_hash == _hash(token or ""))
    row = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    if (
        row is None
        or row.accepted_at is not None
        or row.withdrawn_at is not None
        or row.expires_at <= now_or_default(now)
    ):
        raise NotFound("this invitation link is not valid any more: ask for a new one")
    return row


def _invitation(row: InvitationRow) -> Invitation:
    return Invitation(
        row.id, row.account_id, row.email, Role(row.role), row.created_by, row.created_at,
        row.expires_at,
    )  # fmt: skip
