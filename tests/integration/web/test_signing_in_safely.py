"""Signing in safely against a real `bgone serve` (SQLite; PostgreSQL + Redis) and a real SMTP
server on loopback: the reset link read from the mailbox, single use, expiry, one answer for
unknown emails, Host header poisoning, verification on sign-up, password change and the
sessions list, and the operator's `bgone accounts reset-password`."""

from __future__ import annotations

import re
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from bgone.db.engine import transaction
from bgone.db.tables import AuditEventRow, OneTimeTokenRow
from bgone.domain import accounts
from bgone.domain.clock import utc_now
from bgone.domain.one_time_tokens import token_hash
from bgone.security.passwords import hash_password
from bgone.web.pages import FORM_COOKIE
from tests.support.abuse_hosts import client_from
from tests.support.process import free_port
from tests.support.servers import POSTGRES_REDIS, SQLITE, server_fixtures
from tests.support.smtp import Mailbox, Received, smtp_server
from tests.support.stack import Server, Stack

PASSWORD = "the first long password"
NEW_PASSWORD = "the second long password"
PUBLIC_URL = "https://bgone.example.test"
SMTP_PORT = free_port()
SMTP_USER, SMTP_PASSWORD = "bgone-mailer", "s3cret pass"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
ADDRESSES = (f"127.0.{third}.{fourth}" for third in range(40, 60) for fourth in range(1, 250))

mail_stack, mail_server = server_fixtures(
    "mail",
    kinds=(SQLITE, POSTGRES_REDIS),
    smtp_url=f"smtp+plain://{SMTP_USER}:s3cret%20pass@127.0.0.1:{SMTP_PORT}",
    smtp_from="bgone <noreply@bgone.example.test>",
    public_url=PUBLIC_URL,
    signup_plan="business",
)


@pytest.fixture(scope="module", autouse=True)
def mailbox() -> Iterator[Mailbox]:
    with smtp_server(SMTP_USER, SMTP_PASSWORD, port=SMTP_PORT) as running:
        yield running


def fresh_email() -> str:
    return f"owner-{secrets.token_hex(5)}@example.com"


def account_with_password(stack: Stack, password: str = PASSWORD) -> str:
    email = fresh_email()
    with transaction(stack.sessions) as session:
        accounts.create_account(session, email, "business", hash_password(password))
    return email


def client(server: Server, address: str | None = None, **headers: str) -> httpx.Client:
    made = client_from(address or next(ADDRESSES))
    made.base_url = httpx.URL(server.base_url)
    made.follow_redirects = False
    made.headers.update(headers)
    return made


def form_post(browser: httpx.Client, path: str, **data: str) -> httpx.Response:
    token = secrets.token_urlsafe(16)
    browser.cookies.delete(FORM_COOKIE)  # the one the last answer set, too
    browser.cookies.set(FORM_COOKIE, token)
    return browser.post(path, data={**data, "form_token": token})


def log_in(browser: httpx.Client, email: str, password: str) -> httpx.Response:
    return form_post(browser, "/login", email=email, password=password, next="/account")


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def local(link: str, server: Server) -> str:
    """The emailed link's path and query, to follow on the test server."""
    assert link.startswith(PUBLIC_URL + "/"), link
    return link.removeprefix(PUBLIC_URL)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def request_reset(server: Server, email: str, **headers: str) -> httpx.Response:
    with client(server, **headers) as browser:
        return form_post(browser, "/forgot-password", email=email)


def the_link(mail: Received, path: str) -> str:
    (link,) = [link for link in mail.links if urlsplit(link).path == path]
    return link


def test_reset_by_emailed_link_once(
    mail_stack: Stack, mail_server: Server, mailbox: Mailbox
) -> None:
    email = account_with_password(mail_stack)
    answer = request_reset(mail_server, email)
    assert answer.status_code == 200
    assert 'data-testid="reset-sent"' in answer.text

    mail = mailbox.wait_for(email)
    assert mail.authenticated_as == SMTP_USER
    assert mail.message["From"] == "bgone <noreply@bgone.example.test>"
    assert "one hour" in mail.body or "60 minutes" in mail.body
    link = the_link(mail, "/reset-password")
    with client(mail_server) as browser:
        form = browser.get(local(link, mail_server))
        assert form.status_code == 200
        assert form.headers["referrer-policy"] == "no-referrer"
        done = form_post(browser, "/reset-password", token=token_of(link), password=NEW_PASSWORD)
        assert done.status_code == 303
        assert done.headers["location"] == "/login?reset=done"
        # Single use: the same link now shows the refusal and cannot set a password again.
        again = browser.get(local(link, mail_server))
        assert again.status_code == 400
        assert 'data-testid="reset-invalid"' in again.text
        replay = form_post(browser, "/reset-password", token=token_of(link), password="x" * 20)
        assert replay.status_code == 400
    with client(mail_server) as browser:
        assert log_in(browser, email, PASSWORD).status_code == 401
    with client(mail_server) as browser:
        assert log_in(browser, email, NEW_PASSWORD).status_code == 303
    with transaction(mail_stack.sessions) as session:
        account = accounts.get_by_email(session, email)
        assert account is not None
        actions = session.scalars(
            select(AuditEventRow.action).where(AuditEventRow.account_id == account.id)
        ).all()
    assert "password_reset" in actions


def test_a_reset_ends_every_session_and_the_other_links(
    mail_stack: Stack, mail_server: Server, mailbox: Mailbox
) -> None:
    email = account_with_password(mail_stack)
    signed_in = client(mail_server)
    assert log_in(signed_in, email, PASSWORD).status_code == 303
    assert signed_in.get("/account").status_code == 200
    request_reset(mail_server, email)
    request_reset(mail_server, email)
    first = the_link(mailbox.wait_for(email, 1), "/reset-password")
    second = the_link(mailbox.wait_for(email, 2), "/reset-password")
    assert first != second
    with client(mail_server) as browser:
        form_post(browser, "/reset-password", token=token_of(second), password=NEW_PASSWORD)
        assert browser.get(local(first, mail_server)).status_code == 400
    assert signed_in.get("/account").status_code == 303  # back to the log-in page
    signed_in.close()


def test_an_expired_link_is_refused(
    mail_stack: Stack, mail_server: Server, mailbox: Mailbox
) -> None:
    email = account_with_password(mail_stack)
    request_reset(mail_server, email)
    link = the_link(mailbox.wait_for(email), "/reset-password")
    # An hour and a second later, as the database sees it.
    with transaction(mail_stack.sessions) as session:
        row = session.get_one(OneTimeTokenRow, token_hash(token_of(link)))
        assert row.expires_at - row.created_at == timedelta(hours=1)
        session.execute(
            update(OneTimeTokenRow)
            .where(OneTimeTokenRow.token_hash == row.token_hash)
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )
    with client(mail_server) as browser:
        assert browser.get(local(link, mail_server)).status_code == 400
        refused = form_post(browser, "/reset-password", token=token_of(link), password=NEW_PASSWORD)
        assert refused.status_code == 400
    with client(mail_server) as browser:
        assert log_in(browser, email, PASSWORD).status_code == 303


def test_an_unknown_email_gets_the_same_answer_and_no_mail(
    mail_stack: Stack, mail_server: Server, mailbox: Mailbox
) -> None:
    known, unknown = account_with_password(mail_stack), fresh_email()
    for_known = request_reset(mail_server, known)
    for_unknown = request_reset(mail_server, unknown)
    assert for_known.status_code == for_unknown.status_code == 200

    def blank(page: str, email: str) -> str:
        return re.sub(r'name="form_token" value="[^"]*"', "", page).replace(email, "EMAIL")

    assert blank(for_known.text, known) == blank(for_unknown.text, unknown)
    mailbox.wait_for(known)
    assert mailbox.messages_to(unknown) == []


def test_the_answer_takes_as_long_for_an_unknown_email(
    mail_stack: Stack, mail_server: Server, mailbox: Mailbox
) -> None:
    known = [account_with_password(mail_stack) for _ in range(8)]
    timings: dict[bool, list[float]] = {True: [], False: []}
    for email in known:
        for exists, target in ((True, email), (False, fresh_email())):
            with client(mail_server) as browser:
                browser.get("/forgot-password")
                started = time.perf_counter()
                assert form_post(browser, "/forgot-password", email=target).status_code == 200
                timings[exists].append(time.perf_counter() - started)
    gap = statistics.median(timings[True]) - statistics.median(timings[False])
    assert abs(gap) < 0.05, timings
    mailbox.wait_for(known[-1])


def test_the_host_header_does_not_change_the_link(
    mail_stack: Stack, mail_server: Server, mailbox: Mailbox
) -> None:
    email = account_with_password(mail_stack)
    answer = request_reset(
        mail_server, email, host="evil.example.com", **{"x-forwarded-host": "evil.example.com"}
    )
    assert answer.status_code == 200
    mail = mailbox.wait_for(email)
    assert "evil" not in mail.body
    assert the_link(mail, "/reset-password").startswith(PUBLIC_URL + "/reset-password?token=")


def test_reset_requests_are_limited_per_address(
    mail_stack: Stack, mail_server: Server, mailbox: Mailbox
) -> None:
    email = fresh_email()  # unknown: the limit does not depend on the account existing
    answers = [request_reset(mail_server, email).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    with client(mail_server) as browser:
        from_one_ip = [
            form_post(browser, "/forgot-password", email=fresh_email()) for _ in range(11)
        ]
    assert [answer.status_code for answer in from_one_ip][-1] == 429
    assert from_one_ip[-1].headers["retry-after"] == "60"


def test_sign_up_asks_for_verification_before_keys(
    mail_stack: Stack, mail_server: Server, mailbox: Mailbox
) -> None:
    email = fresh_email()
    with client(mail_server) as browser:
        signed_up = form_post(browser, "/signup", email=email, password=PASSWORD)
        assert signed_up.status_code == 303
        page = browser.get("/account")
        assert 'data-testid="unverified"' in page.text
        resent = browser.post("/account/verify-email/resend", data={"csrf_token": csrf(page.text)})
        assert resent.headers["location"].startswith("/account?security=verification-sent")
        assert mailbox.wait_for(email, 2).message["Subject"] == "Confirm your email for bgone"
        refused = browser.post(
            "/account/keys",
            data={"name": "first", "environment": "production", "csrf_token": csrf(page.text)},
        )
        assert refused.status_code == 403
        assert "Confirm your email" in refused.text

    # Unverified, the owner may still sign in.
    with client(mail_server) as browser:
        assert log_in(browser, email, PASSWORD).status_code == 303
        assert 'data-testid="unverified"' in browser.get("/account").text
    with client(mail_server) as browser:
        assert log_in(browser, email, PASSWORD).status_code == 303
        link = the_link(mailbox.wait_for(email), "/verify-email")
        verified = browser.get(local(link, mail_server))
        assert verified.status_code == 200
        assert "confirmed" in verified.text
        assert browser.get(local(link, mail_server)).status_code == 400  # single use

        page = browser.get("/account")
        assert 'data-testid="unverified"' not in page.text
        made = browser.post(
            "/account/keys",
            data={"name": "first", "environment": "production", "csrf_token": csrf(page.text)},
        )
        assert made.status_code == 303  # the secret is on the next page, once
        assert made.headers["location"] == "/account#api-access"
        assert "bgone_live_" in browser.get("/account").text


def test_password_change_ends_the_other_sessions(mail_stack: Stack, mail_server: Server) -> None:
    email = account_with_password(mail_stack)
    here, there = client(mail_server), client(mail_server)
    assert log_in(here, email, PASSWORD).status_code == 303
    assert log_in(there, email, PASSWORD).status_code == 303
    page = here.get("/account")
    changed = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "csrf_token": csrf(page.text),
        },
    )
    assert changed.headers["location"].startswith("/account?security=password-changed")
    assert here.get("/account").status_code == 200
    assert there.get("/account").status_code == 303
    with client(mail_server) as browser:
        assert log_in(browser, email, PASSWORD).status_code == 401
    with client(mail_server) as browser:
        assert log_in(browser, email, NEW_PASSWORD).status_code == 303
    here.close()
    there.close()


def test_the_sessions_list_signs_out_one_or_everywhere(
    mail_stack: Stack, mail_server: Server
) -> None:
    email = account_with_password(mail_stack)
    here = client(mail_server, address="127.0.61.1", **{"user-agent": FIREFOX})
    there = client(mail_server, address="127.0.61.2", **{"user-agent": "curl/8.5.0"})
    third = client(mail_server, address="127.0.61.3")
    for browser in (here, there, third):
        assert log_in(browser, email, PASSWORD).status_code == 303
    page = here.get("/account").text
    rows = re.findall(r'<tr data-session="([0-9a-f]{16})"><td[^>]*>([^<]*)', page)
    devices = {device.strip(): session_id for session_id, device in rows}
    assert set(devices) >= {"Firefox on Linux", "curl"}
    assert "127.0.61.2" in page and "127.0.61.1" in page
    assert "this session" in page

    ended = here.post(f"/account/sessions/{devices['curl']}/end", data={"csrf_token": csrf(page)})
    assert ended.headers["location"].startswith("/account?security=session-ended")
    assert there.get("/account").status_code == 303
    assert third.get("/account").status_code == 200
    # Another account cannot end these sessions by naming them.
    stranger = client(mail_server)
    assert log_in(stranger, account_with_password(mail_stack), PASSWORD).status_code == 303
    other_page = stranger.get("/account").text
    not_theirs = stranger.post(
        f"/account/sessions/{devices['Firefox on Linux']}/end",
        data={"csrf_token": csrf(other_page)},
    )
    assert not_theirs.headers["location"].startswith("/account?security=no-session")
    assert here.get("/account").status_code == 200

    everywhere = here.post("/account/sessions/end-all", data={"csrf_token": csrf(page)})
    assert everywhere.headers["location"] == "/login"
    with transaction(mail_stack.sessions) as session:
        account = accounts.get_by_email(session, email)
        assert account is not None
        actors = session.scalars(
            select(AuditEventRow.actor).where(
                AuditEventRow.account_id == account.id, AuditEventRow.action == "sessions_ended"
            )
        ).all()
    assert actors == [f"dashboard:{email}"] * 2
    assert here.get("/account").status_code == 303
    assert third.get("/account").status_code == 303
    for browser in (here, there, third, stranger):
        browser.close()


def bgone(stack: Stack, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bgone", *args],
        env={**stack.env, "BGONE_PUBLIC_URL": PUBLIC_URL},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_operator_resets_a_password_from_the_cli(
    mail_stack: Stack, mail_server: Server, mailbox: Mailbox
) -> None:
    email = account_with_password(mail_stack)
    printed = bgone(mail_stack, "accounts", "reset-password", email.upper())
    assert printed.returncode == 0, printed.stderr
    link = printed.stdout.strip()
    assert link.startswith(PUBLIC_URL + "/reset-password?token=")
    assert mailbox.messages_to(email) == []  # printed, not mailed
    with client(mail_server) as browser:
        done = form_post(browser, "/reset-password", token=token_of(link), password=NEW_PASSWORD)
        assert done.status_code == 303
    with client(mail_server) as browser:
        assert log_in(browser, email, NEW_PASSWORD).status_code == 303

    signed_in = client(mail_server)
    assert log_in(signed_in, email, NEW_PASSWORD).status_code == 303
    set_it = bgone(
        mail_stack,
        "accounts",
        "reset-password",
        email,
        "--password-stdin",
        stdin="operator chose this\n",
    )
    assert set_it.returncode == 0, set_it.stderr
    assert signed_in.get("/account").status_code == 303  # every session ended
    with client(mail_server) as browser:
        assert log_in(browser, email, "operator chose this").status_code == 303
    short = bgone(
        mail_stack, "accounts", "reset-password", email, "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 1
    unknown = bgone(mail_stack, "accounts", "reset-password", fresh_email())
    assert unknown.returncode == 1
    assert "no person with the email" in unknown.stderr
    with transaction(mail_stack.sessions) as session:
        account = accounts.get_by_email(session, email)
        assert account is not None
        events = session.execute(
            select(AuditEventRow.action, AuditEventRow.actor).where(
                AuditEventRow.account_id == account.id
            )
        ).all()
    assert ("password_reset_link", "operator (cli)") in events
    assert ("password_reset", "operator (cli)") in events
    signed_in.close()
