"""A real headless Chromium (Debian's, driven by Playwright) against a real `bgone serve`.

Every test saves screenshots of the pages it visits under test-output/screenshots/, and
fails if any page it visits breaks the server's Content-Security-Policy: what the policy
blocks (an inline style, an inline script) would be missing for every user.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)

from tests.support.environment import REPO, require
from tests.support.servers import server_fixtures

CHROMIUM = os.environ.get("BGONE_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = REPO / "test-output" / "screenshots"
# Flags for a closed network: no background fetches that would fail and slow things down.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, which would break asyncio.run() in tests collected after these.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    launched = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield launched
    launched.close()


# Reports each violation of the policy to the test, from inside every page and frame.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.bgoneReportViolation(
    `${event.violatedDirective} refused ${event.blockedURI || "inline"}`
      + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`
  );
});
"""


@pytest.fixture()
def policy_violations() -> Iterator[list[str]]:
    """Every Content-Security-Policy violation of the test's pages; any fails the test."""
    seen: list[str] = []
    yield seen
    assert not seen, "Content-Security-Policy violations:\n" + "\n".join(seen)


def watched_context(browser: Browser, violations: list[str], **options: object) -> BrowserContext:
    """A browser context whose pages report policy violations: the page's own event, and
    Chromium's console error (which also covers what no page sees, such as a refused frame)."""
    context = browser.new_context(**options)  # type: ignore[arg-type]
    context.expose_binding(
        "bgoneReportViolation", lambda source, text: violations.append(f"{text} (event)")
    )
    context.add_init_script(REPORT_VIOLATIONS)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            where = message.page.url if message.page else "?"
            violations.append(f"{message.text[:160]} (console, {where})")

    context.on("console", on_console)
    return context


@pytest.fixture()
def page(browser: Browser, policy_violations: list[str]) -> Iterator[Page]:
    context = watched_context(browser, policy_violations, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    yield opened
    context.close()


# New sign-ups land on Business, so the API-access flows can run end to end.
web_stack, web_server = server_fixtures("web", scope="session", signup_plan="business")


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
