"""A team on a test stack: an account with one member of each role, people, keys and fresh
dashboard sessions, set up through the domain layer (as an operator's CLI would)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import ApiKeyRow, WebSessionRow
from bgone.domain import api_keys, invitations, members, users, web_sessions
from bgone.domain.members import MemberChange
from bgone.domain.roles import EVERYTHING, KeyScope, Role
from bgone.domain.web_sessions import COOKIE_NAME
from bgone.security.hashing import load_secret_ring
from tests.support.stack import Stack

MANY_KEYS = 100_000  # the matrix creates keys by the hundred


@dataclass(frozen=True)
class Session:
    cookies: dict[str, str]
    csrf: str
    token: str


class Team:
    """Account `account_id`, its owner, and one member per other role."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.account_id = stack.account("business", max_keys=MANY_KEYS)
        with transaction(stack.sessions) as session:
            self.owner = members.list_members(session, self.account_id)[0].user_id
        self.by_role = {Role.OWNER: self.owner}
        for role in (Role.ADMIN, Role.DEVELOPER, Role.VIEWER):
            self.by_role[role] = self.add(role)

    def add(self, role: Role, account_id: int | None = None) -> int:
        """A new person, made a member with `role`; their id."""
        email = f"{role.value}-{secrets.token_hex(4)}@example.com"
        with transaction(self.stack.sessions) as session:
            person = users.create_user(session, email)
            change = MemberChange(account_id or self.account_id, EVERYTHING, "tests")
            members.add_member(session, change, person.id, role)
        return person.id

    def key(self, created_by: int | None, scope: KeyScope = KeyScope.REMOVE) -> str:
        """A key's id; `secret_of` gives its secret."""
        with transaction(self.stack.sessions) as session:
            issued = api_keys.create_key(
                session,
                self.account_id,
                "matrix",
                "production",
                "tests",
                load_secret_ring(self.stack.settings),
                scope=scope,
                created_by_user_id=created_by,
            )
        self._secrets[issued.record.id] = issued.secret
        return issued.record.id

    def invite(self, role: Role, email: str | None = None) -> tuple[str, str]:
        """An open invitation by the owner: its id and its link's token."""
        address = email or f"invited-{secrets.token_hex(4)}@example.com"
        with transaction(self.stack.sessions) as session:
            change = MemberChange(self.account_id, EVERYTHING, "tests")
            invitation, token = invitations.create(session, change, address, role)
        return invitation.id, token

    def secret_of(self, key_id: str) -> str:
        return self._secrets[key_id]

    def session_of(self, user_id: int) -> Session:
        """A fresh dashboard session of `user_id` in this account."""
        with transaction(self.stack.sessions) as session:
            token, web_session = web_sessions.start_session(
                session, self.account_id, None, user_id=user_id
            )
        return Session({COOKIE_NAME: token}, web_session.csrf_token, token)

    _secrets: dict[str, str] = {}  # noqa: RUF012 (shared by all teams of a run: ids are unique)


def role_in(stack: Stack, account_id: int, user_id: int) -> Role | None:
    with transaction(stack.sessions) as session:
        return members.role_of(session, account_id, user_id)


def key_changed(stack: Stack, key_id: str) -> bool:
    """Rotated or revoked since it was made."""
    with transaction(stack.sessions) as session:
        row = session.get(ApiKeyRow, key_id)
        assert row is not None
        return row.revoked_at is not None or row.replaced_by is not None


def key_count(stack: Stack, account_id: int) -> int:
    with transaction(stack.sessions) as session:
        return len(api_keys.list_keys(session, account_id))


def session_account(stack: Stack, token: str) -> int | None:
    with transaction(stack.sessions) as session:
        found = web_sessions.find_session(session, token)
        return found.account_id if found else None


def open_invitations(stack: Stack, account_id: int) -> list[str]:
    """The emails with an open invitation to the account."""
    with transaction(stack.sessions) as session:
        return [i.email for i in invitations.list_open(session, account_id)]


def sessions_of(stack: Stack, user_id: int) -> int:
    with transaction(stack.sessions) as session:
        rows = session.scalars(select(WebSessionRow).where(WebSessionRow.user_id == user_id))
        return len(list(rows))
