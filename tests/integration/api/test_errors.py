"""Every error the API documents: status, stable code, one body shape, no credits spent."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bgone.db.engine import transaction
from bgone.domain import accounts, credits
from bgone.security.keys import Environment, generate_key
from tests.support.error_bodies import error_of
from tests.support.imagegen import encode, gradient_rgb, png_header_only
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")


def post(
    server: Server,
    path: str = "/v2",
    key: str | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    sent = dict(headers or {})
    if key:
        sent["x-api-key"] = key
    return httpx.post(server.base_url + path, headers=sent, timeout=60, **kwargs)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The code in the path's dialect, the request id echoed; the error as bgone spells it."""
    assert response.status_code == status, response.text
    seen = error_of(response)
    assert seen.request_id == response.headers["x-request-id"]
    assert seen.code == code
    assert seen.detail
    return {"title": seen.title, "code": seen.code, "detail": seen.detail}


@pytest.fixture()
def account_id(stack: Stack) -> int:
    return stack.account("business")


@pytest.fixture()
def key(stack: Stack, account_id: int) -> str:
    return stack.key(account_id)


def test_missing_key_explains_how_to_send_one(server: Server) -> None:
    error = assert_error(post(server, files={"image_file": SMALL_PNG}), 401, "missing_api_key")
    assert "x-api-key" in error["detail"]


def test_each_provider_answers_a_bad_key_in_its_own_dialect(server: Server) -> None:
    """remove.bg: 403 in its errors array (its clients map only 403 to 'authentication
    failed'); BackgroundErase: 401 in its error object; ByByBG: 401 in bgone's body."""
    unknown = generate_key(Environment.PRODUCTION)
    removebg = post(server, "/v1.0/removebg", key=unknown, files={"image_file": SMALL_PNG})
    assert removebg.status_code == 403
    assert removebg.json()["errors"][0]["code"] == "invalid_api_key"
    assert removebg.json()["request_id"] == removebg.headers["x-request-id"]
    erase = post(server, "/v2", key=unknown, files={"image_file": SMALL_PNG})
    assert erase.status_code == 401
    assert erase.json()["error"]["code"] == "invalid_api_key"
    assert erase.json()["error"]["status"] == 401
    bybybg = post(server, "/v1/remove-bg", key=unknown, files={"file": SMALL_PNG})
    assert bybybg.status_code == 401
    assert bybybg.json()["errors"][0]["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    "headers",
    [
        {"x-apikey": "bgone_live_x"},
        {"api-key": "bgone_live_x"},
        {"Authorization": "x-api-key bgone_live_x"},
    ],
)
def test_near_miss_headers_are_named(server: Server, headers: dict[str, str]) -> None:
    error = assert_error(
        post(server, headers=headers, files={"image_file": SMALL_PNG}), 401, "missing_api_key"
    )
    assert "header" in error["detail"].lower() or "authorization" in error["detail"].lower()


def test_key_in_query_string_is_refused(server: Server, key: str) -> None:
    response = httpx.post(
        server.base_url + "/v2",
        params={"api_key": key},
        files={"image_file": SMALL_PNG},
        timeout=30,
    )
    error = assert_error(response, 401, "missing_api_key")
    assert "query string" in error["detail"]


def test_malformed_and_unknown_keys(server: Server, key: str) -> None:
    broken = key[:-1] + ("A" if key[-1] != "A" else "B")  # checksum no longer matches
    error = assert_error(
        post(server, key=broken, files={"image_file": SMALL_PNG}), 401, "invalid_api_key"
    )
    assert "malformed" in error["detail"]
    unknown = generate_key(Environment.PRODUCTION)  # well-formed, never issued
    assert_error(post(server, key=unknown, files={"image_file": SMALL_PNG}), 401, "invalid_api_key")


def test_revoked_key(server: Server, key: str) -> None:
    keys = httpx.get(server.base_url + "/api/keys", headers={"x-api-key": key}).json()["data"]
    key_id = keys[0]["id"]
    assert (
        httpx.delete(
            server.base_url + f"/api/keys/{key_id}", headers={"x-api-key": key}
        ).status_code
        == 200
    )
    assert_error(post(server, key=key, files={"image_file": SMALL_PNG}), 401, "revoked_api_key")


def test_expired_key(server: Server, stack: Stack, account_id: int) -> None:
    soon = stack.key(account_id, expires_at=datetime.now(UTC) + timedelta(seconds=1.5))
    assert post(server, key=soon, files={"image_file": SMALL_PNG}).status_code == 200
    import time

    time.sleep(1.6)
    assert_error(post(server, key=soon, files={"image_file": SMALL_PNG}), 401, "expired_api_key")


def test_plan_without_api_access_even_with_an_older_key(
    server: Server, stack: Stack, account_id: int, key: str
) -> None:
    assert post(server, key=key, files={"image_file": SMALL_PNG}).status_code == 200
    with transaction(stack.sessions) as session:
        accounts.set_plan(session, account_id, "starter")
    stack.changed_behind_the_servers_back()
    assert_error(
        post(server, key=key, files={"image_file": SMALL_PNG}), 403, "plan_without_api_access"
    )
    assert_error(
        httpx.get(server.base_url + "/v1/account", headers={"x-api-key": key}),
        403,
        "plan_without_api_access",
    )


def test_suspended_account(server: Server, stack: Stack, account_id: int, key: str) -> None:
    with transaction(stack.sessions) as session:
        accounts.set_status(session, account_id, "suspended")
    stack.changed_behind_the_servers_back()
    assert_error(post(server, key=key, files={"image_file": SMALL_PNG}), 403, "account_suspended")


def test_input_errors(server: Server, key: str) -> None:
    cases: list[tuple[dict[str, Any], str, int, str]] = [
        (
            {"files": {"image_file": ("a.gif", b"GIF89a" + b"\0" * 30)}},
            "/v2",
            415,
            "invalid_file_type",
        ),
        ({"files": {"image_file": ("a.jpg", SMALL_PNG[:40])}}, "/v2", 400, "failed_to_read_image"),
        (
            {"files": {"image_file": ("a.png", png_header_only(70_000, 70_000))}},
            "/v2",
            400,
            "resolution_too_high",
        ),
        ({"data": {"size": "full"}}, "/v2", 400, "missing_source"),
        (
            {
                "files": {"image_file": ("a.png", SMALL_PNG)},
                "data": {"image_url": "https://example.com/a.png"},
            },
            "/v1.0/removebg",
            400,
            "multiple_sources",
        ),
        (
            {"data": {"image_url": "http://127.0.0.1:9/x.png"}},
            "/v1.0/removebg",
            400,
            "invalid_image_url",
        ),
        (
            {"data": {"image_file_b64": "not*base64!"}},
            "/v1.0/removebg",
            400,
            "invalid_image_file_b64",
        ),
        (
            {"files": {"image_file": ("a.png", SMALL_PNG)}, "data": {"size": "giant"}},
            "/v2",
            400,
            "invalid_size",
        ),
        (
            {"files": {"image_file": ("a.png", SMALL_PNG)}, "data": {"format": "gif"}},
            "/v2",
            400,
            "invalid_format",
        ),
        (
            {"files": {"image_file": ("a.png", SMALL_PNG)}, "data": {"bg_color": "nope"}},
            "/v2",
            400,
            "invalid_bg_color",
        ),
        (
            {"files": {"image_file": ("a.png", SMALL_PNG)}, "data": {"crop": "perhaps"}},
            "/v2",
            400,
            "invalid_crop",
        ),
        (
            {"files": {"image_file": ("a.png", SMALL_PNG)}, "data": {"type": "spaceship"}},
            "/v1.0/removebg",
            400,
            "invalid_type",
        ),
        (
            {
                "files": {"image_file": ("a.png", SMALL_PNG)},
                "data": {"bg_color": "fff", "bg_image_url": "https://example.com/b.png"},
            },
            "/v1.0/removebg",
            400,
            "multiple_bg_sources",
        ),
    ]
    for kwargs, path, status, code in cases:
        assert_error(post(server, path, key=key, **kwargs), status, code)


def test_body_over_the_limit(server: Server, key: str) -> None:
    oversized = b"\xff\xd8\xff" + b"\0" * (26 * 1024 * 1024)
    assert_error(
        post(server, key=key, files={"image_file": ("big.jpg", oversized)}), 413, "file_too_large"
    )
    too_long_b64 = base64.b64encode(oversized).decode()
    assert_error(
        post(server, "/v1.0/removebg", key=key, json={"image_file_b64": too_long_b64}),
        413,
        "file_too_large",
    )


def test_insufficient_credits_and_errors_cost_nothing(server: Server, stack: Stack) -> None:
    account_id = stack.account("business", monthly_credits_milli=1250)
    key = stack.key(account_id)
    # Failures first: none of them may spend anything.
    assert post(server, key=key, files={"image_file": ("a.jpg", SMALL_PNG[:40])}).status_code == 400
    assert (
        post(server, key=key, files={"image_file": SMALL_PNG}, data={"size": "giant"}).status_code
        == 400
    )
    assert post(server, key=key, files={"image_file": SMALL_PNG}).status_code == 200  # 1
    assert (
        post(server, key=key, files={"image_file": SMALL_PNG}, data={"size": "preview"}).status_code
        == 200
    )  # 0.25
    assert_error(
        post(server, key=key, files={"image_file": SMALL_PNG}), 402, "insufficient_credits"
    )
    with transaction(stack.sessions) as session:
        limits = accounts.effective_limits(accounts.get_by_id(session, account_id))
        balance = credits.balance(session, account_id, limits)
    assert (balance.used_milli, balance.reserved_milli) == (1250, 0)


def test_unknown_route_and_method(server: Server) -> None:
    assert_error(httpx.get(server.base_url + "/nowhere"), 404, "not_found")
    assert_error(httpx.get(server.base_url + "/v2"), 405, "method_not_allowed")
