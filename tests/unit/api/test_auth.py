"""Authentication errors, in process: each in the one error body, with its stable code."""

from __future__ import annotations

import pytest

from bgone.security.keys import Environment, generate_key
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.inprocess import InProcess, assert_error

PHOTO = encode(gradient_rgb(16, 12), "PNG")


def test_no_key_explains_how_to_send_one(app: InProcess) -> None:
    response = app.client.post("/v2", files={"image_file": PHOTO})
    assert "x-api-key" in assert_error(response, 401, "missing_api_key")["detail"]


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Basic abc"}, {"api-key": "bgone_live_x"}],
    ids=["wrong-scheme", "near-miss-header"],
)
def test_keys_in_the_wrong_place_are_named(app: InProcess, headers: dict[str, str]) -> None:
    response = app.client.post("/v2", headers=headers, files={"image_file": PHOTO})
    error = assert_error(response, 401, "missing_api_key")
    assert "header" in error["detail"].lower()


def test_a_key_in_the_query_string_is_refused(app: InProcess, key: str) -> None:
    response = app.client.post("/v2", params={"api_key": key}, files={"image_file": PHOTO})
    assert "query string" in assert_error(response, 401, "missing_api_key")["detail"]


def test_a_key_with_a_broken_checksum_is_invalid(app: InProcess, key: str) -> None:
    broken = key[:-1] + ("A" if key[-1] != "A" else "B")
    response = app.client.post("/v2", headers={"x-api-key": broken}, files={"image_file": PHOTO})
    assert_error(response, 401, "invalid_api_key")


def test_a_well_formed_unknown_key_is_invalid(app: InProcess) -> None:
    unknown = generate_key(Environment.PRODUCTION)
    response = app.client.post("/v2", headers={"x-api-key": unknown}, files={"image_file": PHOTO})
    assert_error(response, 401, "invalid_api_key")
