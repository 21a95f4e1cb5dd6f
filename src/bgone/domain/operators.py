"""Operators: the people with the operator flag (a row in `operators`), who may open /admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bgone.db.tables import OperatorRow, UserRow
from bgone.domain.clock import now_or_default
from bgone.domain.users import get_by_email
from bgone.errors import NotFound


@dataclass(frozen=True)
class Operator:
    user_id: int
    email: str
    since: datetime
    added_by: str


def is_operator(session: Session, user_id: int) -> bool:
    return session.get(OperatorRow, user_id) is not None


def _person_id(session: Session, email: str) -> int:
    person = get_by_email(session, email)
    if person is None:
        raise NotFound(f"no person with the email {email.strip().lower()}; they sign up first")
    return person.id


def add(session: Session, email: str, added_by: str, now: datetime | None = None) -> bool:
    """Give the flag; False when the person already had it."""
    user_id = _person_id(session, email)
    if is_operator(session, user_id):
        return False
    session.add(OperatorRow(user_id=user_id, since=now_or_default(now), added_by=added_by))
    session.flush()
    return True


def remove(session: Session, email: str) -> bool:
    """Take the flag away; False when the person did not have it."""
    user_id = _person_id(session, email)
    removed = session.execute(delete(OperatorRow).where(OperatorRow.user_id == user_id))
    return bool(getattr(removed, "rowcount", 0))


def list_operators(session: Session) -> list[Operator]:
    rows = session.execute(
        select(OperatorRow, UserRow.email)
        .join(UserRow, UserRow.id == OperatorRow.user_id)
        .order_by(UserRow.email)
    ).all()
    return [Operator(row.user_id, email, row.since, row.added_by) for row, email in rows]
