"""Members as every front end asks for them: the dashboard and the operator's CLI.

Each change runs in one transaction with its audit event (bgone.domain.members). Removing a
member ends their sessions in the account at once (same transaction) and, when asked,
revokes the keys they created through KeyService, so that the key cache hears of it on
every replica. The methods block: async callers run them in a worker thread.

Invitations (a link shown once, later emailed) build on `add`: accepting one is adding the
invited person with the invited role.
"""

from __future__ import annotations

from dataclasses import dataclass

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import members, users
from bgone.domain.key_records import KeyRecord
from bgone.domain.members import Member, MemberChange
from bgone.domain.roles import Role
from bgone.errors import NotFound
from bgone.services.keys import KeyActor, KeyService


@dataclass(frozen=True)
class Removed:
    member: Member
    revoked_keys: list[KeyRecord]


class MemberService:
    def __init__(
        self, sessions: SessionFactory, read_sessions: SessionFactory, keys: KeyService
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.keys = keys

    def list_members(self, account_id: int) -> list[Member]:
        with transaction(self.read_sessions) as session:
            return members.list_members(session, account_id)

    def account_named(self, name: str) -> int:
        """An account id from an id or its owner's email (see domain.members.account_named)."""
        with transaction(self.read_sessions) as session:
            return members.account_named(session, name)

    def add(self, by: MemberChange, email: str, role: Role) -> Member:
        """An existing person joins the account."""
        with transaction(self.sessions) as session:
            person = users.get_by_email(session, email)
            if person is None:
                raise NotFound(
                    f"no person with the email {email.strip().lower()}; they sign up first"
                )
            return members.add_member(session, by, person.id, role)

    def change_role(self, by: MemberChange, user_id: int, role: Role) -> Member:
        with transaction(self.sessions) as session:
            return members.change_role(session, by, user_id, role)

    def remove(
        self, by: MemberChange, user_id: int, revoke_keys: bool, key_actor: KeyActor
    ) -> Removed:
        """The member leaves; their sessions in this account end with the same commit."""
        with transaction(self.sessions) as session:
            removed = members.remove_member(session, by, user_id)
        revoked = self.keys.revoke_created_by(key_actor, user_id) if revoke_keys else []
        return Removed(removed, revoked)
