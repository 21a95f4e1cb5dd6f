"""The SDK keeps explicit typed keywords; this keeps them in step with the server's option table
(bgone.inference.option_table), the one place every removal option is described."""

from __future__ import annotations

import inspect
import typing
from dataclasses import fields

import pytest

from bgone.inference.option_table import OPTIONS_BY_NAME, option_names
from bgone_client import AsyncClient, Client
from bgone_client._requests import RemoveOptions

# The source itself is no option; bg_image is an option sent as a file or URL.
NOT_OPTIONS = {"self", "source"}


@pytest.mark.parametrize("client", [Client, AsyncClient])
def test_remove_takes_one_keyword_per_option_of_the_table(client: type) -> None:
    keywords = set(inspect.signature(client.remove).parameters) - NOT_OPTIONS
    assert keywords == set(option_names())


def test_the_typed_options_object_names_every_option_but_the_background_image() -> None:
    assert {field.name for field in fields(RemoveOptions)} == set(option_names()) - {"bg_image"}


@pytest.mark.parametrize("name", ["size", "format", "channels", "refinement", "quality"])
def test_the_literal_values_are_the_tables_choices(name: str) -> None:
    hints = typing.get_type_hints(RemoveOptions)
    [literal, _none] = typing.get_args(hints[name])
    assert set(typing.get_args(literal)) == set(OPTIONS_BY_NAME[name].choices)
