"""The teams issue's scenario, walked in a real Chromium against a real `bgone serve` that
mails through a real SMTP server on loopback:

an owner signs in with a password and then a TOTP code, generates a key (a reload creates
nothing and shows the secret no more), and invites a developer and a viewer by email; each
follows the mailed link and joins. The viewer cannot reach the key list or any key action:
the page shows none, and the form posts and the API, tried directly, are refused. The
developer creates and revokes their own key but cannot revoke the owner's. Removing the
developer ends their open session. The viewer forgets their password and resets it by the
mailed link.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bgone.db.engine import transaction
from bgone.domain import accounts, api_keys
from bgone.domain.clock import utc_now
from bgone.security.passwords import hash_password
from tests.integration.browser.conftest import screenshot, watched_context
from tests.support.process import free_port
from tests.support.servers import server_fixtures
from tests.support.smtp import Mailbox, smtp_server
from tests.support.stack import Server, Stack

PUBLIC_URL = "https://bgone.example.test"
SMTP_PORT = free_port()
PASSWORD, NEW_PASSWORD = "the owner's long password", "a brand new long password"

# Its own server: the log-in throttle counts per client address, and this walk logs in
# through the form several times; and its own mail.
walk_stack, walk_server = server_fixtures(
    "walk", smtp_url=f"smtp+plain://127.0.0.1:{SMTP_PORT}", public_url=PUBLIC_URL
)


@pytest.fixture(scope="module", autouse=True)
def mailbox() -> Iterator[Mailbox]:
    with smtp_server(port=SMTP_PORT) as running:
        yield running


class People:
    """One browser context per person, each watched for CSP violations."""

    def __init__(self, browser: Browser, violations: list[str]) -> None:
        self.browser, self.violations = browser, violations
        self.contexts: list[BrowserContext] = []

    def new(self) -> Page:
        context = watched_context(
            self.browser, self.violations, viewport={"width": 1280, "height": 900}
        )
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page


@pytest.fixture()
def people(browser: Browser, policy_violations: list[str]) -> Iterator[People]:
    made = People(browser, policy_violations)
    yield made
    for context in made.contexts:
        context.close()


def log_in(page: Page, server: Server, email: str, password: str) -> None:
    page.goto(server.base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def local(server: Server, link: str) -> str:
    """A mailed link (built from BGONE_PUBLIC_URL) on the test's own server."""
    assert link.startswith(PUBLIC_URL + "/"), link
    return server.base_url + link.removeprefix(PUBLIC_URL)


def mailed_link(mailbox: Mailbox, address: str, path: str, count: int = 1) -> str:
    (link,) = [link for link in mailbox.wait_for(address, count).links if path in link]
    return link


def enrol_two_factor(page: Page) -> str:
    page.get_by_test_id("two-factor-link").click()
    page.get_by_test_id("two-factor-start").click()
    secret = page.get_by_test_id("two-factor-secret").inner_text().strip()
    # The previous step's code: the current one stays unused for the sign-in below.
    code = pyotp.TOTP(secret).at(utc_now() - timedelta(seconds=30))
    page.get_by_label("The 6-digit code the app shows").fill(code)
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_test_id("two-factor-on")).to_be_visible()
    return secret


def key_rows(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("keys-table").locator("tbody tr").filter(has_text=name)


def csrf_of(page: Page) -> str:
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    return token


def accept_invitation(page: Page, server: Server, link: str, role: str) -> None:
    page.goto(local(server, link))
    expect(page.get_by_test_id("invitation")).to_contain_text(role)
    page.get_by_label(re.compile("Choose a password")).fill(PASSWORD)
    page.get_by_role("button", name="Sign up and join").click()
    page.wait_for_url(re.compile(r"/account$"))
    expect(page.get_by_test_id("my-role")).to_have_text(role)


def test_the_team_walk(
    people: People, walk_stack: Stack, walk_server: Server, mailbox: Mailbox
) -> None:
    base = walk_server.base_url
    tag = secrets.token_hex(4)
    owner_email = f"owner-{tag}@example.com"
    dev_email, viewer_email = f"dev-{tag}@example.com", f"viewer-{tag}@example.com"
    with transaction(walk_stack.sessions) as session:
        account_id = accounts.create_account(
            session, owner_email, "business", hash_password(PASSWORD)
        ).id

    # -- the owner: two-factor on, then signed in with the password and a TOTP code --------
    owner = people.new()
    log_in(owner, walk_server, owner_email, PASSWORD)
    owner.wait_for_url(re.compile(r"/account$"))
    secret = enrol_two_factor(owner)
    owner.context.clear_cookies()
    log_in(owner, walk_server, owner_email, PASSWORD)
    owner.wait_for_url(re.compile(r"/login/two-factor$"))
    owner.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    owner.get_by_role("button", name="Sign in").click()
    owner.wait_for_url(re.compile(r"/account$"))

    # -- Generate, then reload: no second key, and the secret is not shown again ---------
    form = owner.get_by_test_id("generate-form")
    form.get_by_label("Name").fill("owner key")
    form.get_by_role("button", name="Generate key").click()
    owner_secret = owner.get_by_test_id("new-key").inner_text().strip()
    assert owner_secret.startswith("bgone_live_") and owner_secret not in owner.url
    owner.reload()
    expect(key_rows(owner, "owner key")).to_have_count(1)
    expect(owner.get_by_test_id("new-key")).to_have_count(0)
    owner_key_id = key_rows(owner, "owner key").get_by_test_id("key-id").inner_text()

    # -- invitations, by email; a reload of the page after the form sends nothing again ---
    for email, role in ((dev_email, "developer"), (viewer_email, "viewer")):
        invite = owner.get_by_test_id("invite-form")
        invite.get_by_label("Invite by email").fill(email)
        invite.get_by_label("Role").select_option(role)
        invite.get_by_role("button", name="Invite").click()
        expect(owner.get_by_test_id("invite-emailed")).to_contain_text(email)
        expect(owner.get_by_test_id("invite-link")).to_have_count(0)  # mailed, not shown
        owner.reload()
        invited = owner.get_by_test_id("invitations-table").locator("tr").filter(has_text=email)
        expect(invited).to_have_count(1)
    screenshot(owner, "walk-owner-invited")
    mailbox.wait_for(dev_email)
    assert len(mailbox.messages_to(dev_email)) == 1  # the reload sent no second mail

    developer, viewer = people.new(), people.new()
    joining = [(developer, dev_email, "developer"), (viewer, viewer_email, "viewer")]
    for page, email, role in joining:
        accept_invitation(page, walk_server, mailed_link(mailbox, email, "/invite/"), role)

    # -- the viewer: no key list, and every key action tried directly is refused ----------
    expect(viewer.get_by_test_id("keys-hidden")).to_be_visible()
    expect(viewer.get_by_test_id("keys-table")).to_have_count(0)
    expect(viewer.get_by_test_id("generate-form")).to_have_count(0)
    # No key's visible part either (the audit log, which viewers read, names keys by id).
    assert "bgone_live_" not in viewer.content()
    screenshot(viewer, "walk-viewer")
    csrf = csrf_of(viewer)
    for path, form_data in [
        ("/account/keys", {"name": "sneaky", "environment": "production"}),
        (f"/account/keys/{owner_key_id}/revoke", {}),
        (f"/account/keys/{owner_key_id}/rotate", {"grace": "0"}),
    ]:
        refused = viewer.request.post(base + path, form={**form_data, "csrf_token": csrf})
        assert refused.status == 403, path
        assert "Your role in this account does not allow" in refused.text(), path
    # The key API answers to keys only, and a viewer can make none: the session is no key.
    for method, path in [("GET", "/api/keys"), ("DELETE", f"/api/keys/{owner_key_id}")]:
        answer = viewer.request.fetch(base + path, method=method)
        assert answer.status == 401, path
    assert httpx.get(base + "/v1/account", headers={"x-api-key": owner_secret}).status_code == 200

    # -- the developer: sees the owner's key, may not revoke it; revokes their own --------
    expect(key_rows(developer, "owner key")).to_have_count(1)
    expect(key_rows(developer, "owner key").get_by_role("button", name="Revoke")).to_have_count(0)
    refused = developer.request.post(
        base + f"/account/keys/{owner_key_id}/revoke", form={"csrf_token": csrf_of(developer)}
    )
    assert refused.status == 403 and "only the keys you created" in refused.text()
    form = developer.get_by_test_id("generate-form")
    form.get_by_label("Name").fill("dev key")
    form.get_by_role("button", name="Generate key").click()
    dev_secret = developer.get_by_test_id("new-key").inner_text().strip()
    assert httpx.get(base + "/v1/account", headers={"x-api-key": dev_secret}).status_code == 200
    # Nor through the API with their key (a remove key: a developer may make no other).
    by_api = httpx.delete(base + f"/api/keys/{owner_key_id}", headers={"x-api-key": dev_secret})
    assert by_api.status_code == 403 and by_api.json()["errors"][0]["code"] == "insufficient_role"
    developer.once("dialog", lambda dialog: dialog.accept())
    key_rows(developer, "dev key").get_by_role("button", name="Revoke").click()
    expect(key_rows(developer, "dev key")).to_contain_text("revoked")
    assert httpx.get(base + "/v1/account", headers={"x-api-key": dev_secret}).status_code == 401
    with transaction(walk_stack.sessions) as session:
        owners_key = api_keys.get_key(session, account_id, owner_key_id)
    assert owners_key.revoked_at is None
    screenshot(developer, "walk-developer")

    # -- the owner removes the developer: their open session ends at once -----------------
    owner.reload()
    row = owner.get_by_test_id("members-table").locator("tbody tr").filter(has_text=dev_email)
    owner.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Remove").click()
    expect(owner.get_by_role("status").filter(has_text="Member removed")).to_be_visible()
    developer.goto(base + "/account")
    developer.wait_for_url(re.compile(r"/login"))

    # -- the viewer forgets their password and resets it by the mailed link ---------------
    viewer.context.clear_cookies()
    viewer.goto(base + "/forgot-password")
    viewer.get_by_label("Email").fill(viewer_email)
    viewer.get_by_role("button", name="Send me a reset link").click()
    expect(viewer.get_by_test_id("reset-sent")).to_be_visible()
    reset = mailed_link(mailbox, viewer_email, "/reset-password?", count=2)
    viewer.goto(local(walk_server, reset))
    viewer.get_by_label("New password").fill(NEW_PASSWORD)
    viewer.get_by_role("button", name="Set password").click()
    viewer.wait_for_url(re.compile(r"/login\?reset=done"))
    log_in(viewer, walk_server, viewer_email, NEW_PASSWORD)
    viewer.wait_for_url(re.compile(r"/account$"))
    expect(viewer.get_by_test_id("my-role")).to_have_text("viewer")
