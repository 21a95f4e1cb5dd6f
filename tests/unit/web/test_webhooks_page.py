"""The dashboard's Webhooks page in process: add an endpoint (303, the secret shown once on
the next page), edit, rotate, Redeliver, delete, the threshold; developers and viewers get
403; a bad URL answers the page with the error, never a 500."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bgone.db.engine import transaction
from bgone.domain import webhook_deliveries, webhook_endpoints
from bgone.domain.clock import utc_now
from bgone.domain.roles import Role
from bgone.services.webhook_delivery import DISABLE_AFTER
from tests.support.teams import Team
from tests.unit.inprocess import InProcess
from tests.unit.web.test_key_secret_once import signed_in
from tests.unit.web.test_two_factor_pages import csrf

SECRET = re.compile(r'data-testid="webhook-secret">(whsec_[^<]+)<')
ENDPOINT = re.compile(r'data-endpoint-id="(whe_[0-9A-Za-z]+)"')


def add(client: TestClient, url: str, *events: str) -> TestClient:
    page = client.get("/account/webhooks")
    assert page.status_code == 200, page.text
    answer = client.post(
        "/account/webhooks",
        data={"url": url, "event_types": list(events), "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def test_add_shows_the_secret_once_then_edit_rotate_redeliver_delete(app: InProcess) -> None:
    owner = add(signed_in(app), "https://hooks.example.com/a", "key.revoked", "credits.low")
    shown = owner.get("/account/webhooks")
    secret = SECRET.search(shown.text)
    assert secret and secret.group(1) not in str(shown.url)
    assert SECRET.search(owner.get("/account/webhooks").text) is None  # once
    [endpoint_id] = ENDPOINT.findall(shown.text)
    token = csrf(shown.text)

    edited = owner.post(
        f"/account/webhooks/{endpoint_id}",
        data={
            "url": "https://hooks.example.com/b",
            "event_types": ["key.leaked"],
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert edited.status_code == 303
    page = owner.get("/account/webhooks").text
    assert "https://hooks.example.com/b" in page and 'data-testid="endpoint-disabled"' in page

    rotated = owner.post(
        f"/account/webhooks/{endpoint_id}/rotate",
        data={"overlap": "1h", "csrf_token": token},
        follow_redirects=False,
    )
    assert rotated.status_code == 303
    again = SECRET.search(owner.get("/account/webhooks").text)
    assert again and again.group(1) != secret.group(1)

    with transaction(app.stack.sessions) as session:
        delivery = webhook_deliveries.create(
            session, endpoint_id, "msg_x", "key.leaked", "{}", utc_now()
        )
    redelivered = owner.post(
        f"/account/webhooks/{endpoint_id}/deliveries/{delivery}/redeliver",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert redelivered.status_code == 303
    assert owner.get("/account/webhooks").text.count("data-delivery-id=") == 2

    threshold = owner.post(
        "/account/webhooks/credits-low",
        data={"threshold": "25", "csrf_token": token},
        follow_redirects=False,
    )
    assert threshold.status_code == 303, threshold.text[-2000:]
    assert 'name="threshold" inputmode="decimal" value="25"' in owner.get("/account/webhooks").text

    deleted = owner.post(
        f"/account/webhooks/{endpoint_id}/delete",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    assert ENDPOINT.findall(owner.get("/account/webhooks").text) == []


def test_a_private_url_answers_the_page_with_its_error(app: InProcess) -> None:
    owner = signed_in(app)
    page = owner.get("/account/webhooks")
    answer = owner.post(
        "/account/webhooks",
        data={
            "url": "http://192.168.1.10/x",
            "event_types": ["key.revoked"],
            "csrf_token": csrf(page.text),
        },
    )
    assert answer.status_code == 400
    assert 'data-testid="webhook-error"' in answer.text


def test_developers_and_viewers_are_refused(app: InProcess) -> None:
    team = Team(app.stack)
    for role in (Role.DEVELOPER, Role.VIEWER):
        session = team.session_of(team.by_role[role])
        client = TestClient(app.client.app)
        client.cookies.update(session.cookies)
        assert client.get("/account/webhooks").status_code == 403
    admin = team.session_of(team.by_role[Role.ADMIN])
    client = TestClient(app.client.app)
    client.cookies.update(admin.cookies)
    assert client.get("/account/webhooks").status_code == 200


def test_an_endpoint_disabled_for_failing_says_why(app: InProcess) -> None:
    owner = add(signed_in(app), "https://hooks.example.com/failing", "key.revoked")
    [endpoint_id] = ENDPOINT.findall(owner.get("/account/webhooks").text)
    start = utc_now()
    with transaction(app.stack.sessions) as session:
        assert not webhook_endpoints.note_failure(session, endpoint_id, start, DISABLE_AFTER)
        later = start + DISABLE_AFTER
        assert webhook_endpoints.note_failure(session, endpoint_id, later, DISABLE_AFTER)
    page = owner.get("/account/webhooks").text
    assert 'data-testid="disabled-reason"' in page and "failed for 3 days" in page
    assert 'data-testid="endpoint-disabled"' in page


def test_each_page_leaves_the_others_secret_for_it(app: InProcess) -> None:
    owner = signed_in(app)
    page = owner.get("/account")
    owner.post(
        "/account/keys",
        data={"name": "k", "environment": "production", "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert SECRET.search(owner.get("/account/webhooks").text) is None
    assert 'data-testid="new-key"' in owner.get("/account").text  # still there for its page
    add(owner, "https://hooks.example.com/kept", "key.revoked")
    assert 'data-testid="new-key"' not in owner.get("/account").text
    assert SECRET.search(owner.get("/account/webhooks").text) is not None
