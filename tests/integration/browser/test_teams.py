"""Teams in a real browser: a person in two accounts switches from the profile menu, and an
owner changes a member's role and removes them from the members section."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Page, expect

from bgone.db.engine import transaction
from bgone.domain import accounts, members, users, web_sessions
from bgone.domain.members import MemberChange
from bgone.domain.roles import EVERYTHING, Role
from bgone.domain.web_sessions import COOKIE_NAME
from bgone.security.passwords import hash_password
from tests.integration.browser.conftest import screenshot
from tests.support.stack import Server, Stack
from tests.support.teams import role_in

PASSWORD = "a long enough password"


def signed_in(page: Page, server: Server, stack: Stack, user_id: int, account_id: int) -> None:
    """A session cookie for the person, set in the browser: logging in through the form
    would share the login throttle's per-address bucket with the other browser tests."""
    with transaction(stack.sessions) as session:
        token, _ = web_sessions.start_session(session, account_id, None, user_id=user_id)
    page.context.add_cookies([{"name": COOKIE_NAME, "value": token, "url": server.base_url}])
    page.goto(server.base_url + "/account")


def test_switch_accounts_change_a_role_and_remove_a_member(
    page: Page, web_server: Server, web_stack: Stack
) -> None:
    tag = secrets.token_hex(4)
    with transaction(web_stack.sessions) as session:
        own = accounts.create_account(
            session, f"me-{tag}@example.com", "business", hash_password(PASSWORD)
        )
        team = accounts.create_account(session, f"team-{tag}@example.com", "business")
        me = users.get_by_email(session, f"me-{tag}@example.com")
        assert me is not None
        colleague = users.create_user(session, f"colleague-{tag}@example.com")
        change = MemberChange(team.id, EVERYTHING, "tests")
        members.add_member(session, change, me.id, Role.OWNER)
        members.add_member(session, change, colleague.id, Role.VIEWER)

    signed_in(page, web_server, web_stack, me.id, own.id)
    expect(page.locator("p.muted").first).to_contain_text(own.email)
    page.get_by_label("Profile menu").click()
    page.get_by_label("Switch account").select_option(str(team.id))
    page.wait_for_url(re.compile(r"/account"))
    expect(page.locator("p.muted").first).to_contain_text(team.email)
    screenshot(page, "account-members")

    row = page.get_by_test_id("members-table").locator("tbody tr").filter(has_text="colleague-")
    row.get_by_label(re.compile("Role of")).select_option("developer")
    row.get_by_role("button", name="Change").click()
    page.wait_for_url(re.compile(r"role=developer"))
    assert role_in(web_stack, team.id, colleague.id) is Role.DEVELOPER

    row = page.get_by_test_id("members-table").locator("tbody tr").filter(has_text="colleague-")
    row.get_by_label("also revoke the keys they created").check()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Remove").click()
    page.wait_for_url(re.compile(r"removed="))
    expect(page.get_by_role("status")).to_contain_text("Member removed")
    assert role_in(web_stack, team.id, colleague.id) is None
    expect(page.get_by_test_id("members-table")).not_to_contain_text("colleague-")
