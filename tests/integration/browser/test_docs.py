"""The docs in a real browser: readable signed out, nothing fetched from outside, and the
web-proxy example doing a real cut-out without the key ever reaching the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.integration.browser.conftest import screenshot
from tests.support.proxy import Proxy, running_proxy
from tests.support.stack import Server, Stack

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def is_local(url: str) -> bool:
    if url.startswith("data:"):
        return True
    # blob: URLs carry the origin that made them (here, the cut-out from a fetch).
    return urlsplit(url.removeprefix("blob:")).hostname in LOCAL_HOSTS


@pytest.fixture()
def requested(page: Page) -> Iterator[list[str]]:
    """Every URL the page asks for; checked after the test to be on this machine only."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    yield urls
    outside = [url for url in urls if not is_local(url)]
    assert not outside, f"requests left the machine: {outside}"


def test_overview(page: Page, web_server: Server, requested: list[str]) -> None:
    page.goto(web_server.base_url + "/docs")
    expect(page.get_by_role("heading", name="bgone documentation")).to_be_visible()
    # Each endpoint's example shows as curl first (the other languages are tabs).
    expect(page.get_by_test_id("snippet-ex-v1-remove-bg-curl")).to_contain_text("/v1/remove-bg")
    expect(page.get_by_test_id("snippet-ex-v1-0-removebg-curl")).to_contain_text("/v1.0/removebg")
    nav = page.get_by_role("navigation", name="Documentation")
    expect(nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    screenshot(page, "docs-overview")
    nav.get_by_role("link", name="Authentication").click()
    expect(page).to_have_url(web_server.base_url + "/docs/authentication")
    assert requested


def test_language_tabs_switch_every_example_under_the_policy(
    page: Page, web_server: Server, requested: list[str]
) -> None:
    """The tabs are app.js's (no inline script): one click shows that language everywhere."""
    page.goto(web_server.base_url + "/docs")
    slugs = ("v2", "v1-remove-bg", "v1-0-removebg")
    for slug in slugs:
        expect(page.get_by_test_id(f"tab-ex-{slug}-curl")).to_have_attribute(
            "aria-selected", "true"
        )
        expect(page.get_by_test_id(f"snippet-ex-{slug}-curl")).to_be_visible()
        expect(page.get_by_test_id(f"snippet-ex-{slug}-php")).to_be_hidden()
    page.get_by_test_id("tab-ex-v1-remove-bg-php").click()
    for slug in slugs:
        expect(page.get_by_test_id(f"tab-ex-{slug}-php")).to_have_attribute("aria-selected", "true")
        expect(page.get_by_test_id(f"snippet-ex-{slug}-php")).to_be_visible()
        expect(page.get_by_test_id(f"snippet-ex-{slug}-php")).to_contain_text("new CURLFile(")
        expect(page.get_by_test_id(f"snippet-ex-{slug}-curl")).to_be_hidden()
    # The keyboard moves along the tabs too.
    page.get_by_test_id("tab-ex-v2-php").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_test_id("snippet-ex-v2-node")).to_be_visible()
    expect(page.get_by_test_id("snippet-ex-v2-node")).to_contain_text("process.env.BGONE_API_KEY")
    page.get_by_test_id("snippets-ex-v2").scroll_into_view_if_needed()
    screenshot(page, "docs-snippets", full_page=False)


def test_authentication_guide(page: Page, web_server: Server, requested: list[str]) -> None:
    page.goto(web_server.base_url + "/docs/authentication")
    expect(page.get_by_role("heading", name="Authentication and errors")).to_be_visible()
    missing = page.locator("#missing-api-key pre")
    expect(missing).to_contain_text("HTTP/1.1 401 Unauthorized")
    expect(missing).to_contain_text('"code": "missing_api_key"')
    expect(page.locator("#rate-limit-exceeded pre")).to_contain_text("Retry-After:")
    for status in (401, 402, 403, 413, 415, 429, 503):
        expect(page.locator(f"#status-{status} h3")).to_be_visible()
    expect(page.get_by_role("heading", name="Rotating a key")).to_be_visible()
    screenshot(page, "docs-authentication")


def test_web_integration(page: Page, web_server: Server, requested: list[str]) -> None:
    page.goto(web_server.base_url + "/docs/web-integration")
    expect(
        page.get_by_role("heading", name="Why the browser must never hold the key")
    ).to_be_visible()
    server_py = page.locator("#file-server-py pre")
    expect(server_py).to_contain_text('os.environ.get("BGONE_API_KEY"')
    expect(page.locator("#file-index-html pre")).to_contain_text('<input type="file"')
    screenshot(page, "docs-web-integration")


def test_api_reference(page: Page, web_server: Server, requested: list[str]) -> None:
    page.goto(web_server.base_url + "/docs/api")
    v2 = page.locator("#post-v2")
    expect(v2.locator(".docs-path")).to_have_text("/v2")
    expect(v2).to_contain_text("x-api-key: YOUR_KEY")
    expect(v2.locator("summary").filter(has_text="multipart/form-data")).to_be_visible()
    expect(v2.locator("td").filter(has_text="image_file").first).to_be_visible()
    expect(v2.locator(".docs-responses")).to_contain_text("rate_limit_exceeded")
    expect(page.locator("#get-v1-account")).to_be_visible()
    expect(page.locator("#delete-api-keys-key-id")).to_contain_text("/api/keys/{key_id}")
    screenshot(page, "docs-api")


def test_docs_fit_a_phone(page: Page, web_server: Server, requested: list[str]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/docs", "/docs/authentication", "/docs/web-integration", "/docs/api"):
        page.goto(web_server.base_url + path)
        # Long code and tables scroll inside their boxes; the page itself never scrolls sideways.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    screenshot(page, "docs-api-phone", full_page=False)


@pytest.fixture()
def proxy(web_stack: Stack, web_server: Server, tmp_path: Path) -> Iterator[tuple[Proxy, str]]:
    key = web_stack.key(web_stack.account("business"))
    with running_proxy(key, web_server.base_url, tmp_path) as running:
        yield running, key


def test_proxy_example_page_cuts_out_a_photo(
    page: Page, proxy: tuple[Proxy, str], datasets: Path, requested: list[str]
) -> None:
    running, key = proxy
    seen_by_browser: list[str] = []

    def inspect(request: Request) -> None:
        seen_by_browser.append(request.url + str(request.headers) + str(request.post_data_buffer))

    page.on("request", inspect)
    page.goto(running.base_url + "/")
    assert key not in page.content()
    page.locator("#image").set_input_files(datasets / "ecssd50" / "images" / "0001.jpg")
    page.get_by_role("button", name="Remove background").click()
    expect(page.locator("#status")).to_have_text("Done.", timeout=60_000)
    page.wait_for_function(
        "document.getElementById('result').complete && "
        "document.getElementById('result').naturalWidth > 0"
    )
    size = page.evaluate(
        "[document.getElementById('result').naturalWidth,"
        " document.getElementById('result').naturalHeight]"
    )
    assert size == [267, 400]
    assert all(key not in seen for seen in seen_by_browser)
    assert any(url.endswith("/cutout") for url in requested)
    screenshot(page, "docs-web-proxy-example")
