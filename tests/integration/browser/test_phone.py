"""Every customer-facing page on a phone (390 x 844, real Chromium): nothing wider than the
screen (`scrollWidth` <= 390), every action button on screen and the topmost thing at its
centre (so a tap reaches it), and the usage chart's text at least 11 px as rendered.

The account page is filled the way a busy team's is: keys of two members (one expiring
soon), usage, members, an open invitation, a leaked-key banner, sessions and the owners'
card; the keys table's Rotate and Revoke must be among the buttons checked.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page

from bgone.db.engine import transaction
from bgone.domain import (
    accounts,
    api_keys,
    invitations,
    members,
    two_factor,
    users,
    web_sessions,
)
from bgone.domain.members import MemberChange
from bgone.domain.roles import EVERYTHING, Role
from bgone.domain.web_sessions import COOKIE_NAME
from bgone.security.hashing import load_secret_ring
from bgone.security.passwords import hash_password
from tests.integration.browser.conftest import screenshot, watched_context
from tests.integration.browser.test_dashboard import remove_with
from tests.support.servers import server_fixtures
from tests.support.stack import Server, Stack

# A server of this module's own: its sign-ins never meet the per-address log-in limit that
# other modules' wrong passwords use up on the shared one.
web_stack, web_server = server_fixtures("web", signup_plan="business")

PHONE = {"width": 390, "height": 844}
MIN_CHART_TEXT_PX = 11

# Per rendered action (button, submit, a.button): its box, and whether a tap at its centre
# lands on it once it is scrolled to the middle of the screen.
ACTIONS = """
() => {
  const found = [];
  const actions = document.querySelectorAll(
    "button, input[type=submit], a.button, select, .snippet-tab");
  for (const element of actions) {
    // Not rendered: a closed menu's (content-visibility), a hidden tab's.
    if (!element.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true})) continue;
    element.scrollIntoView({block: "center", inline: "nearest"});
    const box = element.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    found.push({
      text: (element.innerText || element.value || element.getAttribute("aria-label") || "")
        .trim().slice(0, 40),
      left: box.left, right: box.right, width: box.width,
      reachable: !!hit && (hit === element || element.contains(hit)),
    });
  }
  return found;
}
"""

# What makes the page wide: from <body> down, the widest child that is itself too wide
# (an element that clips its overflow, such as a scrolling table wrapper, stops the walk).
WIDE_ELEMENTS = """
(limit) => {
  const path = [];
  let element = document.body;
  while (element) {
    const wide = [...element.children].filter(child =>
      child.getBoundingClientRect().right > limit + 0.5 || child.scrollWidth > limit + 0.5);
    if (!wide.length) break;
    element = wide[0];
    const style = getComputedStyle(element);
    path.push(`${element.tagName.toLowerCase()}.${element.className}` +
      ` (${element.getBoundingClientRect().width.toFixed(0)} px, overflow-x ${style.overflowX})`);
    if (style.overflowX !== "visible") break;
  }
  return path;
}
"""

# The chart's labels as rendered: the font size times the drawing's scale.
CHART_TEXT = """
() => [...document.querySelectorAll(".chart svg")]
  .filter(svg => svg.getClientRects().length)
  .flatMap(svg => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll("text")].map(text =>
      parseFloat(getComputedStyle(text).fontSize) * scale);
  })
"""


@dataclass(frozen=True)
class Busy:
    account_id: int
    owner_token: str
    invite_token: str


@pytest.fixture(scope="module")
def busy(web_stack: Stack, web_server: Server) -> Busy:
    tag = secrets.token_hex(4)
    ring = load_secret_ring(web_stack.settings)
    with transaction(web_stack.sessions) as session:
        account = accounts.create_account(
            session, f"phone-{tag}@example.com", "business", hash_password("a long password!")
        )
        owner = members.list_members(session, account.id)[0].user_id
        change = MemberChange(account.id, EVERYTHING, "tests")
        developer = users.create_user(session, f"a-rather-long-developer-name-{tag}@example.com")
        members.add_member(session, change, developer.id, Role.DEVELOPER)
        viewer = users.create_user(session, f"viewer-{tag}@example.com")
        members.add_member(session, change, viewer.id, Role.VIEWER)
        used = api_keys.create_key(
            session, account.id, "shop backend", "production", "tests", ring,
            created_by_user_id=owner,
        )  # fmt: skip
        api_keys.create_key(
            session, account.id, "nightly batch job with a long name", "staging", "tests", ring,
            expires_at=datetime.now(UTC) + timedelta(days=3), created_by_user_id=developer.id,
        )  # fmt: skip
        leaked = api_keys.create_key(session, account.id, "leaked", "production", "tests", ring)
        _, invite_token = invitations.create(
            session, change, f"invited-{tag}@example.com", Role.VIEWER
        )
        owner_token, _ = web_sessions.start_session(
            session, account.id, "203.0.113.9", user_id=owner
        )
    assert remove_with(web_server, used.secret).status_code == 200  # a bar in the chart
    reported = httpx.post(web_server.base_url + "/v1/keys/leaked", json=[leaked.secret])
    assert reported.status_code == 202  # the banner
    return Busy(account.id, owner_token, invite_token)


@pytest.fixture()
def phone(browser: Browser, policy_violations: list[str]) -> Iterator[Page]:
    context = watched_context(browser, policy_violations, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def check_page(page: Page, name: str) -> list[dict[str, object]]:
    """The phone checks on the page now open; its actions, for further assertions."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        culprits = page.evaluate(WIDE_ELEMENTS, PHONE["width"])
        raise AssertionError(f"{name}: {width} px wide; sticking out: {culprits}")
    actions: list[dict[str, object]] = page.evaluate(ACTIONS)
    for action in actions:
        where = f"{name}: {action['text']!r} at {action['left']:.0f}-{action['right']:.0f}"
        assert float(action["left"]) >= 0 and float(action["right"]) <= PHONE["width"], where  # type: ignore[arg-type]
        assert action["reachable"], f"{where} is covered"
    sizes: list[float] = page.evaluate(CHART_TEXT)
    assert all(size >= MIN_CHART_TEXT_PX for size in sizes), f"{name}: chart text {sizes}"
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"phone-{name}")
    return actions


SIGNED_OUT_PAGES = [
    "/",
    "/login",
    "/signup",
    "/forgot-password",
    "/reset-password?token=not-a-token",
    "/docs",
    "/docs/api",
    "/docs/authentication",
    "/docs/web-integration",
    "/docs/leaked-keys",
    "/docs/teams",
    "/playground",
]


@pytest.mark.parametrize("path", SIGNED_OUT_PAGES)
def test_signed_out_pages_fit_a_phone(phone: Page, web_server: Server, path: str) -> None:
    phone.goto(web_server.base_url + path)
    check_page(phone, path.strip("/").split("?")[0].replace("/", "-") or "landing")


def test_the_invitation_page_fits_a_phone(phone: Page, web_server: Server, busy: Busy) -> None:
    phone.goto(f"{web_server.base_url}/invite/{busy.invite_token}")
    check_page(phone, "invite")


def signed_in(page: Page, server: Server, busy: Busy) -> None:
    page.context.add_cookies(
        [{"name": COOKIE_NAME, "value": busy.owner_token, "url": server.base_url}]
    )


def test_a_busy_account_page_fits_a_phone(phone: Page, web_server: Server, busy: Busy) -> None:
    signed_in(phone, web_server, busy)
    phone.goto(web_server.base_url + "/account")
    assert phone.get_by_test_id("leak-banner").count() == 1
    assert phone.get_by_test_id("expiring-badge").count() == 1
    actions = check_page(phone, "account")
    labels = [str(action["text"]) for action in actions]
    assert labels.count("Rotate") >= 2 and labels.count("Revoke") >= 2, labels
    assert {"Remove", "Withdraw", "Invite", "Delete this account"} <= set(labels), labels
    sizes: list[float] = phone.evaluate(CHART_TEXT)
    assert sizes, "the chart has text"

    phone.get_by_label("Profile menu").click()  # the menu's own buttons, open
    check_page(phone, "account-menu")


@pytest.mark.parametrize("path", ["/account/two-factor", "/account#security"])
def test_signed_in_pages_fit_a_phone(
    phone: Page, web_server: Server, busy: Busy, path: str
) -> None:
    signed_in(phone, web_server, busy)
    phone.goto(web_server.base_url + path)
    check_page(phone, path.strip("/").replace("/", "-").replace("#", "-"))


def test_the_second_sign_in_step_fits_a_phone(
    phone: Page, web_stack: Stack, web_server: Server
) -> None:
    email = f"phone-2fa-{secrets.token_hex(4)}@example.com"
    with transaction(web_stack.sessions) as session:
        account = accounts.create_account(
            session, email, "business", hash_password("a long password!")
        )
        owner = members.list_members(session, account.id)[0].user_id
        secret = two_factor.start_enrolment(session, owner)
        assert two_factor.confirm(session, owner, pyotp.TOTP(secret).now())
    phone.goto(web_server.base_url + "/login")
    phone.get_by_label("Email").fill(email)
    phone.get_by_label("Password").fill("a long password!")
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_url(re.compile(r"/login/two-factor$"))
    check_page(phone, "login-two-factor")
