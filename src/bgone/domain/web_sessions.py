"""Dashboard sessions.

The cookie carries a random token; the database keeps only its SHA-256, so a leaked
database does not leak live sessions. Each session has its own CSRF token (issued by
`bgone.security.csrf`), required on every form post.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bgone.db.tables import USER_AGENT_LENGTH, MembershipRow, WebSessionRow
from bgone.domain.clock import now_or_default
from bgone.security.csrf import issue_token

COOKIE_NAME = "bgone_session"
SESSION_LIFETIME = timedelta(days=14)
TOKEN_BYTES = 32


@dataclass(frozen=True)
class WebSession:
    user_id: int  # the person signed in
    account_id: int  # the account they are in now (they switch from the profile menu)
    csrf_token: str
    expires_at: datetime
    last_seen_at: datetime | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


token_hash = _hash  # for bgone.domain.session_list


def start_session(
    session: Session,
    account_id: int,
    ip: str | None,
    now: datetime | None = None,
    user_id: int | None = None,
    user_agent: str | None = None,
) -> tuple[str, WebSession]:
    """A new session of `user_id` (by default the account's first owner) in `account_id`;
    returns the cookie token (shown to the browser only) and the session."""
    moment = now_or_default(now)
    if user_id is None:
        user_id = session.scalars(
            select(MembershipRow.user_id)
            .where(MembershipRow.account_id == account_id, MembershipRow.role == "owner")
            .order_by(MembershipRow.created_at, MembershipRow.user_id)
            .limit(1)
        ).one()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = WebSessionRow(
        token_hash=_hash(token),
        user_id=user_id,
        account_id=account_id,
        csrf_token=issue_token(),
        created_at=moment,
        expires_at=moment + SESSION_LIFETIME,
        ip=ip,
        user_agent=user_agent[:USER_AGENT_LENGTH] if user_agent else None,
        last_seen_at=moment,
    )
    session.add(row)
    session.flush()
    return token, WebSession(row.user_id, row.account_id, row.csrf_token, row.expires_at, moment)


def find_session(
    session: Session, token: str | None, now: datetime | None = None
) -> WebSession | None:
    if not token or len(token) > 200:
        return None
    row = session.scalars(
        select(WebSessionRow).where(WebSessionRow.token_hash == _hash(token))
    ).one_or_none()
    if row is None or row.expires_at <= now_or_default(now):
        return None
    return WebSession(row.user_id, row.account_id, row.csrf_token, row.expires_at, row.last_seen_at)


def switch_account(session: Session, token: str, account_id: int) -> None:
    """Move the session to another account; the caller checks the person's membership."""
    session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.token_hash == _hash(token))
        .values(account_id=account_id)
    )


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == _hash(token)))
