"""The members section on a real `bgone serve`: what each role's page shows, and removing a
member, which ends their sessions at once and, when asked, revokes the keys they created."""

from __future__ import annotations

import secrets

import httpx

from bgone.db.engine import transaction
from bgone.domain import members, users
from bgone.domain.members import MemberChange
from bgone.domain.roles import EVERYTHING, KeyScope, Role
from bgone.security.passwords import hash_password
from tests.support.stack import Server, Stack
from tests.support.teams import Team, key_changed, role_in, sessions_of


def page(server: Server, cookies: dict[str, str]) -> httpx.Response:
    return httpx.get(server.base_url + "/account", cookies=cookies, timeout=30)


def test_each_role_sees_what_it_may_use(server: Server, stack: Stack) -> None:
    team = Team(stack)
    developer = team.by_role[Role.DEVELOPER]
    team.key(developer)
    shown = {role: page(server, team.session_of(team.by_role[role]).cookies) for role in Role}
    assert all(response.status_code == 200 for response in shown.values())
    owner, admin, dev, viewer = (shown[role].text for role in Role)
    # Viewers: usage, credits and the audit log; no key list, no forms that change keys.
    assert 'data-testid="keys-hidden"' in viewer and 'data-testid="keys-table"' not in viewer
    assert 'data-testid="generate-form"' not in viewer and 'id="audit-log"' in viewer
    # Developers see every key's metadata and who created it, but not origins nor members'
    # forms; they may not offer a manage key.
    assert 'data-testid="keys-table"' in dev and 'data-testid="created-by">developer-' in dev
    assert 'data-testid="origins-form"' not in dev and 'value="manage"' not in dev
    assert "/account/members/" not in dev
    # Admins manage members up to admin: no owner in their role choices, no form on owners.
    assert 'data-testid="origins-form"' in admin and 'value="manage"' in admin
    assert f"/account/members/{team.owner}/remove" not in admin
    assert f"/account/members/{developer}/remove" in admin and '<option value="owner"' not in admin
    assert f"/account/members/{developer}/remove" in owner and '<option value="owner"' in owner


def test_removing_a_member_ends_their_sessions_and_can_revoke_their_keys(
    server: Server, stack: Stack
) -> None:
    team = Team(stack)
    leaving = team.add(Role.DEVELOPER)
    their_key = team.key(leaving, KeyScope.REMOVE)
    others_key = team.key(team.owner, KeyScope.REMOVE)
    theirs = team.session_of(leaving)
    assert page(server, theirs.cookies).status_code == 200
    owner = team.session_of(team.owner)

    response = httpx.post(
        f"{server.base_url}/account/members/{leaving}/remove",
        data={"csrf_token": owner.csrf, "revoke_keys": "yes"},
        cookies=owner.cookies,
        timeout=30,
    )

    assert response.status_code == 303, response.text
    assert "revoked_keys=1" in response.headers["location"]
    assert role_in(stack, team.account_id, leaving) is None
    assert sessions_of(stack, leaving) == 0
    gone = page(server, theirs.cookies)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    assert key_changed(stack, their_key) and not key_changed(stack, others_key)
    refused = httpx.get(
        server.base_url + "/v1/account", headers={"x-api-key": team.secret_of(their_key)}
    )
    assert refused.status_code == 401
    log = page(server, owner.cookies).text
    assert "member removed" in log and "key revoked" in log


def test_the_last_owner_cannot_leave(server: Server, stack: Stack) -> None:
    team = Team(stack)
    owner = team.session_of(team.owner)
    response = httpx.post(
        f"{server.base_url}/account/members/{team.owner}/remove",
        data={"csrf_token": owner.csrf},
        cookies=owner.cookies,
        timeout=30,
    )
    assert response.status_code == 409
    assert "at least one owner" in response.text
    assert role_in(stack, team.account_id, team.owner) is Role.OWNER


def test_origins_changes_are_audited_with_the_member_and_ip(server: Server, stack: Stack) -> None:
    team = Team(stack)
    admin = team.session_of(team.by_role[Role.ADMIN])
    response = httpx.post(
        f"{server.base_url}/account/origins",
        data={"csrf_token": admin.csrf, "origins": "https://tools.example.com"},
        cookies=admin.cookies,
        timeout=30,
    )
    assert response.status_code == 303, response.text
    log = page(server, admin.cookies).text
    row = log[log.index("origins changed") :].split("</tr>")[0]
    assert "admin-" in row and "127.0.0.1" in row and "https://tools.example.com" in row


def test_a_person_removed_from_every_account_is_told_at_login(server: Server, stack: Stack) -> None:
    team = Team(stack)
    email = f"leaver-{secrets.token_hex(4)}@example.com"
    with transaction(stack.sessions) as session:
        person = users.create_user(session, email, hash_password("a long password"))
        change = MemberChange(team.account_id, EVERYTHING, "tests")
        members.add_member(session, change, person.id, Role.VIEWER)
        members.remove_member(session, change, person.id)
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        form = client.get("/login").text
        token = form.split('name="form_token" value="')[1].split('"')[0]
        answer = client.post(
            "/login", data={"email": email, "password": "a long password", "form_token": token}
        )
    assert answer.status_code == 403
    assert "belongs to no account any more" in answer.text
