"""API keys sent from web pages, against real servers: refused with 403
browser_request_refused unless the page is this server's own (the playground) or an origin
the account allowed (set from the dashboard or the CLI), or the operator turned the check
off. Preflights answer every origin alike and leak nothing.
"""

from __future__ import annotations

import subprocess
import sys

import httpx

from bgone.api.browser import PROXY_GUIDE
from bgone.db.engine import transaction
from bgone.domain import accounts
from bgone.domain.web_sessions import COOKIE_NAME, start_session
from tests.support import error_bodies
from tests.support.error_bodies import error_of
from tests.support.imagegen import encode, gradient_rgb
from tests.support.invariants import Ledger, assert_invariants
from tests.support.servers import server_fixtures
from tests.support.stack import Server, Stack

EVIL = "https://evil.example"
TOOLS = "https://tools.example.com"
SMALL_PNG = encode(gradient_rgb(32, 24), "PNG")


abuse_browser_stack, abuse_browser_server = server_fixtures("abuse_browser")


def code_of(response: httpx.Response) -> str:
    return error_bodies.code_of(response)


def call(server: Server, method: str, path: str, key: str, origin: str | None) -> httpx.Response:
    headers = {"x-api-key": key, **({"origin": origin} if origin else {})}
    files = {"image_file": ("a.png", SMALL_PNG)} if method == "POST" else None
    return httpx.request(method, server.base_url + path, headers=headers, files=files, timeout=60)


ENDPOINTS = [("GET", "/v1/account"), ("GET", "/api/keys"), ("POST", "/v2")]


def test_a_key_from_a_foreign_page_is_refused_with_a_pointer_to_the_proxy_guide(
    abuse_browser_server: Server, abuse_browser_stack: Stack
) -> None:
    account_id = abuse_browser_stack.account("business")
    key = abuse_browser_stack.key(account_id)
    ledger = Ledger()
    for method, path in ENDPOINTS:
        for origin in (EVIL, "null", "http://127.0.0.1:1"):
            response = ledger.record(call(abuse_browser_server, method, path, key, origin))
            assert (response.status_code, code_of(response)) == (403, "browser_request_refused")
            assert PROXY_GUIDE in error_of(response).detail
            assert "access-control-allow-origin" not in response.headers
        # No Origin (a backend) and the server's own origin (the playground) are served.
        served: list[str | None] = [None, abuse_browser_server.base_url]
        for allowed in served:
            response = ledger.record(call(abuse_browser_server, method, path, key, allowed))
            assert response.status_code == 200, (method, path, allowed, response.text)
    assert_invariants(ledger, abuse_browser_stack.sessions, [account_id])


def test_preflights_answer_every_origin_alike_and_leak_nothing(
    abuse_browser_server: Server,
) -> None:
    answers = []
    for origin in (EVIL, TOOLS):
        response = httpx.options(
            abuse_browser_server.base_url + "/v2",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "x-api-key",
            },
        )
        assert response.status_code == 204 and response.content == b""
        assert response.headers["access-control-allow-origin"] == origin
        assert "access-control-allow-credentials" not in response.headers
        assert not [
            name for name in response.headers if name.startswith(("x-ratelimit", "ratelimit"))
        ]
        answers.append(
            {
                k: v
                for k, v in response.headers.items()
                if k not in ("access-control-allow-origin", "date", "x-request-id")
            }
        )
    assert answers[0] == answers[1]


def signed_in(stack: Stack, account_id: int) -> tuple[dict[str, str], str]:
    with transaction(stack.sessions) as session:
        token, web_session = start_session(session, account_id, None)
    return {COOKIE_NAME: token}, web_session.csrf_token


def save_origins(
    server: Server, cookies: dict[str, str], csrf: str, origins: str
) -> httpx.Response:
    with httpx.Client(cookies=cookies) as client:
        return client.post(
            server.base_url + "/account/origins", data={"origins": origins, "csrf_token": csrf}
        )


def test_origins_allowed_on_the_account_page_are_served_with_cors_headers(
    abuse_browser_server: Server, abuse_browser_stack: Stack
) -> None:
    stack, server = abuse_browser_stack, abuse_browser_server
    account_id = stack.account("business")
    key = stack.key(account_id)
    assert call(server, "GET", "/v1/account", key, TOOLS).status_code == 403  # cached now
    cookies, csrf = signed_in(stack, account_id)

    page = httpx.get(server.base_url + "/account", cookies=cookies)
    assert 'data-testid="origins-form"' in page.text
    assert save_origins(server, cookies, "forged", TOOLS).status_code == 403  # CSRF
    refused = save_origins(server, cookies, csrf, "https://tools.example.com/path")
    assert refused.status_code == 400 and "is not an origin" in refused.text
    saved = save_origins(server, cookies, csrf, f"HTTPS://Tools.Example.com:443/ {TOOLS}")
    assert saved.status_code == 303

    page = httpx.get(server.base_url + "/account", cookies=cookies)
    assert f'value="{TOOLS}"' in page.text  # normalised, duplicates dropped
    served = call(server, "POST", "/v2", key, TOOLS)
    assert served.status_code == 200
    assert served.headers["access-control-allow-origin"] == TOOLS
    assert "X-Credits-Charged" in served.headers["access-control-expose-headers"]
    assert code_of(call(server, "GET", "/v1/account", key, EVIL)) == "browser_request_refused"
    # Another account's key from that origin is still refused: the list is per account.
    other_key = stack.key(stack.account("business"))
    assert (
        code_of(call(server, "GET", "/v1/account", other_key, TOOLS)) == "browser_request_refused"
    )


def test_the_cli_sets_and_clears_the_allowed_origins(
    abuse_browser_server: Server, abuse_browser_stack: Stack
) -> None:
    stack, server = abuse_browser_stack, abuse_browser_server
    account_id = stack.account("business")
    key = stack.key(account_id)
    with transaction(stack.sessions) as session:
        email = accounts.get_by_id(session, account_id).email

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bgone", "accounts", *args],
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert cli("set-origins", email, "ftp://files.example").returncode != 0
    done = cli("set-origins", email, TOOLS, "http://localhost:3000")
    assert done.returncode == 0, done.stderr
    assert f"{TOOLS} http://localhost:3000" in done.stdout
    stack.changed_behind_the_servers_back()
    assert call(server, "GET", "/v1/account", key, "http://localhost:3000").status_code == 200

    assert cli("set-origins", email).returncode == 0  # no origins: clears the list
    stack.changed_behind_the_servers_back()
    assert call(server, "GET", "/v1/account", key, TOOLS).status_code == 403


def test_a_dashboard_session_is_no_key_for_the_management_api(
    abuse_browser_server: Server, abuse_browser_stack: Stack
) -> None:
    """/api/keys takes a production key only: a session cookie, from any site, gets 401."""
    account_id = abuse_browser_stack.account("business")
    cookies, csrf = signed_in(abuse_browser_stack, account_id)
    url = abuse_browser_server.base_url + "/api/keys"
    with httpx.Client(cookies=cookies) as client:
        for origin in ({}, {"origin": EVIL}):
            listed = client.get(url, headers=origin)
            assert (listed.status_code, code_of(listed)) == (401, "missing_api_key")
        created = client.post(url, json={"name": "x"}, headers={"x-csrf-token": csrf})
    assert (created.status_code, code_of(created)) == (401, "missing_api_key")


def test_operators_can_turn_the_check_off(abuse_browser_stack: Stack) -> None:
    server = abuse_browser_stack.start_server(browser_key_check="false")
    try:
        key = abuse_browser_stack.key(abuse_browser_stack.account("business"))
        assert call(server, "GET", "/v1/account", key, EVIL).status_code == 200
    finally:
        server.stop()
