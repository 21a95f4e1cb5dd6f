"""The Idempotency-Key in the served document and the API reference page: the header on
every removal route, its 409 and 422 answers in the route's dialect, the replay's header."""

from __future__ import annotations

import pytest

from tests.unit.inprocess import InProcess

REMOVALS = ["/v2", "/v1/remove-bg", "/v1.0/removebg"]


@pytest.mark.parametrize("path", REMOVALS)
def test_each_removal_route_documents_the_key_and_its_answers(app: InProcess, path: str) -> None:
    document = app.client.get("/openapi.json").json()
    operation = document["paths"][path]["post"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert parameter["in"] == "header" and parameter["required"] is False
    assert parameter["schema"]["maxLength"] == 255
    responses = operation["responses"]
    assert set(responses["409"]["content"]["application/json"]["examples"]) == {
        "idempotency_key_in_use",
        "idempotency_answer_too_large",
    }
    assert "Retry-After" in str(responses["409"]["headers"])
    (reused,) = responses["422"]["content"]["application/json"]["examples"].values()
    body = reused["value"]
    code = body["error"]["code"] if path == "/v2" else body["errors"][0]["code"]
    assert code == "idempotency_key_reused"
    assert "Idempotent-Replayed" in responses["200"]["headers"]
    assert "Idempotent-Replayed" in document["components"]["headers"]


def test_the_reference_page_shows_the_header(app: InProcess) -> None:
    page = app.client.get("/docs/api")
    assert page.status_code == 200
    assert "Idempotency-Key" in page.text and "Idempotent-Replayed" in page.text
    assert "idempotency_key_reused" in page.text
