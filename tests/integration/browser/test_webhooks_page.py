"""The Webhooks page in Chromium at a phone's width: add an endpoint, copy its secret (shown
once), the delivery log with Redeliver; nothing wider than the screen, no CSP violation."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from bgone.db.engine import transaction
from bgone.domain import webhook_deliveries
from bgone.domain.clock import utc_now
from tests.integration.browser.conftest import screenshot, watched_context
from tests.integration.browser.test_dashboard import sign_up
from tests.support.stack import Server, Stack


def test_webhooks_at_phone_width(
    browser: Browser, web_server: Server, web_stack: Stack, policy_violations: list[str]
) -> None:
    context = watched_context(
        browser, policy_violations, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_up(page, web_server)
    page.goto(web_server.base_url + "/account/webhooks")
    form = page.get_by_test_id("new-endpoint-form")
    form.get_by_label("URL").fill("https://hooks.example.com/bgone")
    form.get_by_label("key.revoked").check()
    form.get_by_label("job.completed").check()
    form.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_test_id("webhook-secret").inner_text().strip()
    assert secret.startswith("whsec_")
    endpoint = page.get_by_test_id("endpoint")
    endpoint_id = endpoint.get_attribute("data-endpoint-id")
    assert endpoint_id and re.fullmatch(r"whe_\w+", endpoint_id)

    with transaction(web_stack.sessions) as session:
        webhook_deliveries.create(session, endpoint_id, "msg_b", "key.revoked", "{}", utc_now())
    page.reload()
    expect(page.get_by_test_id("webhook-secret")).to_have_count(0)  # shown once
    log = page.get_by_test_id("delivery-log")
    expect(log.locator("tr[data-delivery-id]")).to_have_count(1)
    log.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_test_id("delivery-log").locator("tr[data-delivery-id]")).to_have_count(2)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1  # nothing wider than the phone
    screenshot(page, "webhooks-phone")
    context.close()
