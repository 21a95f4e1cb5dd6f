"""The error catalogue (bgone.errors.CATALOGUE) against what the server serves.

One parametrised test per place a code must appear, each over every class of the catalogue:
add a place (the SDK's code map, the README) as another test over ERROR_CLASSES.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bgone.errors import CATALOGUE, NOT_FOR_API_CLIENTS, BgoneError
from bgone.inference.option_table import option_error_codes
from tests.support.error_bodies import error_of
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.inprocess import InProcess, assert_error

ERROR_CLASSES = list(CATALOGUE.values())
CODES = list(CATALOGUE)


def error_codes_in(node: Any) -> Iterator[str]:
    """Every `code` of an error body ({title, code, detail}) anywhere in the document."""
    if isinstance(node, dict):
        if isinstance(node.get("code"), str) and "title" in node:
            yield node["code"]
        for value in node.values():
            yield from error_codes_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from error_codes_in(value)


@pytest.fixture(scope="module")
def documented_codes(app: InProcess) -> set[str]:
    response = app.client.get("/openapi.json")
    assert response.status_code == 200
    return set(error_codes_in(response.json()))


API_CODES = [code for code in CODES if code not in NOT_FOR_API_CLIENTS]


@pytest.mark.parametrize("code", API_CODES)
def test_every_code_an_api_client_can_meet_is_in_the_served_document(
    code: str, documented_codes: set[str]
) -> None:
    assert code in documented_codes


@pytest.mark.parametrize("code", sorted(option_error_codes()))
def test_every_option_code_of_the_option_table_is_in_the_served_document(
    code: str, documented_codes: set[str]
) -> None:
    assert code in documented_codes


def test_dashboard_and_operator_codes_are_real_codes() -> None:
    assert set(CATALOGUE) >= NOT_FOR_API_CLIENTS


@pytest.mark.parametrize("error_class", ERROR_CLASSES, ids=CODES)
def test_every_code_has_one_class_a_status_and_a_title(error_class: type[BgoneError]) -> None:
    assert CATALOGUE[error_class.code] is error_class
    assert 400 <= error_class.status < 600
    assert error_class.title and error_class.title[0].isupper()


def test_an_unreadable_upload_answers_the_catalogue_body(app: InProcess, key: str) -> None:
    response = app.client.post(
        "/v2", headers={"x-api-key": key}, files={"image_file": ("a.txt", b"not an image")}
    )
    assert_error(response, 415, "invalid_file_type")


def test_a_bad_option_answers_its_invalid_code(app: InProcess, key: str) -> None:
    photo = encode(gradient_rgb(16, 12), "PNG")
    response = app.client.post(
        "/v2", headers={"x-api-key": key}, files={"image_file": photo}, data={"size": "huge"}
    )
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error.code == "invalid_size"


def test_an_unknown_route_is_not_found(app: InProcess) -> None:
    assert_error(app.client.get("/v2/nothing-here"), 404, "not_found")
