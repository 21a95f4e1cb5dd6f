"""Every response carries the browser security headers: pages, static files, JSON, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.inprocess import in_process_app

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
PATHS = ["/", "/login", "/signup", "/docs", "/docs/api", "/playground", "/static/app.js"]
API_PATHS = ["/v2/health", "/v1/account", "/no-such-page"]


@pytest.mark.parametrize("path", PATHS + API_PATHS)
def test_each_response_has_the_policy_and_nosniff(tmp_path: Path, path: str) -> None:
    with in_process_app(tmp_path) as app:
        response = app.client.get(path, follow_redirects=False)
    assert response.headers["content-security-policy"] == POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers


def test_strict_transport_security_only_with_secure_cookies(tmp_path: Path) -> None:
    with in_process_app(tmp_path, secure_cookies=True) as app:
        response = app.client.get("/login")
    assert response.headers["strict-transport-security"] == "max-age=31536000"


def test_pages_carry_no_inline_style_or_script(tmp_path: Path) -> None:
    """What the policy would block, looked for in the markup of the pages anyone can see
    (the browser tests watch the signed-in pages for violations)."""
    with in_process_app(tmp_path) as app:
        for path in PATHS[:-1]:
            page = app.client.get(path).text
            assert " style=" not in page and "<style" not in page, path
            assert "javascript:" not in page and " onclick=" not in page, path
