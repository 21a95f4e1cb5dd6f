"""Invitations on a real `bgone serve`: the owner invites, the link is shown once, the
invited person signs up (or logs in) through it and joins with the invited role; the link
works once, and a withdrawn one not at all."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

import httpx

from bgone.db.engine import transaction
from bgone.domain import users
from bgone.domain.roles import Role
from bgone.security.passwords import hash_password
from tests.support.stack import Server, Stack
from tests.support.teams import Team, role_in

PASSWORD = "a long enough password"


def follow(server: Server, path: str, password: str) -> httpx.Response:
    """Open the invitation as a signed-out visitor and send the password."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        page = client.get(path)
        assert page.status_code == 200, page.text
        token = re.search(r'name="form_token" value="([^"]+)"', page.text)
        assert token is not None
        answer = client.post(path, data={"password": password, "form_token": token[1]})
        if answer.status_code == 303:
            answer = client.get("/account")  # with the session cookie just set
        return answer


def test_a_new_person_signs_up_through_the_link_and_joins(server: Server, stack: Stack) -> None:
    team = Team(stack)
    owner = team.session_of(team.owner)
    email = f"new-{secrets.token_hex(4)}@example.com"
    made = httpx.post(
        f"{server.base_url}/account/invitations",
        data={"csrf_token": owner.csrf, "email": email, "role": "admin"},
        cookies=owner.cookies,
        timeout=30,
    )
    # Redirected: a reload of the page it leads to resubmits nothing.
    assert made.status_code == 303, made.text
    assert "/invite/" not in made.headers["location"]
    shown = httpx.get(server.base_url + made.headers["location"], cookies=owner.cookies).text
    link = re.search(r'data-testid="invite-link">([^<]+)<', shown)
    # No BGONE_PUBLIC_URL and no mail: the address the inviter's own browser used.
    assert link is not None and link[1].startswith(server.base_url + "/invite/")
    # Shown once: the account page lists the invitation, never the link again.
    later = httpx.get(f"{server.base_url}/account", cookies=owner.cookies, timeout=30).text
    assert email in later and link[1] not in later
    path = urlsplit(link[1]).path

    joined = follow(server, path, PASSWORD)

    assert joined.status_code == 200 and 'data-testid="my-role">admin<' in joined.text
    with transaction(stack.sessions) as session:
        person = users.get_by_email(session, email)
    assert person is not None
    assert role_in(stack, team.account_id, person.id) is Role.ADMIN
    again = httpx.get(server.base_url + path, timeout=30)
    assert again.status_code == 404


def test_an_existing_person_logs_in_through_the_link(server: Server, stack: Stack) -> None:
    team = Team(stack)
    email = f"known-{secrets.token_hex(4)}@example.com"
    with transaction(stack.sessions) as session:
        known = users.create_user(session, email, hash_password(PASSWORD)).id
    _, token = team.invite(Role.VIEWER, email)
    wrong = follow(server, f"/invite/{token}", "not the password")
    assert wrong.status_code == 401 and role_in(stack, team.account_id, known) is None
    joined = follow(server, f"/invite/{token}", PASSWORD)
    assert joined.status_code == 200 and 'data-testid="keys-hidden"' in joined.text
    assert role_in(stack, team.account_id, known) is Role.VIEWER


def test_a_withdrawn_invitation_no_longer_opens(server: Server, stack: Stack) -> None:
    team = Team(stack)
    invitation_id, token = team.invite(Role.DEVELOPER)
    admin = team.session_of(team.by_role[Role.ADMIN])
    withdrawn = httpx.post(
        f"{server.base_url}/account/invitations/{invitation_id}/withdraw",
        data={"csrf_token": admin.csrf},
        cookies=admin.cookies,
        timeout=30,
    )
    assert withdrawn.status_code == 303
    assert httpx.get(f"{server.base_url}/invite/{token}", timeout=30).status_code == 404
