"""The docs pages over real HTTP: signed out, escaped, complete, with no outside assets."""

from __future__ import annotations

import re

import httpx
import pytest

from bgone.web.docs_guides import example_files
from tests.support.proxy import EXAMPLE_DIR
from tests.support.stack import Server

PAGES = (
    "/docs",
    "/docs/authentication",
    "/docs/web-integration",
    "/docs/leaked-keys",
    "/docs/webhooks",
    "/docs/api",
)


def get(server: Server, path: str) -> httpx.Response:
    response = httpx.get(server.base_url + path, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_the_nav_and_only_local_assets(server: Server, path: str) -> None:
    html = get(server, path).text
    for href in PAGES:
        assert f'href="{href}"' in html
    assert 'aria-current="page"' in html
    assert "/static/docs.css" in html
    # Every asset and link is on this server (or a fragment); no CDN, no outside script.
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#", server.base_url)), url


def test_docs_css_is_served(server: Server) -> None:
    response = httpx.get(server.base_url + "/static/docs.css", timeout=10)
    assert response.status_code == 200 and ".docs-nav" in response.text


def test_overview_has_the_three_quick_start_calls(server: Server) -> None:
    html = get(server, "/docs").text
    for call in (f"{server.base_url}/v2", "/v1/remove-bg", "/v1.0/removebg"):
        assert call in html
    # Each in every language (tests/integration/web/test_snippets_run.py runs them).
    assert "-F &#34;image_file=@photo.jpg&#34;" in html
    for language in ("curl", "python", "requests", "node", "php"):
        assert f'data-testid="snippet-ex-v2-{language}"' in html


def test_authentication_guide(server: Server) -> None:
    html = get(server, "/docs/authentication").text
    assert "x-api-key" in html and "Authorization: Bearer" in html
    for code in (
        "missing_api_key",
        "invalid_api_key",
        "revoked_api_key",
        "expired_api_key",
        "insufficient_credits",
        "plan_without_api_access",
        "file_too_large",
        "invalid_file_type",
        "rate_limit_exceeded",
        "server_busy",
    ):
        assert f'id="{code.replace("_", "-")}"' in html, code
    # Example bodies are escaped JSON with the real shape.
    assert "HTTP/1.1 401 Unauthorized" in html
    assert "&#34;code&#34;: &#34;missing_api_key&#34;" in html
    assert "Retry-After: 12" in html
    for advice in ("bgone_live_", "bgone_test_", "secrets manager", "grace", "last used"):
        assert advice in html, advice


def test_web_integration_shows_the_actual_example_files(server: Server) -> None:
    html = get(server, "/docs/web-integration").text
    files = example_files()
    assert [file.name for file in files] == ["server.py", "index.html", "README.md"]
    for file in files:
        on_disk = (EXAMPLE_DIR / file.name).read_text(encoding="utf-8")
        assert file.text == on_disk
        # Shown escaped, whole: the HTML page's own markup is text here, not markup.
        escaped = (
            on_disk.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&#34;")
            .replace("'", "&#39;")
        )
        assert escaped in html, file.name
    assert "<script>\n    const form" not in html  # the example's script is not executed here


def test_api_reference_is_generated_from_the_document(server: Server) -> None:
    document = httpx.get(server.base_url + "/openapi.json", timeout=10).json()
    html = get(server, "/docs/api").text
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert f'id="{method}-' in html
            assert path in html, path
            assert operation["summary"].replace("'", "&#39;") in html
    for text in (
        "header <code>x-api-key: YOUR_KEY</code>",
        "<code>multipart/form-data</code>",
        "<code>image_base64</code>",
        "<code>preview</code>",
        "X-Foreground-Top",
        "X-Credits-Charged",
        "RateLimit-Policy",
        "<code>rate_limit_exceeded</code>",
    ):
        assert text in html, text
    for status in ("200", "400", "401", "402", "403", "413", "415", "429", "503"):
        assert f'status-{status[0]}xx">{status}</span>' in html
