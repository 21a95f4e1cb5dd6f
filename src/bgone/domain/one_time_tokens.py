"""Single-use tokens for emailed links: password resets and email verifications.

The link carries a random token; the database keeps only its SHA-256, so a leaked database
(or backup) holds no working link. A token is redeemed at most once: the redemption is one
conditional UPDATE (unused and unexpired), so two clicks racing each other cannot both win.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from bgone.db.tables import OneTimeTokenRow
from bgone.domain.clock import now_or_default

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100  # token_urlsafe(32) is 43 characters; anything much longer is junk
PASSWORD_RESET_LIFETIME = timedelta(hours=1)
EMAIL_VERIFICATION_LIFETIME = timedelta(days=7)


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"


@dataclass(frozen=True)
class TokenGrant:
    """What a valid token grants: an action for one person, at the address it was sent to."""

    user_id: int
    email: str
    purpose: TokenPurpose
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _plausible(token: str | None) -> bool:
    return bool(token) and len(token or "") <= MAX_TOKEN_LENGTH


def issue(
    session: Session,
    user_id: int,
    email: str,
    purpose: TokenPurpose,
    lifetime: timedelta,
    now: datetime | None = None,
) -> str:
    """A new token (for the link only: it is not stored)."""
    moment = now_or_default(now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        OneTimeTokenRow(
            token_hash=token_hash(token),
            purpose=purpose.value,
            user_id=user_id,
            email=email,
            created_at=moment,
            expires_at=moment + lifetime,
        )
    )
    session.flush()
    return token


def peek(
    session: Session, token: str | None, purpose: TokenPurpose, now: datetime | None = None
) -> TokenGrant | None:
    """The grant of a usable token, without using it (to show the form it leads to)."""
    if not _plausible(token):
        return None
    assert token is not None
    row = session.scalars(
        select(OneTimeTokenRow).where(
            OneTimeTokenRow.token_hash == token_hash(token),
            OneTimeTokenRow.purpose == purpose.value,
            OneTimeTokenRow.used_at.is_(None),
            OneTimeTokenRow.expires_at > now_or_default(now),
        )
    ).one_or_none()
    if row is None:
        return None
    return TokenGrant(row.user_id, row.email, purpose, row.expires_at)


def redeem(
    session: Session, token: str | None, purpose: TokenPurpose, now: datetime | None = None
) -> TokenGrant | None:
    """Uses the token once: its grant, or None if it is unknown, used, expired or for
    another purpose (the caller cannot tell which, and need not)."""
    if not _plausible(token):
        return None
    assert token is not None
    moment = now_or_default(now)
    hashed = token_hash(token)
    result = session.execute(
        update(OneTimeTokenRow)
        .where(
            OneTimeTokenRow.token_hash == hashed,
            OneTimeTokenRow.purpose == purpose.value,
            OneTimeTokenRow.used_at.is_(None),
            OneTimeTokenRow.expires_at > moment,
        )
        .values(used_at=moment)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        return None
    row = session.get_one(OneTimeTokenRow, hashed)
    return TokenGrant(row.user_id, row.email, purpose, row.expires_at)


def withdraw_all(
    session: Session, user_id: int, purpose: TokenPurpose, now: datetime | None = None
) -> int:
    """Marks every unused token of `purpose` for the person used (after a reset, the other
    reset links sent earlier must not work either). How many were withdrawn."""
    result = session.execute(
        update(OneTimeTokenRow)
        .where(
            OneTimeTokenRow.user_id == user_id,
            OneTimeTokenRow.purpose == purpose.value,
            OneTimeTokenRow.used_at.is_(None),
        )
        .values(used_at=now_or_default(now))
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount
