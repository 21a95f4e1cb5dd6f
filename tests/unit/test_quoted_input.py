"""Error details quote what the client sent, but never more than QUOTE_LIMIT characters of it:
a megabyte of bad input must not come back in the answer (nor in logs and usage rows)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bgone.api.auth import extract_key
from bgone.domain.accounts import normalize_email
from bgone.domain.durations import parse_duration
from bgone.domain.origins import normalize_origin
from bgone.errors import QUOTE_LIMIT, BgoneError, quoted
from bgone.inference.catalog import find_model
from bgone.inference.option_values import (
    parse_bool,
    parse_choice,
    parse_color,
    parse_length,
    parse_scale,
)
from bgone.inference.options import OutputFormat

LONG = "z" * 10_000
# The longest fixed wording of any detail below, plus the quoted part and its ellipsis.
MOST = 400


def test_short_text_is_quoted_whole() -> None:
    assert quoted("purple") == "'purple'"


def test_long_text_is_cut_with_an_ellipsis() -> None:
    assert quoted(LONG) == repr("z" * QUOTE_LIMIT + "…")


CASES: dict[str, Callable[[], object]] = {
    "bool": lambda: parse_bool("crop", LONG),
    "colour": lambda: parse_color(LONG),
    "length": lambda: parse_length("crop_margin", LONG),
    "percentage": lambda: parse_scale(LONG),
    "choice": lambda: parse_choice(OutputFormat, "format", LONG),
    "model": lambda: find_model(LONG, Path("/nonexistent")),
    "authorization scheme": lambda: extract_key({"authorization": LONG + " key"}, {}),
    "email": lambda: normalize_email(LONG),
    "origin": lambda: normalize_origin(LONG),
    "duration": lambda: parse_duration(LONG),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_detail_quoting_input_is_bounded(case: str) -> None:
    with pytest.raises(BgoneError) as raised:
        CASES[case]()
    detail = raised.value.detail
    assert "z" * 20 in detail  # it does quote the input...
    assert len(detail) <= MOST, detail[:200]  # ...but only so much of it
