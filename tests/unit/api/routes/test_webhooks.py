"""`/v1/webhooks` in process: the whole surface with a manage key, the secret shown once,
typed 400s for bad input, 403 for a remove key, 404 for another account's endpoint, and the
routes in the served OpenAPI document with their models."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.inprocess import InProcess, assert_error

URL = "https://hooks.example.com/bgone"


def made(app: InProcess, key: str, **body: Any) -> dict[str, Any]:
    response = app.client.post(
        "/v1/webhooks",
        headers={"x-api-key": key},
        json={"url": URL, "event_types": ["key.revoked"], **body},
    )
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()["data"]
    return document


def test_the_whole_surface(app: InProcess, key: str) -> None:
    headers = {"x-api-key": key}
    endpoint = made(app, key)
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
    one = f"/v1/webhooks/{endpoint['id']}"
    listed = app.client.get("/v1/webhooks", headers=headers).json()["data"]
    assert [item["id"] for item in listed] == [endpoint["id"]]
    assert "secret" not in listed[0]  # shown once: never again
    got = app.client.get(one, headers=headers).json()["data"]
    assert "secret" not in got and got["url"] == URL
    patched = app.client.patch(
        one, headers=headers, json={"event_types": ["credits.low", "key.leaked"], "enabled": False}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["event_types"] == ["key.leaked", "credits.low"]
    assert patched.json()["data"]["enabled"] is False
    rotated = app.client.post(f"{one}/rotate-secret", headers=headers, json={"overlap": "1h"})
    assert rotated.status_code == 201
    assert rotated.json()["data"]["secret"] not in (endpoint["secret"], None)
    assert app.client.get(f"{one}/deliveries", headers=headers).json() == {"data": []}
    threshold = app.client.put(
        "/v1/account/credits-low-threshold", headers=headers, json={"threshold": 12.5}
    )
    assert threshold.json() == {"data": {"threshold": 12.5}}
    assert app.client.get("/v1/account/credits-low-threshold", headers=headers).json() == {
        "data": {"threshold": 12.5}
    }
    assert app.client.delete(one, headers=headers).status_code == 200
    assert_error(app.client.get(one, headers=headers), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "http://10.0.0.8/hook"}, "invalid_webhook_url"),
        ({"url": "gopher://example.com"}, "invalid_webhook_url"),
        ({"event_types": ["key.exploded"]}, "invalid_event_type"),
        ({"event_types": []}, "invalid_request"),
        ({"url": "x" * 3000}, "invalid_request"),
    ],
)
def test_bad_bodies_are_typed_400s(
    app: InProcess, key: str, body: dict[str, Any], code: str
) -> None:
    response = app.client.post(
        "/v1/webhooks",
        headers={"x-api-key": key},
        json={"url": URL, "event_types": ["key.revoked"], **body},
    )
    assert_error(response, 400, code)


@pytest.mark.parametrize(
    ("overlap", "threshold", "code"),
    [
        ("8d", -1, "invalid_threshold"),
        ("soon", 0, "invalid_threshold"),
        ("99999999999d", "many", "invalid_request"),
    ],
)
def test_bad_overlaps_and_thresholds(
    app: InProcess, key: str, overlap: str, threshold: object, code: str
) -> None:
    endpoint = made(app, key)
    headers = {"x-api-key": key}
    rotated = app.client.post(
        f"/v1/webhooks/{endpoint['id']}/rotate-secret", headers=headers, json={"overlap": overlap}
    )
    assert_error(rotated, 400, "invalid_grace_period")
    answer = app.client.put(
        "/v1/account/credits-low-threshold", headers=headers, json={"threshold": threshold}
    )
    assert_error(answer, 400, code)


def test_a_remove_key_and_another_account(app: InProcess, key: str) -> None:
    endpoint = made(app, key)
    remove_key = app.stack.key(app.stack.account("business"), scope="remove")
    assert_error(
        app.client.get("/v1/webhooks", headers={"x-api-key": remove_key}), 403, "insufficient_role"
    )
    other = app.stack.key(app.stack.account("business"))
    for method, path in [
        ("GET", f"/v1/webhooks/{endpoint['id']}"),
        ("DELETE", f"/v1/webhooks/{endpoint['id']}"),
        ("GET", f"/v1/webhooks/{endpoint['id']}/deliveries"),
        ("POST", f"/v1/webhooks/{endpoint['id']}/deliveries/1/redeliver"),
    ]:
        response = app.client.request(method, path, headers={"x-api-key": other})
        assert_error(response, 404, "not_found")
    assert_error(app.client.get("/v1/webhooks"), 401, "missing_api_key")


def test_the_routes_are_in_the_openapi_document(app: InProcess) -> None:
    document = app.client.get("/openapi.json").json()
    paths = document["paths"]
    assert set(paths["/v1/webhooks"]) == {"get", "post"}
    created = paths["/v1/webhooks"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"]["$ref"].endswith("EndpointWithSecretAnswer")
    assert "EndpointWithSecretDocument" in document["components"]["schemas"]
    redeliver = "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"
    assert "404" in paths[redeliver]["post"]["responses"]
    assert "403" in paths["/v1/webhooks"]["get"]["responses"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/webhooks/whe_%00"),
        ("GET", "/v1/webhooks/" + "x" * 500),
        ("POST", "/v1/webhooks/ENDPOINT/deliveries/99999999999999999999999/redeliver"),
        ("POST", "/v1/webhooks/ENDPOINT/deliveries/-1/redeliver"),
    ],
)
def test_odd_ids_are_not_found_never_a_500(
    app: InProcess, key: str, method: str, path: str
) -> None:
    endpoint = made(app, key)
    response = app.client.request(
        method, path.replace("ENDPOINT", endpoint["id"]), headers={"x-api-key": key}
    )
    assert_error(response, 404, "not_found")


def test_a_url_with_a_nul_byte_is_refused(app: InProcess, key: str) -> None:
    response = app.client.post(
        "/v1/webhooks",
        headers={"x-api-key": key},
        json={"url": "https://example.com/\u0000", "event_types": ["key.revoked"]},
    )
    assert_error(response, 400, "invalid_webhook_url")
