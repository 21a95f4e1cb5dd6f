"""Idempotency-Key on the removal routes, in process with the fake engine: a retry gets the
first answer, runs nothing and is charged nothing; another body with the key is refused in
each provider's dialect; errors the client caused are replayed."""

from __future__ import annotations

import base64
import uuid

import pytest
from sqlalchemy import func, select

from bgone.api.browser import EXPOSED_HEADERS
from bgone.db.engine import transaction
from bgone.db.tables import CreditPeriodRow, UsageRecordRow
from bgone.errors import ConcurrencyLimitExceeded, ServerBusy
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.fakes import FAKE_PNG
from tests.unit.inprocess import InProcess, assert_error

PHOTO = encode(gradient_rgb(64, 48), "PNG")
ROUTES = [("/v2", "image_file"), ("/v1/remove-bg", "file"), ("/v1.0/removebg", "image_file")]


def usage_rows(app: InProcess, request_ids: list[str]) -> list[tuple[int, int, str | None]]:
    with transaction(app.stack.sessions) as session:
        rows = session.execute(
            select(UsageRecordRow.status, UsageRecordRow.credits_milli, UsageRecordRow.error_code)
            .where(UsageRecordRow.request_id.in_(request_ids))
            .order_by(UsageRecordRow.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def credits_used(app: InProcess) -> int:
    with transaction(app.stack.sessions) as session:
        return int(session.scalar(select(func.sum(CreditPeriodRow.used_milli))) or 0)


@pytest.mark.parametrize(("path", "field"), ROUTES, ids=[path for path, _ in ROUTES])
def test_a_retry_gets_the_first_answer_and_runs_and_charges_nothing(
    app: InProcess, key: str, path: str, field: str
) -> None:
    headers = {"x-api-key": key, "Idempotency-Key": uuid.uuid4().hex}
    before, runs = credits_used(app), len(app.remover.calls)
    first = app.client.post(
        path, headers=headers, files={field: ("a.png", PHOTO)}, data={"size": "full"}
    )
    second = app.client.post(
        path, headers=headers, files={field: ("b.png", PHOTO)}, data={"size": "full"}
    )

    assert first.status_code == second.status_code == 200, second.text
    assert second.content == first.content == FAKE_PNG
    assert len(app.remover.calls) == runs + 1
    for name in ("content-type", "x-width", "x-height", "x-foreground-top", "x-quality"):
        assert second.headers[name] == first.headers[name]
    # What the request cost, as the first answer said: charged once (the rows below).
    assert second.headers["x-credits-charged"] == first.headers["x-credits-charged"] == "1"
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert credits_used(app) == before + 1000
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert usage_rows(app, ids) == [(200, 1000, None), (200, 0, None)]


def test_the_same_image_sent_as_base64_is_the_same_request(app: InProcess, key: str) -> None:
    headers = {"x-api-key": key, "Idempotency-Key": "same-image"}
    first = app.client.post("/v2", headers=headers, files={"image_file": ("a.png", PHOTO)})
    encoded = base64.b64encode(PHOTO).decode()
    second = app.client.post("/v2", headers=headers, data={"image_base64": encoded})
    assert second.status_code == 200, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content


@pytest.mark.parametrize(("path", "field"), ROUTES, ids=[path for path, _ in ROUTES])
def test_another_body_with_the_key_is_refused_with_422(
    app: InProcess, key: str, path: str, field: str
) -> None:
    headers = {"x-api-key": key, "Idempotency-Key": "reused"}
    first = app.client.post(path, headers=headers, files={field: ("a.png", PHOTO)})
    assert first.status_code == 200, first.text
    before = credits_used(app)
    for changed in (
        {"files": {field: ("a.png", encode(gradient_rgb(64, 49), "PNG"))}},
        {"files": {field: ("a.png", PHOTO)}, "data": {"format": "webp"}},
    ):
        refused = app.client.post(path, headers=headers, **changed)  # type: ignore[arg-type]
        assert_error(refused, 422, "idempotency_key_reused")
    json_answer = app.client.post(
        path, headers={**headers, "accept": "application/json"}, files={field: ("a.png", PHOTO)}
    )
    assert_error(json_answer, 422, "idempotency_key_reused")
    assert credits_used(app) == before


def test_a_client_error_is_replayed_and_costs_nothing(app: InProcess, key: str) -> None:
    headers = {"x-api-key": key, "Idempotency-Key": "not-an-image"}
    answers = [
        app.client.post("/v2", headers=headers, files={"image_file": ("a.png", b"not an image")})
        for _ in range(2)
    ]
    for answer in answers:
        assert answer.status_code == 415 and answer.json()["error"]["code"] == "invalid_file_type"
    assert answers[1].content == answers[0].content
    assert answers[1].headers["idempotent-replayed"] == "true"
    ids = [answer.headers["x-request-id"] for answer in answers]
    assert usage_rows(app, ids) == [(415, 0, "invalid_file_type")] * 2


def test_a_request_refused_before_parsing_is_not_remembered(app: InProcess, key: str) -> None:
    headers = {"x-api-key": key, "Idempotency-Key": "first-without-an-image"}
    missing = app.client.post("/v2", headers=headers, data={"size": "full"})
    assert_error(missing, 400, "missing_source")
    fixed = app.client.post("/v2", headers=headers, files={"image_file": ("a.png", PHOTO)})
    assert fixed.status_code == 200 and "idempotent-replayed" not in fixed.headers


@pytest.mark.parametrize("bad", [b"", b"k" * 256, "caf\u00e9".encode()])
def test_a_malformed_key_is_a_400(app: InProcess, key: str, bad: bytes) -> None:
    answer = app.client.post(
        "/v1.0/removebg",
        headers={"x-api-key": key, "Idempotency-Key": bad},
        files={"image_file": ("a.png", PHOTO)},
    )
    assert_error(answer, 400, "invalid_idempotency_key")


def test_keys_of_another_account_are_not_seen(app: InProcess, key: str) -> None:
    other = app.stack.key(app.stack.account("business"))
    first = app.client.post(
        "/v2", headers={"x-api-key": key, "Idempotency-Key": "shared"}, files={"image_file": PHOTO}
    )
    theirs = app.client.post(
        "/v2",
        headers={"x-api-key": other, "Idempotency-Key": "shared"},
        files={"image_file": encode(gradient_rgb(10, 10), "PNG")},
    )
    assert first.status_code == theirs.status_code == 200, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.headers["x-credits-charged"] == "1"


def test_browsers_may_send_the_key_and_read_the_replay_header(app: InProcess) -> None:
    preflight = app.client.options(
        "/v2",
        headers={"origin": "https://tools.example", "access-control-request-method": "POST"},
    )
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"]
    assert "Idempotent-Replayed" in EXPOSED_HEADERS


@pytest.mark.parametrize(
    "failure",
    [
        ServerBusy("The server is busy.", 2),
        ConcurrencyLimitExceeded("This account has too many images in process.", 1),
    ],
    ids=["503", "429"],
)
def test_429_and_503_are_not_kept_the_retry_runs_again(
    app: InProcess, key: str, failure: Exception
) -> None:
    headers = {"x-api-key": key, "Idempotency-Key": f"comes-back-later-{uuid.uuid4()}"}
    app.remover.failure = failure
    try:
        refused = app.client.post("/v2", headers=headers, files={"image_file": PHOTO})
    finally:
        app.remover.failure = None
    assert refused.status_code in (429, 503) and refused.headers["retry-after"]
    retried = app.client.post("/v2", headers=headers, files={"image_file": PHOTO})
    assert retried.status_code == 200, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert retried.headers["x-credits-charged"] == "1"
