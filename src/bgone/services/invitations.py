"""Invitations as the dashboard asks for them: invite, list, withdraw, and accept.

The seam for email: `invite` returns the link, which the dashboard shows once to the
inviter; a mailer (SMTP) can later send the same link from here, after the commit. The
methods block: async callers run them in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import invitations, users
from bgone.domain.invitations import Invitation
from bgone.domain.members import MemberChange
from bgone.domain.roles import Role
from bgone.security.passwords import hash_password
from bgone.services.login import DashboardLogin, LoginOutcome

INVITE_PATH = "/invite/"


@dataclass(frozen=True)
class Accepted:
    outcome: LoginOutcome  # OK, WRONG (an existing person's password) or THROTTLED
    user_id: int | None = None
    account_id: int | None = None


class InvitationService:
    def __init__(
        self, sessions: SessionFactory, read_sessions: SessionFactory, login: DashboardLogin
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.login = login

    def invite(
        self, by: MemberChange, email: str, role: Role, base_url: str
    ) -> tuple[Invitation, str]:
        """The invitation and its link, to show once (or, later, to email)."""
        with transaction(self.sessions) as session:
            invitation, token = invitations.create(session, by, email, role)
        return invitation, base_url.rstrip("/") + INVITE_PATH + token

    def list_open(self, account_id: int) -> list[Invitation]:
        with transaction(self.read_sessions) as session:
            return invitations.list_open(session, account_id)

    def withdraw(self, by: MemberChange, invitation_id: str) -> Invitation:
        with transaction(self.sessions) as session:
            return invitations.withdraw(session, by, invitation_id)

    def look_up(self, token: str) -> tuple[Invitation, bool]:
        """The open invitation behind a link, and whether its email has a login already."""
        with transaction(self.read_sessions) as session:
            invitation = invitations.find_open(session, token)
            return invitation, users.get_by_email(session, invitation.email) is not None

    def accept_as(self, token: str, user_id: int, email: str, ip: str | None) -> int:
        """A signed-in person accepts; the account they joined."""
        with transaction(self.sessions) as session:
            return invitations.accept(session, token, user_id, email, ip).account_id

    def accept_with_password(self, token: str, password: str, ip: str | None) -> Accepted:
        """Log in as the invited email (throttled like the login form), or sign up with
        `password` when it has no login yet; then join."""
        invitation, known = self.look_up(token)
        if known:
            result = self.login.log_in(invitation.email, password, ip)
            if result.user_id is None:
                return Accepted(result.outcome)
            user_id = result.user_id
        else:
            with transaction(self.sessions) as session:
                user_id = users.create_user(session, invitation.email, hash_password(password)).id
        with transaction(self.sessions) as session:
            invitations.accept(session, token, user_id, invitation.email, ip)
        return Accepted(LoginOutcome.OK, user_id, invitation.account_id)
