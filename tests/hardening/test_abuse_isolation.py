"""Invariant 4, account isolation: account A, through every door it has (its API key, the
management API with key or dashboard session, the dashboard pages), cannot see or touch
account B's keys, usage, audit log or account data.

tests/integration/api/test_keys_api.py covers rotate and revoke through the management API
with a key; this adds the dashboard's doors, account data, usage, query-string and header
tricks, and records every attempt in a Ledger (`forbidden_successes`) for the shared
invariant check.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bgone.db.engine import transaction
from bgone.domain import accounts
from bgone.domain.origins import set_allowed_origins
from bgone.domain.web_sessions import COOKIE_NAME, start_session
from tests.support.imagegen import encode, gradient_rgb
from tests.support.invariants import Ledger, assert_invariants
from tests.support.stack import Server, Stack

SMALL_PNG = encode(gradient_rgb(48, 32), "PNG")


@dataclass
class Tenant:
    account_id: int
    email: str
    key: str
    cookies: dict[str, str]
    csrf: str


def tenant(on: Stack, origin: str) -> Tenant:
    account_id = on.account("business")
    key = on.key(account_id)
    with transaction(on.sessions) as session:
        email = accounts.get_by_id(session, account_id).email
        set_allowed_origins(session, account_id, [origin])
        token, web_session = start_session(session, account_id, None)
    return Tenant(account_id, email, key, {COOKIE_NAME: token}, web_session.csrf_token)


def test_one_account_cannot_reach_anothers_data_through_any_door(
    server: Server,
    stack: Stack,
) -> None:
    a = tenant(stack, "https://a-tools.example")
    b = tenant(stack, "https://b-secret-tools.example")
    ledger = Ledger()
    base = server.base_url
    # B uses its key: a removal (usage, credits) and a new key (an audit event).
    removal = httpx.post(
        base + "/v2", headers={"x-api-key": b.key}, files={"image_file": ("b.png", SMALL_PNG)}
    )
    assert ledger.record(removal).status_code == 200
    created = ledger.record(
        httpx.post(base + "/api/keys", headers={"x-api-key": b.key}, json={"name": "b-private"})
    )
    assert created.status_code == 201
    b_keys = ledger.record(httpx.get(base + "/api/keys", headers={"x-api-key": b.key})).json()
    b_key_ids = [item["id"] for item in b_keys["data"]]
    b_markers = [b.email, "b-secret-tools.example", "b-private", *b_key_ids]
    b_markers += [item["display"] for item in b_keys["data"]]

    def leaks(response: httpx.Response, label: str, echoed: str = "") -> None:
        """Records B's data in A's answer; `echoed` is what A itself sent (a key id)."""
        seen = [m for m in b_markers if m != echoed and m in response.text]
        if seen:
            ledger.forbidden_successes.append(f"{label}: shows {seen[:2]}")

    # A's own views, through the key, the dashboard session and with tricks that name B.
    tricks = [{}, {"params": {"account_id": str(b.account_id)}}]
    header_trick = {"x-account-id": str(b.account_id), "x-forwarded-user": b.email}
    with httpx.Client(base_url=base, headers={"x-api-key": a.key}, timeout=60) as by_key:
        for path in ("/v1/account", "/v1.0/account", "/api/keys", "/api/audit-log"):
            for extra in tricks:
                response = ledger.record(by_key.get(path, **extra))  # type: ignore[arg-type]
                assert response.status_code == 200, (path, response.text)
                leaks(response, f"key GET {path} {extra}")
            leaks(ledger.record(by_key.get(path, headers=header_trick)), f"key GET {path} hdr")
        mine = ledger.record(by_key.get("/v1/account")).json()["data"]["attributes"]
        # B spent a credit; A's document is A's alone.
        assert (mine["email"], mine["credits_used"]) == (a.email, 0)
        for method, path in (
            ("POST", f"/api/keys/{b_key_ids[0]}/rotate"),
            ("DELETE", f"/api/keys/{b_key_ids[-1]}"),
        ):
            response = ledger.record(by_key.request(method, path))
            if response.status_code < 400:
                ledger.forbidden_successes.append(f"key {method} {path}: {response.status_code}")

    with httpx.Client(base_url=base, cookies=a.cookies, timeout=60) as dashboard:
        page = dashboard.get("/account")
        assert page.status_code == 200 and a.email in page.text
        leaks(page, "dashboard /account")
        # The management API takes a production key only, never the session cookie.
        for method, path in (
            ("GET", "/api/keys"),
            ("GET", "/api/audit-log"),
            ("POST", f"/api/keys/{b_key_ids[0]}/rotate"),
            ("DELETE", f"/api/keys/{b_key_ids[0]}"),
        ):
            response = ledger.record(dashboard.request(method, path))
            assert response.status_code == 401, (method, path)
            leaks(response, f"session {method} {path}")
        for action in ("rotate", "revoke"):
            form = {"csrf_token": a.csrf, "grace": "0"}
            response = dashboard.post(f"/account/keys/{b_key_ids[0]}/{action}", data=form)
            if response.status_code < 400:
                ledger.forbidden_successes.append(f"dashboard {action}: {response.status_code}")
            leaks(response, f"dashboard {action}", echoed=b_key_ids[0])

    # B is untouched: its keys all still work, its origins are its own.
    for key_id in b_key_ids:
        listed = httpx.get(base + "/api/keys", headers={"x-api-key": b.key}).json()["data"]
        state = next(item["state"] for item in listed if item["id"] == key_id)
        assert state == "active", key_id
    again = httpx.post(
        base + "/v2", headers={"x-api-key": b.key}, files={"image_file": ("b.png", SMALL_PNG)}
    )
    assert ledger.record(again).status_code == 200
    with transaction(stack.sessions) as session:
        assert accounts.get_by_id(session, b.account_id).allowed_origins == (
            "https://b-secret-tools.example",
        )

    assert ledger.forbidden_successes == []
    assert_invariants(ledger, stack.sessions, [a.account_id, b.account_id])
