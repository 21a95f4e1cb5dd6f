"""Which accounts have an email still to prove.

A row in unverified_emails means "signed up while this server sends mail, and has not
followed the link yet". Such an account may sign in but not create API keys. No row means
nothing to prove (older accounts, operator-made ones, servers without mail), so turning
mail on later locks nobody out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bgone.db.tables import UnverifiedEmailRow
from bgone.domain.clock import now_or_default


def require_verification(
    session: Session, account_id: int, email: str, now: datetime | None = None
) -> None:
    row = session.get(UnverifiedEmailRow, account_id)
    if row is None:
        session.add(
            UnverifiedEmailRow(account_id=account_id, email=email, since=now_or_default(now))
        )
    else:
        row.email, row.since = email, now_or_default(now)
    session.flush()


def unverified_email(session: Session, account_id: int) -> str | None:
    """The address still to prove, or None when the account has nothing to prove."""
    row = session.get(UnverifiedEmailRow, account_id)
    return row.email if row is not None else None


def mark_verified(session: Session, account_id: int, email: str) -> bool:
    """True when `email` was the address to prove (a link sent to an older address proves
    nothing about the current one)."""
    result = session.execute(
        delete(UnverifiedEmailRow).where(
            UnverifiedEmailRow.account_id == account_id, UnverifiedEmailRow.email == email
        )
    )
    return bool(getattr(result, "rowcount", 0))
