"""Every page under the Content-Security-Policy, in a real browser: served with it, working
with it (the `page` fixture fails a test on any violation), and never shown in a frame."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from bgone.server.security_headers import CONTENT_SECURITY_POLICY
from tests.integration.browser.conftest import screenshot
from tests.integration.browser.test_dashboard import sign_up
from tests.support.stack import Server

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SIGNED_OUT = ["/", "/login", "/signup", "/docs", "/docs/authentication", "/docs/web-integration"]
SIGNED_OUT += ["/docs/api", "/playground"]
SIGNED_IN = ["/account", "/playground", "/docs"]


def visit(page: Page, server: Server, path: str) -> None:
    response = page.goto(server.base_url + path)
    assert response is not None and response.status == 200, path
    headers = response.headers
    assert headers["content-security-policy"] == POLICY, path
    assert headers["x-content-type-options"] == "nosniff", path
    assert headers["referrer-policy"] == "same-origin", path
    page.wait_for_load_state("networkidle")


def test_the_served_policy_is_the_one_asked_for() -> None:
    assert CONTENT_SECURITY_POLICY == POLICY


def test_every_page_works_under_the_policy(page: Page, web_server: Server) -> None:
    for path in SIGNED_OUT:
        visit(page, web_server, path)
    sign_up(page, web_server)
    for path in SIGNED_IN:
        visit(page, web_server, path)
    # The usage chart and its legend are styled from the stylesheet, not inline.
    page.goto(web_server.base_url + "/account")
    swatch = page.locator(".legend .swatch").first
    assert swatch.evaluate("element => getComputedStyle(element).backgroundColor") != (
        "rgba(0, 0, 0, 0)"
    )
    screenshot(page, "account-under-policy")


def test_the_error_page_works_under_the_policy(page: Page, web_server: Server) -> None:
    """A form sent with a spoilt security token: the dashboard's error page, and its way back."""
    sign_up(page, web_server)
    page.goto(web_server.base_url + "/account#api-access")
    form = page.get_by_test_id("generate-form")
    form.locator("input[name=csrf_token]").evaluate("input => { input.value = 'spoilt'; }")
    form.get_by_label("Name").fill("never made")
    form.get_by_role("button", name="Generate key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Form expired")
    screenshot(page, "error-under-policy")
    page.get_by_role("link", name="Go back").click()
    page.wait_for_url(web_server.base_url + "/account#api-access")


def test_no_page_can_be_framed(browser: Browser, web_server: Server) -> None:
    context = browser.new_context()
    framing = context.new_page()
    refused: list[str] = []
    framing.on("console", lambda message: refused.append(message.text))
    framing.set_content(f'<iframe src="{web_server.base_url}/login"></iframe>')
    framing.wait_for_timeout(1000)
    frame = framing.frames[1]
    assert frame.url != web_server.base_url + "/login" or not frame.locator("form").count()
    assert any("frame-ancestors" in text for text in refused), refused
    context.close()
