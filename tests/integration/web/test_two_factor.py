"""Two-factor sign-in against a real `bgone serve` (SQLite; PostgreSQL + Redis): enrol from
the secret the page shows, sign out, sign in with the password and a code pyotp computes,
the same code refused again, a recovery code once, throttled code attempts, the policy
sending a member without two-factor to enrol, and the operator's `bgone accounts reset-2fa`."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from datetime import timedelta

import httpx
import pyotp
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import AuditEventRow, TwoFactorSecretRow
from bgone.domain import accounts, users
from bgone.domain.clock import utc_now
from bgone.security.passwords import hash_password
from bgone.services.two_factor import CODE_FAILURES_PER_MINUTE
from bgone.web.pages import FORM_COOKIE
from tests.support.abuse_hosts import client_from
from tests.support.servers import POSTGRES_REDIS, SQLITE, server_fixtures
from tests.support.stack import Server, Stack

PASSWORD = "a long enough password"
ADDRESSES = (f"127.0.{third}.{fourth}" for third in range(60, 80) for fourth in range(1, 250))

tf_stack, tf_server = server_fixtures("tf", kinds=(SQLITE, POSTGRES_REDIS))


def client(server: Server, address: str | None = None) -> httpx.Client:
    made = client_from(address or next(ADDRESSES))
    made.base_url = httpx.URL(server.base_url)
    made.follow_redirects = False
    return made


def form_post(browser: httpx.Client, path: str, **data: str) -> httpx.Response:
    token = secrets.token_urlsafe(16)
    browser.cookies.delete(FORM_COOKIE)
    browser.cookies.set(FORM_COOKIE, token)
    return browser.post(path, data={**data, "form_token": token})


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def new_account(stack: Stack) -> str:
    email = f"owner-{secrets.token_hex(5)}@example.com"
    with transaction(stack.sessions) as session:
        accounts.create_account(session, email, "business", hash_password(PASSWORD))
    return email


def signed_in(server: Server, email: str) -> httpx.Client:
    browser = client(server)
    answer = form_post(browser, "/login", email=email, password=PASSWORD, next="/account")
    assert answer.status_code == 303 and answer.headers["location"] == "/account", answer.text
    return browser


def enrol(browser: httpx.Client) -> tuple[str, list[str]]:
    page = browser.get("/account/two-factor")
    assert (
        browser.post("/account/two-factor/start", data={"csrf_token": csrf(page.text)}).status_code
        == 303
    )
    page = browser.get("/account/two-factor")
    shown = re.search(r'data-testid="two-factor-secret">([A-Z2-7]+)<', page.text)
    assert shown and 'src="data:image/svg+xml' in page.text
    secret = shown.group(1)
    code = pyotp.TOTP(secret).at(utc_now() - timedelta(seconds=30))
    done = browser.post(
        "/account/two-factor/confirm", data={"code": code, "csrf_token": csrf(page.text)}
    )
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([a-z0-9-]{19})</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes


def second_step(server: Server, email: str, code: str) -> httpx.Response:
    browser = client(server)
    first = form_post(browser, "/login", email=email, password=PASSWORD, next="/account#keys")
    assert first.status_code == 303 and first.headers["location"] == "/login/two-factor"
    assert browser.get("/account").status_code == 303  # half signed in: no dashboard
    answer = form_post(browser, "/login/two-factor", code=code)
    if answer.status_code == 303:
        assert browser.get(answer.headers["location"].split("#")[0]).status_code == 200
    browser.close()
    return answer


def bgone(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgone", *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def audit_of(stack: Stack, email: str) -> list[tuple[str, str]]:
    with transaction(stack.sessions) as session:
        account = accounts.get_by_email(session, email)
        assert account is not None
        return [
            (row.action, row.actor)
            for row in session.execute(
                select(AuditEventRow.action, AuditEventRow.actor).where(
                    AuditEventRow.account_id == account.id
                )
            )
        ]


def test_enrol_sign_out_and_sign_in_with_a_code(tf_stack: Stack, tf_server: Server) -> None:
    email = new_account(tf_stack)
    browser = signed_in(tf_server, email)
    secret, _ = enrol(browser)
    page = browser.get("/account")
    assert browser.post("/logout", data={"csrf_token": csrf(page.text)}).status_code == 303
    browser.close()

    code = pyotp.TOTP(secret).now()
    answer = second_step(tf_server, email, code)
    assert answer.status_code == 303 and answer.headers["location"] == "/account#keys"
    assert second_step(tf_server, email, code).status_code == 401  # used once already
    assert ("two_factor_enabled", f"dashboard:{email}") in audit_of(tf_stack, email)


def test_a_recovery_code_signs_in_once(tf_stack: Stack, tf_server: Server) -> None:
    email = new_account(tf_stack)
    _, codes = enrol(signed_in(tf_server, email))
    assert second_step(tf_server, email, codes[4]).status_code == 303
    assert second_step(tf_server, email, codes[4]).status_code == 401
    assert "recovery_code_used" in {action for action, _ in audit_of(tf_stack, email)}


def test_code_attempts_are_throttled(tf_stack: Stack, tf_server: Server) -> None:
    email = new_account(tf_stack)
    secret, _ = enrol(signed_in(tf_server, email))
    right = {pyotp.TOTP(secret).at(utc_now() + timedelta(seconds=s)) for s in (-30, 0, 30, 60)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in right)
    statuses = [
        second_step(tf_server, email, wrong).status_code for _ in range(CODE_FAILURES_PER_MINUTE)
    ]
    assert statuses == [401] * CODE_FAILURES_PER_MINUTE
    # From another address too: the person's own bucket is spent, so even the right code waits.
    answer = second_step(tf_server, email, pyotp.TOTP(secret).now())
    assert answer.status_code == 429 and answer.headers["retry-after"] == "60"


def test_the_policy_sends_members_to_enrol_and_the_operator_resets(
    tf_stack: Stack, tf_server: Server
) -> None:
    email = new_account(tf_stack)
    owner = signed_in(tf_server, email)
    enrol(owner)
    page = owner.get("/account/two-factor")
    turned_on = owner.post(
        "/account/two-factor/policy", data={"required": "on", "csrf_token": csrf(page.text)}
    )
    assert turned_on.headers["location"].endswith("tf=policy-on")

    reset = bgone(tf_stack, "accounts", "reset-2fa", email.upper())
    assert reset.returncode == 0, reset.stderr
    assert f"two-factor removed for {email}" in reset.stdout
    assert ("two_factor_reset", "operator (cli)") in audit_of(tf_stack, email)
    with transaction(tf_stack.sessions) as session:
        rows = session.scalars(select(TwoFactorSecretRow.user_id)).all()
        person = users.get_by_email(session, email)
        assert person is not None and person.id not in rows

    # The password alone signs in now, but the dashboard waits for the enrolment.
    browser = signed_in(tf_server, email)
    sent = browser.get("/account")
    assert sent.status_code == 303
    assert sent.headers["location"] == "/account/two-factor?required=1"
    secret, _ = enrol(browser)
    assert browser.get("/account").status_code == 200
    assert secret

    unknown = bgone(tf_stack, "accounts", "reset-2fa", "nobody-here@example.com")
    assert unknown.returncode == 1 and "no person with the email" in unknown.stderr
