"""The operator's console in a real Chromium against a real `bgone serve` (its own server, so
that other tests' logins share no throttle with it): an operator finds an account by email,
changes its plan, grants credits, suspends it (the customer's API calls get 403 with the
reason, the dashboard shows it) and resumes it; a Starter customer requests Business, the
operator approves, the customer's new key works and the decision is mailed; a non-operator
gets 403 on every /admin route; every console page fits a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.routing import Route

from bgone.db.engine import transaction
from bgone.domain import operator_log
from bgone.domain.web_sessions import COOKIE_NAME
from bgone.web import admin_accounts, admin_pages
from tests.integration.browser.conftest import screenshot, watched_context
from tests.support.operators import Person, make_operator, person, sign_in
from tests.support.process import free_port
from tests.support.servers import server_fixtures
from tests.support.smtp import Mailbox, smtp_server
from tests.support.stack import Server, Stack

SMTP_PORT = free_port()
console_stack, console_server = server_fixtures(
    "console", smtp_url=f"smtp+plain://127.0.0.1:{SMTP_PORT}", signup_plan="starter"
)
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module", autouse=True)
def mailbox() -> Iterator[Mailbox]:
    with smtp_server(port=SMTP_PORT) as running:
        yield running


def as_person(page: Page, server: Server, stack: Stack, who: Person) -> str:
    """Signed in by cookie (the login form's throttle is per address); the CSRF token."""
    signed = sign_in(stack, who)
    page.context.add_cookies([{"name": COOKIE_NAME, "value": signed.token, "url": server.base_url}])
    return signed.csrf


def an_operator(page: Page, server: Server, stack: Stack) -> Person:
    operator = person(stack, tag="operator")
    make_operator(stack, operator)
    as_person(page, server, stack, operator)
    return operator


def account_call(server: Server, key: str) -> httpx.Response:
    return httpx.get(server.base_url + "/v1.0/account", headers={"X-Api-Key": key}, timeout=30)


def test_find_change_plan_grant_suspend_and_resume(
    page: Page,
    browser: Browser,
    policy_violations: list[str],
    console_server: Server,
    console_stack: Stack,
) -> None:
    customer = person(console_stack, "business", tag="customer")
    key = console_stack.key(customer.account_id)
    operator = an_operator(page, console_server, console_stack)

    page.goto(console_server.base_url + "/admin")
    page.get_by_label("Search accounts").fill(customer.email)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("account-count")).to_contain_text("1 account")
    page.get_by_role("link", name=customer.email).click()
    page.wait_for_url(re.compile(rf"/admin/accounts/{customer.account_id}$"))
    screenshot(page, "console-account")

    page.get_by_label("Plan", exact=True).select_option("enterprise")
    page.get_by_role("button", name="Change plan").click()
    expect(page.get_by_test_id("console-notice")).to_have_text("Plan changed.")
    expect(page.get_by_test_id("account-plan")).to_have_text("Enterprise")

    page.get_by_label("Credits to grant").fill("50")
    page.get_by_label("Reason for the grant").fill("launch week")
    page.get_by_role("button", name="Grant credits").click()
    expect(page.get_by_test_id("account-payg")).to_have_text("50")
    assert account_call(console_server, key).json()["data"]["attributes"]["credits"]["payg"] == 50

    page.get_by_label("Suspension reason").fill("invoice 42 unpaid")
    page.get_by_role("button", name="Suspend").click()
    expect(page.get_by_test_id("account-status")).to_have_text("suspended")
    refused = account_call(console_server, key)
    assert refused.status_code == 403, refused.text
    assert "account_suspended" in refused.text and "invoice 42 unpaid" in refused.text

    customer_context = watched_context(browser, policy_violations)
    customer_page = customer_context.new_page()
    as_person(customer_page, console_server, console_stack, customer)
    customer_page.goto(console_server.base_url + "/account")
    expect(customer_page.get_by_test_id("suspended")).to_contain_text("invoice 42 unpaid")
    screenshot(customer_page, "console-customer-suspended")

    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_test_id("account-status")).to_have_text("active")
    assert account_call(console_server, key).status_code == 200
    customer_page.reload()
    expect(customer_page.get_by_test_id("suspended")).to_have_count(0)
    customer_context.close()

    with transaction(console_stack.sessions) as session:
        logged = operator_log.recent(session, customer.account_id)
    assert [entry.action.value for entry in logged] == [
        "status_changed",
        "status_changed",
        "credits_granted",
        "plan_changed",
    ]
    assert {(entry.actor, entry.ip) for entry in logged} == {
        (f"console:{operator.email}", "127.0.0.1")
    }


def test_starter_requests_business_and_the_operator_approves(
    page: Page,
    browser: Browser,
    policy_violations: list[str],
    console_server: Server,
    console_stack: Stack,
    mailbox: Mailbox,
) -> None:
    customer = person(console_stack, "starter", tag="starter")
    customer_context = watched_context(browser, policy_violations)
    customer_page = customer_context.new_page()
    as_person(customer_page, console_server, console_stack, customer)
    customer_page.goto(console_server.base_url + "/account#api-access")
    form = customer_page.get_by_test_id("plan-request-form")
    form.get_by_label("Plan").select_option("business")
    form.get_by_label("What will you use the API for?").fill("product photos for our shop")
    form.get_by_role("button", name="Request API access").click()
    expect(customer_page.get_by_test_id("plan-request-status")).to_have_text("pending")
    screenshot(customer_page, "console-request-pending")

    an_operator(page, console_server, console_stack)
    page.goto(console_server.base_url + "/admin/requests")
    waiting = page.get_by_test_id("plan-request").filter(has_text=customer.email)
    expect(waiting).to_contain_text("product photos for our shop")
    waiting.get_by_label("Message to the customer").fill("Welcome to Business")
    waiting.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("console-notice")).to_contain_text("approved")

    mail = mailbox.wait_for(customer.email)
    assert "approved" in str(mail.message["Subject"])
    assert "Welcome to Business" in mail.message.get_content()

    customer_page.goto(console_server.base_url + "/account#api-access")
    expect(customer_page.get_by_test_id("plan-request-status")).to_have_text("approved")
    expect(customer_page.get_by_test_id("plan-request-answer")).to_have_text("Welcome to Business")
    generate = customer_page.get_by_test_id("generate-form")
    generate.get_by_label("Name").fill("shop")
    generate.get_by_role("button", name="Generate key").click()
    key = customer_page.get_by_test_id("new-key").inner_text().strip()
    answer = account_call(console_server, key)
    assert answer.status_code == 200, answer.text
    customer_context.close()


def admin_routes(account_id: int) -> list[tuple[str, str]]:
    found = []
    for route in [*admin_accounts.router.routes, *admin_pages.router.routes]:
        assert isinstance(route, Route)
        path = (
            route.path.replace("{account_id}", str(account_id))
            .replace("{key_id}", "key_0000000000000000")
            .replace("{request_id}", "1")
            .replace("{name}", "business")
        )
        found += [
            (method, path) for method in sorted(route.methods or ()) if method in ("GET", "POST")
        ]
    return found


def test_a_non_operator_gets_403_on_every_admin_route(
    page: Page, console_server: Server, console_stack: Stack
) -> None:
    customer = person(console_stack, "business", tag="not-operator")
    csrf = as_person(page, console_server, console_stack, customer)
    routes = admin_routes(customer.account_id)
    assert len(routes) >= 12
    for method, path in routes:
        if method == "GET":
            response = page.goto(console_server.base_url + path)
            assert response is not None and response.status == 403, (method, path)
            expect(page.locator("h1")).to_contain_text("Operators only")
        else:
            answer = page.request.post(
                console_server.base_url + path, form={"csrf_token": csrf}, max_redirects=0
            )
            assert answer.status == 403, (method, path, answer.status)
    screenshot(page, "console-forbidden")


def test_console_pages_fit_a_phone(
    browser: Browser, policy_violations: list[str], console_server: Server, console_stack: Stack
) -> None:
    context = watched_context(browser, policy_violations, viewport=PHONE)
    page = context.new_page()
    customer = person(console_stack, "starter", tag="phone")
    an_operator(page, console_server, console_stack)
    pages = {
        "/admin/accounts": "Search",
        f"/admin/accounts/{customer.account_id}": "Grant credits",
        "/admin/requests": None,
        "/admin/plans": "Save Business",
        "/admin/fleet": None,
        "/admin/log": None,
    }
    for path, button in pages.items():
        page.goto(console_server.base_url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        if button:
            target = page.get_by_role("button", name=button)
            target.scroll_into_view_if_needed()
            expect(target).to_be_visible()
            box = target.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        screenshot(page, "console-phone" + path.replace("/", "-"))
    for label in ("Change plan", "Suspend", "Save limits"):
        page.goto(console_server.base_url + f"/admin/accounts/{customer.account_id}")
        expect(page.get_by_role("button", name=label)).to_be_visible()
    context.close()
