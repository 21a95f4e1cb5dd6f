"""The dashboard's new-key secret, shown once after the form's redirect (domain.shown_once)."""

from __future__ import annotations

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import shown_once
from bgone.domain.shown_once import NewSecret


class ShownOnceSecrets:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    def keep(self, token: str, new: NewSecret) -> None:
        with transaction(self.sessions) as session:
            shown_once.keep(session, token, new)

    def take(self, token: str) -> NewSecret | None:
        with transaction(self.sessions) as session:
            return shown_once.take(session, token)
