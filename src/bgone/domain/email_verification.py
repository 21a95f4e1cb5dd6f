"""Which people have an email still to prove.

A row in unverified_emails means "signed up while this server sends mail, and has not
followed the link yet". Such a person may sign in but not create API keys. No row means
nothing to prove (older people, operator-made ones, servers without mail), so turning
mail on later locks nobody out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bgone.db.tables import UnverifiedEmailRow
from bgone.domain.clock import now_or_default


def require_verification(
    session: Session, user_id: int, email: str, now: datetime | None = None
) -> None:
    row = session.get(UnverifiedEmailRow, user_id)
    if row is None:
        session.add(UnverifiedEmailRow(user_id=user_id, email=email, since=now_or_default(now)))
    else:
        row.email, row.since = email, now_or_default(now)
    session.flush()


def unverified_email(session: Session, user_id: int) -> str | None:
    """The address still to prove, or None when the person has nothing to prove."""
    row = session.get(UnverifiedEmailRow, user_id)
    return row.email if row is not None else None


def mark_verified(session: Session, user_id: int, email: str) -> bool:
    """True when `email` was the address to prove (a link sent to an older address proves
    nothing about the current one)."""
    result = session.execute(
        delete(UnverifiedEmailRow).where(
            UnverifiedEmailRow.user_id == user_id, UnverifiedEmailRow.email == email
        )
    )
    return bool(getattr(result, "rowcount", 0))
