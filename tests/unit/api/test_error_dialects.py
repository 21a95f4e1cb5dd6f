"""Each endpoint answers errors in its own provider's dialect, with the catalogue's codes.

remove.bg (`/v1.0/*`) answers authentication failures with 403 in its `errors` array;
BackgroundErase (`/v2`) wraps one error in an `error` object; ByByBG and bgone's own routes
keep the catalogue's 401 and bgone's body. The bodies are spelt out here in full, as each
provider's clients read them.
"""

from __future__ import annotations

import pytest

from bgone.security.keys import Environment, generate_key
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.inprocess import InProcess

PHOTO = encode(gradient_rgb(16, 12), "PNG")


@pytest.mark.parametrize("path", ["/v1.0/removebg", "/v1.0/account"])
def test_remove_bg_answers_a_missing_key_with_403_in_its_errors_array(
    app: InProcess, path: str
) -> None:
    method = app.client.get if path.endswith("account") else app.client.post
    response = method(path)

    assert response.status_code == 403, response.text
    body = response.json()
    assert body == {
        "errors": [
            {
                "title": "Missing API key",
                "code": "missing_api_key",
                "detail": body["errors"][0]["detail"],
            }
        ],
        "request_id": response.headers["x-request-id"],
    }


@pytest.mark.parametrize("reason", ["unknown", "bad-checksum"])
def test_remove_bg_answers_every_bad_key_with_403(app: InProcess, key: str, reason: str) -> None:
    if reason == "unknown":
        key = generate_key(Environment.PRODUCTION)
    else:
        key = key[:-1] + ("A" if key[-1] != "A" else "B")
    response = app.client.post(
        "/v1.0/removebg", headers={"X-Api-Key": key}, files={"image_file": PHOTO}
    )
    assert response.status_code == 403, response.text
    assert response.json()["errors"][0]["code"] == "invalid_api_key"


def test_background_erase_answers_in_its_error_object(app: InProcess) -> None:
    response = app.client.post("/v2", files={"image_file": PHOTO})

    assert response.status_code == 401, response.text
    body = response.json()
    assert body == {
        "error": {
            "code": "missing_api_key",
            "message": body["error"]["message"],
            "status": 401,
            "request_id": response.headers["x-request-id"],
        }
    }
    assert "x-api-key" in body["error"]["message"]


def test_background_erase_shape_covers_errors_raised_outside_the_route(app: InProcess) -> None:
    response = app.client.get("/v2/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    response = app.client.get("/v2")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_background_erase_shape_covers_the_body_limit(app: InProcess) -> None:
    limit = app.client.app.state.services.settings.max_upload_bytes  # type: ignore[attr-defined]
    response = app.client.post(
        "/v2",
        content=b"x" * 16,
        headers={"content-length": str(limit * 4), "content-type": "image/png"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"


@pytest.mark.parametrize("path", ["/v1/remove-bg", "/v1/account", "/api/keys"])
def test_bybybg_and_bgones_own_routes_keep_401_and_bgones_body(app: InProcess, path: str) -> None:
    method = app.client.post if path == "/v1/remove-bg" else app.client.get
    response = method(path)
    assert response.status_code == 401, response.text
    body = response.json()
    assert set(body) == {"errors", "request_id"}
    assert body["errors"][0]["code"] == "missing_api_key"


def test_remove_bg_keeps_other_statuses(app: InProcess, key: str) -> None:
    response = app.client.post("/v1.0/removebg", headers={"X-Api-Key": key})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "missing_source"
