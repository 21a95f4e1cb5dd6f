"""Invitations: single-use, expiring after 7 days, withdrawable, for one email, and inviting
follows the members' rules (admins invite up to admin)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import audit, invitations, members, users
from bgone.domain.members import MemberChange
from bgone.domain.roles import GRANTS, Role
from bgone.errors import InsufficientRole, NotFound
from tests.unit.domain.support import MakeAccount


def by(account_id: int, role: Role) -> MemberChange:
    return MemberChange(account_id, GRANTS[role], f"dashboard:{role.value}@example.com", "10.0.0.2")


def test_an_invitation_is_accepted_once_by_its_email(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        invitation, token = invitations.create(
            session, by(account.id, Role.ADMIN), "New@Example.com", Role.DEVELOPER
        )
        person = users.create_user(session, "new@example.com")
        other = users.create_user(session, "other@example.com")
    assert invitation.email == "new@example.com"
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    with pytest.raises(NotFound, match="another email"), transaction(sessions) as session:
        invitations.accept(session, token, other.id, other.email)
    with transaction(sessions) as session:
        invitations.accept(session, token, person.id, person.email, "10.0.0.3")
        assert members.role_of(session, account.id, person.id) is Role.DEVELOPER
        added = audit.list_for_account(session, account.id)[0]
    assert (added.action, added.actor, added.ip) == (
        audit.AuditAction.MEMBER_ADDED,
        f"invitation:{invitation.id}",
        "10.0.0.3",
    )
    with pytest.raises(NotFound), transaction(sessions) as session:
        invitations.accept(session, token, person.id, person.email)
    with pytest.raises(NotFound), transaction(sessions) as session:
        invitations.find_open(session, "not-a-token")


def test_an_invitation_expires_after_seven_days_and_can_be_withdrawn(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        first, token = invitations.create(
            session, by(account.id, Role.OWNER), "a@x.io", Role.VIEWER
        )
        second, other = invitations.create(
            session, by(account.id, Role.OWNER), "b@x.io", Role.VIEWER
        )
    later = first.created_at + timedelta(days=7, seconds=1)
    with pytest.raises(NotFound), transaction(sessions) as session:
        invitations.find_open(session, token, now=later)
    with transaction(sessions) as session:
        assert [i.id for i in invitations.list_open(session, account.id)] == [first.id, second.id]
        invitations.withdraw(session, by(account.id, Role.ADMIN), second.id)
        assert [i.id for i in invitations.list_open(session, account.id)] == [first.id]
    with pytest.raises(NotFound), transaction(sessions) as session:
        invitations.find_open(session, other)
    # Another account's invitation is not found, as if there were none.
    elsewhere = make_account()
    with pytest.raises(NotFound), transaction(sessions) as session:
        invitations.withdraw(session, by(elsewhere.id, Role.OWNER), first.id)


def test_only_owners_invite_owners_and_viewers_invite_no_one(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    for role, invited in ((Role.ADMIN, Role.OWNER), (Role.DEVELOPER, Role.VIEWER)):
        with pytest.raises(InsufficientRole), transaction(sessions) as session:
            invitations.create(session, by(account.id, role), "c@x.io", invited)
    with transaction(sessions) as session:
        invitations.create(session, by(account.id, Role.OWNER), "c@x.io", Role.OWNER)
