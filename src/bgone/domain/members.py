"""Members: the people of an account and their roles, with the rules that need the data.

The permission table is `bgone.domain.roles`; here are the rules it cannot say alone:
owners and owner-ness are the owners' business (an admin manages members up to admin), and
at least one owner always remains. Every change is audited in the same transaction, and
removing a member ends their dashboard sessions in that account at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bgone.db.tables import AccountRow, MembershipRow, UserRow, WebSessionRow
from bgone.domain import audit
from bgone.domain.accounts import lock_account
from bgone.domain.clock import now_or_default
from bgone.domain.roles import Permission, Role, require
from bgone.errors import AccountExists, AmbiguousAccount, LastOwner, NotFound


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    role: Role
    joined_at: datetime


@dataclass(frozen=True)
class Membership:
    """One of a person's accounts, as the account switcher lists them."""

    account_id: int
    account_email: str
    role: Role


@dataclass(frozen=True)
class MemberChange:
    """Who changes an account's members, as the audit log records them."""

    account_id: int
    granted: frozenset[Permission]
    actor: str
    ip: str | None = None


def role_of(session: Session, account_id: int, user_id: int) -> Role | None:
    role = session.scalar(
        select(MembershipRow.role).where(
            MembershipRow.account_id == account_id, MembershipRow.user_id == user_id
        )
    )
    return Role(role) if role is not None else None


def list_members(session: Session, account_id: int) -> list[Member]:
    statement = (
        select(MembershipRow, UserRow.email)
        .join(UserRow, UserRow.id == MembershipRow.user_id)
        .where(MembershipRow.account_id == account_id)
        .order_by(MembershipRow.created_at, UserRow.email)
    )
    return [
        Member(row.user_id, email, Role(row.role), row.created_at)
        for row, email in session.execute(statement)
    ]


def memberships_of(session: Session, user_id: int) -> list[Membership]:
    statement = (
        select(MembershipRow.account_id, AccountRow.email, MembershipRow.role)
        .join(AccountRow, AccountRow.id == MembershipRow.account_id)
        .where(MembershipRow.user_id == user_id)
        .order_by(MembershipRow.account_id)
    )
    return [
        Membership(account_id, email, Role(role))
        for account_id, email, role in session.execute(statement)
    ]


def account_named(session: Session, name: str) -> int:
    """An account id from what an operator typed: the id itself, or an email that
    identifies exactly one account (the one its person owns)."""
    text = name.strip()
    if text.isdigit():
        if session.get(AccountRow, int(text)) is None:
            raise NotFound(f"no account with id {text}")
        return int(text)
    owned = list(
        session.scalars(
            select(MembershipRow.account_id)
            .join(UserRow, UserRow.id == MembershipRow.user_id)
            .where(UserRow.email == text.lower(), MembershipRow.role == Role.OWNER.value)
            .order_by(MembershipRow.account_id)
        )
    )
    if not owned:
        raise NotFound(f"no account owned by {text}")
    if len(owned) > 1:
        ids = ", ".join(str(account_id) for account_id in owned)
        raise AmbiguousAccount(f"{text} owns several accounts ({ids}): name one by its id")
    return owned[0]


def add_member(session: Session, by: MemberChange, user_id: int, role: Role) -> Member:
    require(by.granted, Permission.MANAGE_MEMBERS, "managing members")
    if role is Role.OWNER:
        require(by.granted, Permission.MANAGE_OWNERS, "making owners")
    lock_account(session, by.account_id)
    if role_of(session, by.account_id, user_id) is not None:
        raise AccountExists("that person is already a member of this account")
    moment = now_or_default(None)
    session.add(
        MembershipRow(account_id=by.account_id, user_id=user_id, role=role.value, created_at=moment)
    )
    session.flush()
    member = _member(session, by.account_id, user_id)
    _audit(session, by, audit.AuditAction.MEMBER_ADDED, f"{member.email} as {role.value}")
    return member


def change_role(session: Session, by: MemberChange, user_id: int, role: Role) -> Member:
    require(by.granted, Permission.MANAGE_MEMBERS, "managing members")
    lock_account(session, by.account_id)
    current = _member(session, by.account_id, user_id)
    if Role.OWNER in (current.role, role):
        require(by.granted, Permission.MANAGE_OWNERS, "changing owners")
    if current.role is Role.OWNER and role is not Role.OWNER:
        _require_another_owner(session, by.account_id)
    row = session.get(MembershipRow, (by.account_id, user_id), with_for_update=True)
    assert row is not None
    row.role = role.value
    session.flush()
    _audit(
        session,
        by,
        audit.AuditAction.MEMBER_ROLE_CHANGED,
        f"{current.email}: {current.role.value} -> {role.value}",
    )
    return _member(session, by.account_id, user_id)


def remove_member(session: Session, by: MemberChange, user_id: int) -> Member:
    """Also ends the member's dashboard sessions in this account."""
    require(by.granted, Permission.MANAGE_MEMBERS, "managing members")
    lock_account(session, by.account_id)
    current = _member(session, by.account_id, user_id)
    if current.role is Role.OWNER:
        require(by.granted, Permission.MANAGE_OWNERS, "removing owners")
        _require_another_owner(session, by.account_id)
    session.execute(
        delete(MembershipRow).where(
            MembershipRow.account_id == by.account_id, MembershipRow.user_id == user_id
        )
    )
    session.execute(
        delete(WebSessionRow).where(
            WebSessionRow.account_id == by.account_id, WebSessionRow.user_id == user_id
        )
    )
    _audit(session, by, audit.AuditAction.MEMBER_REMOVED, f"{current.email} ({current.role.value})")
    return current


def _require_another_owner(session: Session, account_id: int) -> None:
    owners = session.scalar(
        select(func.count()).where(
            MembershipRow.account_id == account_id, MembershipRow.role == Role.OWNER.value
        )
    )
    if (owners or 0) <= 1:
        raise LastOwner("an account always keeps at least one owner: make another owner first")


def _member(session: Session, account_id: int, user_id: int) -> Member:
    for member in list_members(session, account_id):
        if member.user_id == user_id:
            return member
    # Another account's member is reported exactly like no one.
    raise NotFound(f"no member {user_id} in this account")


def _audit(session: Session, by: MemberChange, action: audit.AuditAction, detail: str) -> None:
    audit.record(session, by.account_id, action, actor=by.actor, ip=by.ip, detail=detail)
