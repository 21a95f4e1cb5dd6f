"""Two-factor sign-in in a real Chromium, under the server's CSP: enrol from the account page
(the QR code renders from its data URI, the secret is shown as text), keep the recovery codes,
sign out, sign in with the password and then a TOTP code computed from the shown secret."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pyotp
from playwright.sync_api import Page, expect

from bgone.db.engine import transaction
from bgone.domain import accounts
from bgone.domain.clock import utc_now
from bgone.security.passwords import hash_password
from tests.integration.browser.conftest import screenshot
from tests.support.servers import server_fixtures
from tests.support.stack import Server, Stack

PASSWORD = "a long enough password"
# A server of its own: the shared browser server's log-in throttle (5 failures a minute per
# address) may be spent by other modules' wrong-password tests from the same 127.0.0.1.
two_factor_stack, two_factor_server = server_fixtures("two_factor", signup_plan="business")


def test_enrol_and_sign_in_with_totp(
    page: Page, two_factor_stack: Stack, two_factor_server: Server
) -> None:
    email = f"owner-{secrets.token_hex(4)}@example.com"
    with transaction(two_factor_stack.sessions) as session:
        accounts.create_account(session, email, "business", hash_password(PASSWORD))

    page.goto(two_factor_server.base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/account"))

    page.get_by_test_id("two-factor-link").click()
    page.wait_for_url(re.compile(r"/account/two-factor$"))
    page.get_by_test_id("two-factor-start").click()
    qr = page.get_by_test_id("two-factor-qr")
    expect(qr).to_be_visible()
    # The image decoded: a data URI the CSP allows, drawn at its CSS size.
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    assert qr.bounding_box()["width"] > 100  # type: ignore[index]
    secret = page.get_by_test_id("two-factor-secret").inner_text().strip()
    screenshot(page, "two-factor-enrol")
    page.get_by_label("The 6-digit code the app shows").fill(
        pyotp.TOTP(secret).at(utc_now() - timedelta(seconds=30))
    )
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_test_id("two-factor-on")).to_be_visible()
    assert page.get_by_test_id("recovery-codes").locator("li").count() == 10
    screenshot(page, "two-factor-recovery-codes")

    page.get_by_role("link", name="Continue to my account").click()
    page.wait_for_url(re.compile(r"/account$"))
    page.get_by_label("Profile menu").click()
    page.get_by_role("menuitem", name="Log out").click()
    page.wait_for_url(two_factor_server.base_url + "/")

    page.goto(two_factor_server.base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/login/two-factor$"))
    screenshot(page, "two-factor-second-step")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/account$"))
    expect(page.get_by_test_id("two-factor-link")).to_be_visible()
