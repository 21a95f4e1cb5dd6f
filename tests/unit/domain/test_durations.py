"""Durations as clients type them: every bad one is a typed 400, never an overflow (a 500)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bgone.domain.durations import (
    MAX_KEY_LIFETIME,
    parse_duration,
    parse_grace,
    parse_lifetime,
)
from bgone.errors import InvalidExpiry, InvalidGracePeriod
from tests.unit.domain.support import NOW

HUGE = ["3000000d", "99999999999d", "9" * 400, "9" * 400 + "w"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", timedelta(0)), ("90s", timedelta(seconds=90)), ("24h", timedelta(hours=24))],
)
def test_plain_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", [*HUGE, "31d", "5w", "soon", ""])
def test_a_grace_too_long_or_unreadable_is_an_invalid_grace_period(text: str) -> None:
    with pytest.raises(InvalidGracePeriod):
        parse_grace(text)


@pytest.mark.parametrize("text", ["0", "30d", "12h"])
def test_a_grace_of_zero_to_thirty_days_is_accepted(text: str) -> None:
    assert parse_grace(text) == parse_duration(text)


@pytest.mark.parametrize("text", [*HUGE, "0", "0d", "0s", "0.5s", "0.999", "soon", ""])
def test_a_lifetime_that_overflows_or_is_under_a_second_is_an_invalid_expiry(text: str) -> None:
    with pytest.raises(InvalidExpiry):
        parse_lifetime(text)


def test_the_longest_lifetime_still_ends_on_a_representable_date() -> None:
    assert parse_lifetime("1s") == timedelta(seconds=1)
    assert parse_lifetime(f"{MAX_KEY_LIFETIME.days}d") == MAX_KEY_LIFETIME
    assert (NOW + MAX_KEY_LIFETIME).year < 9999
