"""The forgotten-password flow in a real Chromium, with the link read from a real SMTP
server on loopback: ask, read the mail, follow the link, set a password, log in with it;
then the account page's password and sessions sections."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from bgone.db.engine import transaction
from bgone.domain import accounts
from bgone.security.passwords import hash_password
from tests.integration.browser.conftest import screenshot
from tests.support.process import free_port
from tests.support.servers import server_fixtures
from tests.support.smtp import Mailbox, smtp_server
from tests.support.stack import Server, Stack

PUBLIC_URL = "https://bgone.example.test"
SMTP_PORT = free_port()
OLD_PASSWORD, NEW_PASSWORD = "the old long password", "the new long password"

reset_stack, reset_server = server_fixtures(
    "reset", smtp_url=f"smtp+plain://127.0.0.1:{SMTP_PORT}", public_url=PUBLIC_URL
)


@pytest.fixture(scope="module", autouse=True)
def mailbox() -> Iterator[Mailbox]:
    with smtp_server(port=SMTP_PORT) as running:
        yield running


def test_forgotten_password_reset_in_the_browser(
    page: Page, reset_stack: Stack, reset_server: Server, mailbox: Mailbox
) -> None:
    email = f"owner-{secrets.token_hex(4)}@example.com"
    with transaction(reset_stack.sessions) as session:
        accounts.create_account(session, email, "business", hash_password(OLD_PASSWORD))
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )

    page.goto(reset_server.base_url + "/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url(re.compile(r"/forgot-password$"))
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a reset link").click()
    expect(page.get_by_test_id("reset-sent")).to_contain_text("If an account exists")
    screenshot(page, "forgot-password-sent")

    (link,) = [link for link in mailbox.wait_for(email).links if "/reset-password?" in link]
    assert link.startswith(PUBLIC_URL)
    page.goto(reset_server.base_url + link.removeprefix(PUBLIC_URL))
    page.get_by_label("New password").fill(NEW_PASSWORD)
    screenshot(page, "reset-password")
    page.get_by_role("button", name="Set password").click()
    page.wait_for_url(re.compile(r"/login\?reset=done"))
    expect(page.get_by_test_id("login-notice")).to_contain_text("password was changed")

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(OLD_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/account"))
    sessions = page.get_by_test_id("sessions-table")
    expect(sessions).to_contain_text("this session")
    expect(sessions).to_contain_text("Chrome")
    page.locator("#security").screenshot(path=str(screenshot(page, "account-security")))

    # The link was single-use.
    page.goto(reset_server.base_url + link.removeprefix(PUBLIC_URL))
    expect(page.get_by_test_id("reset-invalid")).to_be_visible()

    page.goto(reset_server.base_url + "/account")
    page.get_by_role("button", name="Sign out everywhere").click()
    page.wait_for_url(re.compile(r"/login$"))
    page.goto(reset_server.base_url + "/account")
    page.wait_for_url(re.compile(r"/login\?next="))
    # The 401 of the wrong password and the 400 of the used link are expected; nothing else
    # (a script error, a Content-Security-Policy refusal) is.
    assert [text for text in problems if not text.startswith("Failed to load resource")] == []
