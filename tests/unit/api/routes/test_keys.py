"""Key management in process: every bad expiry or grace is a typed 400, from the API and
from the dashboard's forms, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from bgone.db.engine import transaction
from bgone.domain.web_sessions import COOKIE_NAME, start_session
from tests.unit.inprocess import InProcess, assert_error

OVERFLOWING = ["3000000d", "99999999999d", "9" * 400]


def key_id_of(app: InProcess, key: str) -> str:
    listed: list[dict[str, Any]] = app.client.get("/api/keys", headers={"x-api-key": key}).json()[
        "data"
    ]
    return str(listed[0]["id"])


@pytest.mark.parametrize("expires_in", [*OVERFLOWING, "0", "0d", "0.5s", ""])
def test_an_expiry_that_overflows_or_never_ends_is_refused(
    app: InProcess, key: str, expires_in: str
) -> None:
    response = app.client.post(
        "/api/keys", headers={"x-api-key": key}, json={"name": "x", "expires_in": expires_in}
    )
    assert_error(response, 400, "invalid_expiry")


def test_a_key_of_a_second_or_more_expires(app: InProcess, key: str) -> None:
    response = app.client.post(
        "/api/keys", headers={"x-api-key": key}, json={"name": "x", "expires_in": "1s"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["expires_at"] is not None


@pytest.mark.parametrize("grace", OVERFLOWING)
def test_a_grace_that_overflows_is_refused(app: InProcess, key: str, grace: str) -> None:
    response = app.client.post(
        f"/api/keys/{key_id_of(app, key)}/rotate", headers={"x-api-key": key}, json={"grace": grace}
    )
    assert_error(response, 400, "invalid_grace_period")


@pytest.mark.parametrize("grace", OVERFLOWING)
def test_the_dashboards_rotate_form_refuses_a_grace_that_overflows(
    app: InProcess, grace: str
) -> None:
    account_id = app.stack.account("business")
    key = app.stack.key(account_id)
    with transaction(app.stack.sessions) as session:
        token, web_session = start_session(session, account_id, None)
    app.client.cookies.set(COOKIE_NAME, token)
    try:
        response = app.client.post(
            f"/account/keys/{key_id_of(app, key)}/rotate",
            data={"grace": grace, "csrf_token": web_session.csrf_token},
        )
    finally:
        app.client.cookies.clear()
    assert response.status_code == 400, response.text
    assert "far too long a duration" in response.text or "between 0 and 30 days" in response.text
