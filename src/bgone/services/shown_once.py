"""The dashboard's new-key secret or invitation link, shown once after the form's redirect
(bgone.domain.shown_once)."""

from __future__ import annotations

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import shown_once
from bgone.domain.shown_once import InvitationLink, NewSecret


class ShownOnceSecrets:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    def keep(self, token: str, new: NewSecret | InvitationLink) -> None:
        with transaction(self.sessions) as session:
            shown_once.keep(session, token, new)

    def take(self, token: str) -> NewSecret | InvitationLink | None:
        with transaction(self.sessions) as session:
            return shown_once.take(session, token)
