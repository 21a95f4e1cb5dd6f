"""Teams in a real browser: a person in two accounts switches from the profile menu, and an
owner changes a member's role and removes them from the members section."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Page, expect

from bgone.db.engine import transaction
from bgone.domain import accounts, members, users
from bgone.domain.members import MemberChange
from bgone.domain.roles import EVERYTHING, Role
from bgone.security.passwords import hash_password
from tests.integration.browser.conftest import screenshot
from tests.support.stack import Server, Stack
from tests.support.teams import role_in

PASSWORD = "a long enough password"


def log_in(page: Page, server: Server, email: str) -> None:
    page.goto(server.base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/account"))


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

    log_in(page, web_server, f"me-{tag}@example.com")
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
