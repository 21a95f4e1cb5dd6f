"""Account owners in a real browser: sign up, keys, rotation, revocation, isolation, CSRF."""

from __future__ import annotations

import re
import secrets

import httpx
from playwright.sync_api import Browser, Page, expect

from bgone.db.engine import transaction
from bgone.domain import accounts
from bgone.security.passwords import hash_password
from tests.integration.browser.conftest import screenshot, watched_context
from tests.support.error_bodies import code_of
from tests.support.imagegen import encode, gradient_rgb, open_bytes
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")
PASSWORD = "a long enough password"


def remove_with(server: Server, key: str) -> httpx.Response:
    return httpx.post(
        server.base_url + "/v2",
        headers={"x-api-key": key},
        files={"image_file": ("a.png", SMALL_PNG)},
        timeout=60,
    )


def sign_up(page: Page, server: Server) -> str:
    email = f"owner-{secrets.token_hex(4)}@example.com"
    page.goto(server.base_url + "/signup")
    screenshot(page, "signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r"/account"))
    return email


def generate_key(page: Page, name: str, environment: str = "production") -> str:
    form = page.get_by_test_id("generate-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Environment").select_option(environment)
    form.get_by_role("button", name="Generate key").click()
    key = page.get_by_test_id("new-key").inner_text().strip()
    assert key.startswith("bgone_live_" if environment == "production" else "bgone_test_")
    return key


def key_row(page: Page, name: str, state: str | None = None):  # type: ignore[no-untyped-def]
    rows = page.get_by_test_id("keys-table").locator("tbody tr").filter(has_text=name)
    return rows.filter(has_text=state) if state else rows


def test_sign_up_generate_use_and_revoke(page: Page, web_server: Server) -> None:
    sign_up(page, web_server)
    page.goto(web_server.base_url + "/")
    page.get_by_label("Profile menu").click()
    page.get_by_role("menuitem", name="My account").click()
    page.wait_for_url(re.compile(r"/account$"))
    page.goto(web_server.base_url + "/account#api-access")
    expect(page.get_by_test_id("plan")).to_have_text("Business")
    screenshot(page, "account")

    key = generate_key(page, "shop backend")
    expect(page.get_by_text("will not be shown again")).to_be_visible()
    screenshot(page, "account-new-key")
    response = remove_with(web_server, key)
    assert response.status_code == 200
    assert open_bytes(response.content).mode == "RGBA"
    for _ in range(2):
        assert remove_with(web_server, key).status_code == 200

    page.goto(web_server.base_url + "/account")
    expect(page.get_by_test_id("credits-left")).to_have_text("997")
    bars = page.locator("[data-testid=usage-chart] rect.bar")
    assert max(int(b.get_attribute("data-requests") or 0) for b in bars.all()) >= 3
    screenshot(page, "account-with-usage")
    page.goto(web_server.base_url + "/account#api-access")
    assert key not in page.content()  # shown once, never again
    row = key_row(page, "shop backend")
    expect(row.get_by_text("127.0.0.1")).to_be_visible()  # last used from
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    page.wait_for_url(re.compile(r"revoked="))
    expect(key_row(page, "shop backend", "revoked")).to_have_count(1)
    screenshot(page, "account-revoked")
    refused = remove_with(web_server, key)
    assert refused.status_code == 401
    assert code_of(refused) == "revoked_api_key"
    expect(page.get_by_test_id("audit-log")).to_contain_text("key revoked")


def test_rotation_with_grace_keeps_both_keys_working(page: Page, web_server: Server) -> None:
    sign_up(page, web_server)
    page.goto(web_server.base_url + "/account#api-access")
    old = generate_key(page, "worker")
    row = key_row(page, "worker", "active")
    row.get_by_label("Grace period").select_option("1h")
    row.get_by_role("button", name="Rotate").click()
    new = page.get_by_test_id("new-key").inner_text().strip()
    assert new != old
    expect(page.get_by_test_id("new-key-panel")).to_contain_text("keeps working for 1h")
    expect(key_row(page, "worker")).to_have_count(2)
    expect(key_row(page, "worker", "rotating")).to_have_count(1)
    expect(key_row(page, "worker", "active")).to_have_count(1)
    screenshot(page, "account-rotated")
    assert remove_with(web_server, old).status_code == 200
    assert remove_with(web_server, new).status_code == 200


def test_starter_account_sees_no_generate_button(
    page: Page, web_server: Server, web_stack: Stack
) -> None:
    email = f"starter-{secrets.token_hex(4)}@example.com"
    with transaction(web_stack.sessions) as session:
        accounts.create_account(session, email, "starter", hash_password(PASSWORD))
    page.goto(web_server.base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/account"))
    page.goto(web_server.base_url + "/account#api-access")
    expect(page.get_by_test_id("no-api-access")).to_be_visible()
    expect(page.get_by_role("button", name="Generate key")).to_have_count(0)
    expect(page.get_by_test_id("no-api-access")).to_contain_text("Business")
    screenshot(page, "account-starter")


def test_other_accounts_keys_are_unreachable(
    page: Page, web_server: Server, web_stack: Stack
) -> None:
    other_account = web_stack.account("business")
    other_key = web_stack.key(other_account)
    other_id = httpx.get(
        web_server.base_url + "/api/keys", headers={"x-api-key": other_key}
    ).json()["data"][0]["id"]
    sign_up(page, web_server)
    page.goto(web_server.base_url + "/account#api-access")
    generate_key(page, "mine")
    assert other_id not in page.content()
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    # Through the page's own forms, with a valid session and CSRF token.
    for action in ("revoke", "rotate"):
        response = page.request.post(
            web_server.base_url + f"/account/keys/{other_id}/{action}",
            form={"csrf_token": csrf or ""},
        )
        assert response.status == 404
    # The management API takes a production key only: the session cookie is no key.
    listed = page.request.get(web_server.base_url + "/api/keys")
    assert listed.status == 401 and other_id not in listed.text()
    assert remove_with(web_server, other_key).status_code == 200  # untouched


def test_form_post_without_csrf_token_is_refused(page: Page, web_server: Server) -> None:
    sign_up(page, web_server)
    response = page.request.post(
        web_server.base_url + "/account/keys", form={"name": "sneaky", "environment": "production"}
    )
    assert response.status == 403
    assert "security token" in response.text()
    page.goto(web_server.base_url + "/account#api-access")
    expect(key_row(page, "sneaky")).to_have_count(0)
    with_session_only = page.request.post(web_server.base_url + "/api/keys", data={"name": "x"})
    assert with_session_only.status == 401
    assert with_session_only.json()["errors"][0]["code"] == "missing_api_key"


def test_login_errors_and_throttle(page: Page, web_server: Server) -> None:
    email = sign_up(page, web_server)
    page.get_by_label("Profile menu").click()
    page.get_by_role("menuitem", name="Log out").click()
    page.wait_for_url(web_server.base_url + "/")
    messages = []
    for attempt_email in (email, "nobody-" + email):
        page.goto(web_server.base_url + "/login")
        page.get_by_label("Email").fill(attempt_email)
        page.get_by_label("Password").fill("wrong password!")
        page.get_by_role("button", name="Log in").click()
        messages.append(page.get_by_role("alert").inner_text())
    assert messages[0] == messages[1]  # unknown email and wrong password look the same
    screenshot(page, "login-error")
    for _ in range(4):
        page.get_by_label("Password").fill("wrong password!")
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many attempts")
    screenshot(page, "login-throttled")


def test_phone_width_is_readable(
    browser: Browser, web_server: Server, policy_violations: list[str]
) -> None:
    context = watched_context(
        browser, policy_violations, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    sign_up(page, web_server)
    page.goto(web_server.base_url + "/account#api-access")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1  # nothing wider than the phone
    screenshot(page, "account-phone")
    context.close()
