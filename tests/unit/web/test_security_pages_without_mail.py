"""Without BGONE_SMTP_URL: nothing is mailed, sign-up needs no verification, the reset page
sends owners to the operator; the account page changes passwords and lists sessions."""

from __future__ import annotations

import re
import secrets

from fastapi.testclient import TestClient

from bgone.web.pages import FORM_COOKIE
from tests.unit.inprocess import InProcess

PASSWORD = "a long enough password"


def form_post(client: TestClient, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    token = secrets.token_urlsafe(16)
    client.cookies.set(FORM_COOKIE, token)
    return client.post(path, data={**data, "form_token": token}, follow_redirects=False)


def signed_up(app: InProcess) -> tuple[TestClient, str]:
    client = TestClient(app.client.app)
    email = f"owner-{secrets.token_hex(4)}@example.com"
    response = form_post(client, "/signup", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return client, email


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_reset_page_says_the_operator_resets_passwords(app: InProcess) -> None:
    page = app.client.get("/forgot-password")
    assert page.status_code == 200
    assert 'data-testid="no-mail"' in page.text
    assert "bgone accounts reset-password" in page.text
    answer = form_post(app.client, "/forgot-password", {"email": "someone@example.com"})
    assert answer.status_code == 200
    assert 'data-testid="no-mail"' in answer.text


def test_sign_up_needs_no_verification_and_keys_can_be_made(app: InProcess) -> None:
    client, _ = signed_up(app)
    page = client.get("/account")
    assert page.status_code == 200
    assert 'data-testid="unverified"' not in page.text
    assert 'data-testid="sessions-table"' in page.text
    assert "this session" in page.text
    assert " style=" not in page.text.split('id="security"')[1].split("</section>")[0]


def test_password_change_needs_the_current_one_and_ends_the_other_sessions(
    app: InProcess,
) -> None:
    client, email = signed_up(app)
    other = TestClient(app.client.app)
    assert form_post(other, "/login", {"email": email, "password": PASSWORD}).status_code == 303
    assert other.get("/account", follow_redirects=False).status_code == 200

    token = csrf(client.get("/account").text)
    wrong = client.post(
        "/account/password",
        data={"current_password": "not it at all", "new_password": "x" * 12, "csrf_token": token},
        follow_redirects=False,
    )
    assert wrong.headers["location"].startswith("/account?security=wrong-password")
    changed = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a new long password",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert changed.headers["location"].startswith("/account?security=password-changed")
    assert client.get("/account", follow_redirects=False).status_code == 200
    assert other.get("/account", follow_redirects=False).status_code == 303
    old = form_post(TestClient(app.client.app), "/login", {"email": email, "password": PASSWORD})
    assert old.status_code == 401


def test_without_the_csrf_token_nothing_changes(app: InProcess) -> None:
    client, _ = signed_up(app)
    refused = client.post(
        "/account/sessions/end-all", data={"csrf_token": "forged"}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert client.get("/account", follow_redirects=False).status_code == 200
