"""The SDK's code map against the server's error catalogue: every code, the right class."""

from __future__ import annotations

import inspect

import pytest

from bgone.errors import CATALOGUE, BgoneError
from bgone_client import (
    ERRORS_BY_CODE,
    ERRORS_BY_STATUS,
    AsyncClient,
    BgoneAPIError,
    Client,
    InvalidRequestError,
    error_class,
)


def expected_class(status: int) -> type[BgoneAPIError]:
    """The SDK class a status stands for; 405 and 500 have none but the base."""
    return ERRORS_BY_STATUS.get(status, BgoneAPIError)


@pytest.mark.parametrize(("code", "kind"), sorted(CATALOGUE.items()))
def test_every_catalogued_code_maps_to_the_class_of_its_status(
    code: str, kind: type[BgoneError]
) -> None:
    # Listed, or an `invalid_<option>` code of the option table, which the prefix maps.
    assert code in ERRORS_BY_CODE or code.startswith("invalid_"), f"{code} is not mapped"
    # The code decides even when a front end answers another status for it.
    assert error_class(code, 418) is expected_class(kind.status), (code, kind.status)


def test_the_code_map_holds_no_code_the_server_does_not_know() -> None:
    assert set(ERRORS_BY_CODE) <= set(CATALOGUE)


def test_the_catalogue_walks_every_error_class() -> None:
    """Every error class with a code of its own is catalogued, so the test above sees it."""
    pending: list[type[BgoneError]] = [BgoneError]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if "code" in vars(kind) and kind is not BgoneError:
            assert CATALOGUE[kind.code] is kind


@pytest.mark.parametrize("client", [Client, AsyncClient])
def test_each_removal_option_bad_value_is_an_invalid_request(
    client: type[Client] | type[AsyncClient],
) -> None:
    """`invalid_<option>` codes come from the server's option table: the prefix maps them."""
    options = [
        name
        for name, parameter in inspect.signature(client.remove).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert "bg_color" in options and "refinement" in options
    for option in [*options, "some_future_option"]:
        assert error_class(f"invalid_{option}", 400) is InvalidRequestError


def test_unknown_codes_fall_back_to_the_status() -> None:
    assert error_class("http_502", 502) is BgoneAPIError
    assert error_class("something_new", 429) is ERRORS_BY_STATUS[429]
