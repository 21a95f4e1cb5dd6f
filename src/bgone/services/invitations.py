"""Invitations as the dashboard asks for them: invite, list, withdraw, and accept.

With a mailer (BGONE_SMTP_URL), `invite` emails the link after the commit, built from the
configured public URL, never from a request's Host header (which anyone can write: link
poisoning). Without one it returns the link, which the dashboard shows once to the inviter
to pass on: from the public URL when one is configured, else from the address the inviter's
own browser used (shown only to them, so nobody else's Host header is in it). The methods
block: async callers run them in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import accounts, invitations, users
from bgone.domain.invitations import INVITATION_LIFETIME, Invitation
from bgone.domain.members import MemberChange
from bgone.domain.roles import Role
from bgone.infra.mailer import Mailer
from bgone.security.passwords import hash_password
from bgone.services.login import DashboardLogin, LoginOutcome

INVITE_PATH = "/invite/"


@dataclass(frozen=True)
class Accepted:
    outcome: LoginOutcome  # OK, WRONG (an existing person's password) or THROTTLED
    user_id: int | None = None
    account_id: int | None = None


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    link: str | None  # to show once to the inviter; None when it was emailed


class InvitationService:
    def __init__(
        self,
        sessions: SessionFactory,
        read_sessions: SessionFactory,
        login: DashboardLogin,
        mailer: Mailer | None,
        public_url: str,
    ) -> None:
        """`public_url`: BGONE_PUBLIC_URL as set, or empty."""
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.login = login
        self.mailer = mailer
        self.public_url = public_url.rstrip("/")

    def invite(self, by: MemberChange, email: str, role: Role, inviter_base_url: str) -> Invited:
        """The invitation; its link emailed, or returned to show once where no mail is sent
        (`inviter_base_url`: where the inviter reached the server, used for that alone)."""
        with transaction(self.sessions) as session:
            invitation, token = invitations.create(session, by, email, role)
            account_email = accounts.get_by_id(session, by.account_id).email
        if self.mailer is None:
            base = self.public_url or inviter_base_url.rstrip("/")
            return Invited(invitation, base + INVITE_PATH + token)
        link = self.public_url + INVITE_PATH + token
        self.mailer.send_later(
            invitation.email,
            "You are invited to a bgone account",
            f"{by.actor.removeprefix('dashboard:')} invites you to the bgone account "
            f"{account_email} as {invitation.role.value}. Accept here:\n\n{link}\n\n"
            f"The link works once, for {INVITATION_LIFETIME.days} days. If you did not expect "
            "this, ignore this message.\n",
        )
        return Invited(invitation, None)

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
