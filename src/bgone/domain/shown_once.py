"""A new key's secret, or a new invitation's link, kept for one display on the page after
the dashboard's form.

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
# An invitation's link shares the row (one thing waits per session): this `environment`
# marks it, `key_id` holds the invitation's id (the same size) and `name` its role.
INVITATION = "invitation"


@dataclass(frozen=True)
class NewSecret:
    secret: str
    key_id: str
    environment: str
    name: str
    rotated_from: str | None = None
    rotated_grace: str | None = None


@dataclass(frozen=True)
class InvitationLink:
    link: str
    invitation_id: str
    role: str


def keep(
    session: Session, token: str, new: NewSecret | InvitationLink, now: datetime | None = None
) -> None:
    """Keeps `new` for the session of `token`, in place of anything still waiting."""
    moment = now_or_default(now)
    session.execute(delete(ShownOnceSecretRow).where(ShownOnceSecretRow.expires_at <= moment))
    if isinstance(new, InvitationLink):
        row = ShownOnceSecretRow(
            sealed=seal(token, new.link),
            key_id=new.invitation_id,
            environment=INVITATION,
            name=new.role,
        )
    else:
        row = ShownOnceSecretRow(
            sealed=seal(token, new.secret),
            key_id=new.key_id,
            environment=new.environment,
            name=new.name,
            rotated_from=new.rotated_from,
            rotated_grace=new.rotated_grace,
        )
    row.token_hash = token_hash(token)
    row.expires_at = moment + SHOWN_ONCE_LIFETIME
    session.merge(row)
    session.flush()


def take(
    session: Session, token: str, now: datetime | None = None
) -> NewSecret | InvitationLink | None:
    """The secret (or link) waiting for the session of `token`, deleted as it is read: of two pages
    reading at once, only the one whose delete removed the row shows it."""
    hashed = token_hash(token)
    row = session.scalars(
        select(ShownOnceSecretRow).where(ShownOnceSecretRow.token_hash == hashed)
    ).one_or_none()
    if row is None:
        return None
    shown = unseal(token, row.sealed) or ""
    found: NewSecret | InvitationLink = (
        InvitationLink(shown, row.key_id, row.name)
        if row.environment == INVITATION
        else NewSecret(
            shown, row.key_id, row.environment, row.name, row.rotated_from, row.rotated_grace
        )
    )
    expired = row.expires_at <= now_or_default(now)
    session.expunge(row)
    removed = session.execute(
        delete(ShownOnceSecretRow).where(ShownOnceSecretRow.token_hash == hashed)
    ).rowcount  # type: ignore[attr-defined]
    if not removed or expired or not shown:
        return None
    return found
