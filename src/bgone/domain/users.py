"""People: who logs in to the dashboard. A person belongs to accounts through memberships."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bgone.db.tables import AccountRow, MembershipRow, UserRow
from bgone.domain.accounts import AccountStatus, normalize_email
from bgone.domain.clock import now_or_default
from bgone.errors import AccountExists, NotFound


@dataclass(frozen=True)
class User:
    id: int
    email: str
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)


def create_user(
    session: Session, email: str, password_hash: str | None = None, now: datetime | None = None
) -> User:
    normalized = normalize_email(email)
    if get_by_email(session, normalized) is not None:
        raise AccountExists(f"a person with the email {normalized} already exists")
    row = UserRow(email=normalized, password_hash=password_hash, created_at=now_or_default(now))
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as error:
        raise AccountExists(f"a person with the email {normalized} already exists") from error
    return _user(row)


def get_by_email(session: Session, email: str) -> User | None:
    """None rather than an error: a login form must then call `dummy_verify` to hide it."""
    row = session.scalars(
        select(UserRow).where(UserRow.email == email.strip().lower())
    ).one_or_none()
    return _user(row) if row is not None else None


def get_by_id(session: Session, user_id: int) -> User:
    row = session.get(UserRow, user_id)
    if row is None:
        raise NotFound(f"no person with id {user_id}")
    return _user(row)


def set_password_hash(session: Session, user_id: int, password_hash: str | None) -> None:
    """Also used to upgrade a hash after login when `needs_rehash` says so."""
    row = session.get(UserRow, user_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no person with id {user_id}")
    row.password_hash = password_hash
    session.flush()


def in_active_account(session: Session, user_id: int) -> bool:
    """The person is a member of at least one account that is not suspended."""
    found = session.scalar(
        select(func.count())
        .select_from(MembershipRow)
        .join(AccountRow, AccountRow.id == MembershipRow.account_id)
        .where(MembershipRow.user_id == user_id, AccountRow.status == AccountStatus.ACTIVE.value)
    )
    return bool(found)


def _user(row: UserRow) -> User:
    return User(row.id, row.email, row.created_at, row.password_hash)
