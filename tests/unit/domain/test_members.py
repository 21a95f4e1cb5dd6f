"""Members and roles: the permission table, the rules that need the data (owners are the
owners' business, one owner always remains) and what removing a member ends."""

from __future__ import annotations

import threading
import time

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import audit, members, users, web_sessions
from bgone.domain.members import MemberChange
from bgone.domain.roles import GRANTS, KeyScope, Permission, Role, allows
from bgone.errors import AccountExists, AmbiguousAccount, InsufficientRole, LastOwner, NotFound
from tests.unit.domain.support import MakeAccount


def by(account_id: int, role: Role) -> MemberChange:
    return MemberChange(account_id, GRANTS[role], f"dashboard:{role.value}@example.com", "10.0.0.1")


def person(sessions: SessionFactory, email: str) -> int:
    with transaction(sessions) as session:
        return users.create_user(session, email).id


def test_the_table_gives_each_role_what_the_issue_says() -> None:
    assert all(allows(Role.OWNER, permission) for permission in Permission)
    assert not allows(Role.ADMIN, Permission.MANAGE_OWNERS)
    assert allows(Role.ADMIN, Permission.MANAGE_ANY_KEY) and allows(
        Role.ADMIN, Permission.SET_ORIGINS
    )
    assert allows(Role.DEVELOPER, Permission.CREATE_KEY)
    assert allows(Role.DEVELOPER, Permission.VIEW_KEYS)
    assert not allows(Role.DEVELOPER, Permission.MANAGE_ANY_KEY)
    assert not allows(Role.DEVELOPER, Permission.CREATE_MANAGE_KEY)
    assert not allows(Role.VIEWER, Permission.VIEW_KEYS)
    assert allows(Role.VIEWER, Permission.VIEW_AUDIT_LOG)
    assert not allows(KeyScope.REMOVE, Permission.VIEW_KEYS)
    assert allows(KeyScope.MANAGE, Permission.MANAGE_ANY_KEY)
    assert not allows(KeyScope.MANAGE, Permission.MANAGE_MEMBERS)


def test_a_new_account_is_a_team_of_one_owner(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account(email="founder@example.com")
    with transaction(sessions) as session:
        team = members.list_members(session, account.id)
        assert [(m.email, m.role) for m in team] == [("founder@example.com", Role.OWNER)]
        assert members.account_named(session, "founder@example.com") == account.id
        assert members.account_named(session, str(account.id)) == account.id


def test_an_email_that_owns_several_accounts_is_ambiguous(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    first = make_account(email="boss@example.com")
    second = make_account(email="other@example.com")
    with transaction(sessions) as session:
        boss = users.get_by_email(session, "boss@example.com")
        assert boss is not None
        members.add_member(session, by(second.id, Role.OWNER), boss.id, Role.OWNER)
    ambiguous = pytest.raises(AmbiguousAccount, match=f"{first.id}, {second.id}")
    with ambiguous, transaction(sessions) as session:
        members.account_named(session, "boss@example.com")
    with pytest.raises(NotFound), transaction(sessions) as session:
        members.account_named(session, "nobody@example.com")


def test_admins_manage_members_up_to_admin_and_owners_the_rest(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    dev = person(sessions, "dev@example.com")
    with transaction(sessions) as session:
        members.add_member(session, by(account.id, Role.ADMIN), dev, Role.DEVELOPER)
        members.change_role(session, by(account.id, Role.ADMIN), dev, Role.ADMIN)
    for attempt in (
        lambda s: members.change_role(s, by(account.id, Role.ADMIN), dev, Role.OWNER),
        lambda s: members.change_role(s, by(account.id, Role.DEVELOPER), dev, Role.VIEWER),
        lambda s: members.remove_member(s, by(account.id, Role.VIEWER), dev),
    ):
        with pytest.raises(InsufficientRole), transaction(sessions) as session:
            attempt(session)
    with transaction(sessions) as session:
        owner = members.list_members(session, account.id)[0].user_id
    with pytest.raises(InsufficientRole), transaction(sessions) as session:
        members.change_role(session, by(account.id, Role.ADMIN), owner, Role.VIEWER)
    with transaction(sessions) as session:
        members.change_role(session, by(account.id, Role.OWNER), dev, Role.OWNER)
        assert members.role_of(session, account.id, dev) is Role.OWNER
        actions = [e.action for e in audit.list_for_account(session, account.id)]
    assert actions[:3] == [
        audit.AuditAction.MEMBER_ROLE_CHANGED,
        audit.AuditAction.MEMBER_ROLE_CHANGED,
        audit.AuditAction.MEMBER_ADDED,
    ]


def test_at_least_one_owner_always_remains(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        owner = members.list_members(session, account.id)[0].user_id
    for attempt in (
        lambda s: members.change_role(s, by(account.id, Role.OWNER), owner, Role.ADMIN),
        lambda s: members.remove_member(s, by(account.id, Role.OWNER), owner),
    ):
        with pytest.raises(LastOwner), transaction(sessions) as session:
            attempt(session)
    with transaction(sessions) as session:
        assert members.role_of(session, account.id, owner) is Role.OWNER


def test_removing_a_member_ends_their_sessions_in_that_account_only(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    team, own = make_account(), make_account(email="dev@example.com")
    with transaction(sessions) as session:
        dev = users.get_by_email(session, "dev@example.com")
        assert dev is not None
        members.add_member(session, by(team.id, Role.OWNER), dev.id, Role.DEVELOPER)
        with pytest.raises(AccountExists):
            members.add_member(session, by(team.id, Role.OWNER), dev.id, Role.VIEWER)
        in_team, _ = web_sessions.start_session(session, team.id, None, user_id=dev.id)
        at_home, _ = web_sessions.start_session(session, own.id, None, user_id=dev.id)
    with transaction(sessions) as session:
        members.remove_member(session, by(team.id, Role.ADMIN), dev.id)
    with transaction(sessions) as session:
        assert web_sessions.find_session(session, in_team) is None
        assert web_sessions.find_session(session, at_home) is not None
        assert members.role_of(session, team.id, dev.id) is None
        [event] = [
            e for e in audit.list_for_account(session, team.id)
            if e.action is audit.AuditAction.MEMBER_REMOVED
        ]  # fmt: skip
        assert (event.actor, event.ip) == ("dashboard:admin@example.com", "10.0.0.1")
    # Another account's member, or no one, is not found.
    with pytest.raises(NotFound), transaction(sessions) as session:
        members.remove_member(session, by(own.id, Role.OWNER), 999_999)


def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    """The second demotion waits for the first (the account is locked) and then sees that
    only one owner is left; without the lock both would pass and leave none."""
    account = make_account()
    with transaction(sessions) as session:
        first = members.list_members(session, account.id)[0].user_id
    second = person(sessions, "second-owner@example.com")
    with transaction(sessions) as session:
        members.add_member(session, by(account.id, Role.OWNER), second, Role.OWNER)
    demoted, release = threading.Event(), threading.Event()
    outcome: list[str] = []

    def demote_second() -> None:
        with transaction(sessions) as session:
            members.change_role(session, by(account.id, Role.OWNER), second, Role.VIEWER)
            demoted.set()
            release.wait(10)

    def demote_first() -> None:
        demoted.wait(10)
        try:
            with transaction(sessions) as session:
                members.change_role(session, by(account.id, Role.OWNER), first, Role.VIEWER)
            outcome.append("done")
        except LastOwner:
            outcome.append("last_owner")

    racers = [threading.Thread(target=demote_second), threading.Thread(target=demote_first)]
    for racer in racers:
        racer.start()
    demoted.wait(10)
    time.sleep(0.5)
    waited = racers[1].is_alive()
    release.set()
    for racer in racers:
        racer.join(20)
    assert waited, "the second demotion did not wait for the first"
    assert outcome == ["last_owner"]
    with transaction(sessions) as session:
        assert members.role_of(session, account.id, first) is Role.OWNER
