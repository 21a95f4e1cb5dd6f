"""A new key's secret, kept for one display on the page after the dashboard's form.

The form answers with a redirect (a reload resubmits nothing); the page it leads to takes
the secret: shown once, then gone. It is bound to the web session, sealed with the session's
token (the database holds only the token's hash), and expires after SHOWN_ONCE_LIFETIME."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bgone.db.tables import ShownOnceSecretRow
from bgone.domain.clock import now_or_default
from bgone.domain.web_sessions import token_hash
from bgone.security.sealing import seal, unseal

SHOWN_ONCE_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True)
class NewSecret:
    secret: str
    key_id: str
    environment: str
    name: str
    rotated_from: str | None = None
    rotated_grace: str | None = None


def keep(session: Session, token: str, new: NewSecret, now: datetime | None = None) -> None:
    """Keeps `new` for the session of `token`, in place of any secret still waiting."""
    moment = now_or_default(now)
    session.execute(delete(ShownOnceSecretRow).where(ShownOnceSecretRow.expires_at <= moment))
    session.merge(
        ShownOnceSecretRow(
            token_hash=token_hash(token),
            sealed=seal(token, new.secret),
            key_id=new.key_id,
            environment=new.environment,
            name=new.name,
            rotated_from=new.rotated_from,
            rotated_grace=new.rotated_grace,
            expires_at=moment + SHOWN_ONCE_LIFETIME,
        )
    )
    session.flush()


def take(session: Session, token: str, now: datetime | None = None) -> NewSecret | None:
    """The secret waiting for the session of `token`, deleted as it is read: of two pages
    reading at once, only the one whose delete removed the row shows it."""
    hashed = token_hash(token)
    row = session.scalars(
        select(ShownOnceSecretRow).where(ShownOnceSecretRow.token_hash == hashed)
    ).one_or_none()
    if row is None:
        return None
    found = NewSecret(
        unseal(token, row.sealed) or "",
        row.key_id,
        row.environment,
        row.name,
        row.rotated_from,
        row.rotated_grace,
    )
    expired = row.expires_at <= now_or_default(now)
    session.expunge(row)
    removed = session.execute(
        delete(ShownOnceSecretRow).where(ShownOnceSecretRow.token_hash == hashed)
    ).rowcount  # type: ignore[attr-defined]
    if not removed or expired or not found.secret:
        return None
    return found
