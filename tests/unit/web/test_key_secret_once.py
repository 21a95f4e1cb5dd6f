"""A new key's secret after the dashboard's generate and rotate forms: the POST answers 303
(a reload resubmits nothing), the next page shows the secret once from server-side state,
never from the URL, and never again."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import ShownOnceSecretRow
from bgone.domain.web_sessions import COOKIE_NAME, start_session, token_hash
from tests.unit.inprocess import InProcess
from tests.unit.web.test_two_factor_pages import csrf

SECRET = re.compile(r'data-testid="new-key">(bgone_(?:live|test)_[^<]+)<')


def signed_in(app: InProcess, account_id: int | None = None) -> TestClient:
    """The owner of a business account (keys allowed; a new one by default), signed in."""
    if account_id is None:
        account_id = app.stack.account("business")
    with transaction(app.stack.sessions) as session:
        token, _ = start_session(session, account_id, None)
    client = TestClient(app.client.app)
    client.cookies.set(COOKIE_NAME, token)
    return client


def key_ids(page: str) -> set[str]:
    return set(re.findall(r"key_[0-9A-Za-z]{16}", page))


def generate(client: TestClient, name: str) -> str:
    page = client.get("/account")
    answer = client.post(
        "/account/keys",
        data={"name": name, "environment": "production", "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location == "/account#api-access"
    assert "bgone_" not in answer.text
    return location


def test_generate_redirects_and_shows_the_secret_once(app: InProcess) -> None:
    owner = signed_in(app)
    before = key_ids(owner.get("/account").text)
    location = generate(owner, "shop")

    shown = owner.get(location)
    assert shown.status_code == 200
    secret = SECRET.search(shown.text)
    assert secret, shown.text
    assert secret.group(1) not in str(shown.url)
    assert 'Your new production key "shop"' in shown.text
    made = key_ids(shown.text) - before
    assert len(made) == 1

    again = owner.get(location)  # the reload
    assert secret.group(1) not in again.text
    assert not SECRET.search(again.text)
    assert key_ids(again.text) - before == made  # no second key


def test_the_secret_is_bound_to_the_session_that_made_it(app: InProcess) -> None:
    account_id = app.stack.account("business")
    owner = signed_in(app, account_id)
    elsewhere = signed_in(app, account_id)  # the same person, another session
    generate(owner, "shop")
    assert not SECRET.search(elsewhere.get("/account").text)
    assert SECRET.search(owner.get("/account").text)


def test_signing_out_with_a_secret_waiting_ends_the_session_and_the_secret(
    app: InProcess,
) -> None:
    owner = signed_in(app)
    cookie = owner.cookies.get(COOKIE_NAME)
    page = owner.get("/account")
    generate(owner, "shop")
    out = owner.post("/logout", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    with app.stack.sessions() as session:
        hashed = token_hash(cookie or "")
        waiting = select(ShownOnceSecretRow).where(ShownOnceSecretRow.token_hash == hashed)
        assert session.scalars(waiting).all() == []  # the session's row went with it


def test_rotate_redirects_and_shows_the_new_secret_once(app: InProcess) -> None:
    owner = signed_in(app)
    generate(owner, "shop")
    first = owner.get("/account")
    old_secret = SECRET.search(first.text)
    assert old_secret
    (key_id,) = key_ids(first.text)
    answer = owner.post(
        f"/account/keys/{key_id}/rotate",
        data={"grace": "1h", "csrf_token": csrf(first.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account#api-access"
    shown = owner.get("/account")
    secret = SECRET.search(shown.text)
    assert secret and secret.group(1) != old_secret.group(1)
    assert "Key rotated. The old key keeps working for 1h." in shown.text
    assert not SECRET.search(owner.get("/account").text)
    assert len(key_ids(owner.get("/account").text)) == 2


def test_a_second_key_of_the_same_name_is_warned_of_and_ids_are_listed(app: InProcess) -> None:
    owner = signed_in(app)
    generate(owner, "shop")
    first = owner.get("/account")
    (first_id,) = key_ids(first.text)
    assert 'data-testid="duplicate-name"' not in first.text
    assert f'data-testid="key-id">{first_id}<' in first.text  # the audit log's name for it

    generate(owner, "shop")
    second = owner.get("/account")
    warning = re.search(r'data-testid="duplicate-name">([^<]+)<', second.text)
    assert warning and first_id in warning.group(1)
    assert " style=" not in second.text
    assert 'data-testid="duplicate-name"' not in owner.get("/account").text  # shown once, too
