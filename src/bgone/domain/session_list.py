"""A person's view of their dashboard sessions (in any of their accounts): which browsers,
from where, last seen when; ending one, all but this one, or all of them.

A session is named to its owner by a prefix of its token's hash (never the token): enough to
pick it out among one person's sessions, useless for signing in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bgone.db.tables import WebSessionRow
from bgone.domain.clock import now_or_default
from bgone.domain.web_sessions import token_hash

SESSION_ID_LENGTH = 16
SESSION_ID = re.compile(rf"[0-9a-f]{{{SESSION_ID_LENGTH}}}")
# "Last seen" is written at most this often per session, not on every page.
LAST_SEEN_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class SessionEntry:
    id: str
    ip: str | None
    user_agent: str | None
    device: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def session_id(cookie_token: str) -> str:
    return token_hash(cookie_token)[:SESSION_ID_LENGTH]


def list_sessions(
    session: Session, user_id: int, current_token: str | None, now: datetime | None = None
) -> list[SessionEntry]:
    """The person's live sessions, the most recently seen first."""
    current = session_id(current_token) if current_token else None
    rows = session.scalars(
        select(WebSessionRow).where(
            WebSessionRow.user_id == user_id,
            WebSessionRow.expires_at > now_or_default(now),
        )
    ).all()
    entries = [
        SessionEntry(
            id=row.token_hash[:SESSION_ID_LENGTH],
            ip=row.ip,
            user_agent=row.user_agent,
            device=describe_device(row.user_agent),
            created_at=row.created_at,
            last_seen_at=row.last_seen_at or row.created_at,
            current=row.token_hash[:SESSION_ID_LENGTH] == current,
        )
        for row in rows
    ]
    return sorted(entries, key=lambda entry: (not entry.current, -entry.last_seen_at.timestamp()))


def end_session_by_id(session: Session, user_id: int, public_id: str) -> bool:
    """Ends one of the person's sessions; False for an id that names none of them."""
    if not SESSION_ID.fullmatch(public_id):
        return False
    result = session.execute(
        delete(WebSessionRow).where(
            WebSessionRow.user_id == user_id,
            WebSessionRow.token_hash.startswith(public_id, autoescape=True),
        )
    )
    return bool(getattr(result, "rowcount", 0))


def end_sessions(session: Session, user_id: int, keep_token: str | None = None) -> int:
    """Ends every session of the person but `keep_token`'s (all of them without one)."""
    statement = delete(WebSessionRow).where(WebSessionRow.user_id == user_id)
    if keep_token:
        statement = statement.where(WebSessionRow.token_hash != token_hash(keep_token))
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0))


def last_seen_is_stale(last_seen_at: datetime | None, now: datetime | None = None) -> bool:
    return last_seen_at is None or now_or_default(now) - last_seen_at >= LAST_SEEN_RESOLUTION


def touch(session: Session, cookie_token: str, now: datetime | None = None) -> None:
    session.execute(
        update(WebSessionRow)
        .where(WebSessionRow.token_hash == token_hash(cookie_token))
        .values(last_seen_at=now_or_default(now))
        .execution_options(synchronize_session=False)
    )


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-httpx/", "httpx"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str | None) -> str:
    """A short name for a User-Agent ("Firefox on Linux"); only a hint, as browsers lie."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:40]
