"""Parsing `GET /v1/usage`'s parameters: groupings, UTC date ranges, months."""

from __future__ import annotations

from datetime import date

import pytest

from bgone.domain.usage_report import (
    UsageQuery,
    UsageReport,
    parse_group_by,
    parse_month,
    parse_range,
)
from bgone.errors import InvalidDateRange, InvalidGroupBy

TODAY = date(2026, 12, 14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ("day",)),
        ("", ()),
        ("day", ("day",)),
        ("key,day", ("day", "key")),
        (" Month , status,endpoint ", ("month", "endpoint", "status")),
        ("key,endpoint,status", ("key", "endpoint", "status")),
    ],
)
def test_groupings_in_their_fixed_order(text: str | None, expected: tuple[str, ...]) -> None:
    assert parse_group_by(text) == expected


@pytest.mark.parametrize("text", ["day,month", "week", "key,key", "day,", "day;key"])
def test_bad_groupings(text: str) -> None:
    with pytest.raises(InvalidGroupBy):
        parse_group_by(text)


def test_default_range_is_this_month() -> None:
    assert parse_range(None, None, TODAY) == (date(2026, 12, 1), date(2027, 1, 1))
    assert parse_range("2026-02-03", None, TODAY) == (date(2026, 2, 3), date(2026, 3, 1))
    assert parse_range(None, "2026-03-01", TODAY) == (date(2026, 2, 1), date(2026, 3, 1))
    assert parse_range("2026-01-01", "2026-01-02", TODAY) == (date(2026, 1, 1), date(2026, 1, 2))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-12-01", "2026-12-01"),  # empty: `to` is exclusive
        ("2026-12-02", "2026-12-01"),
        ("2026-13-01", None),
        ("yesterday", None),
        ("2024-01-01", "2026-01-01"),  # longer than MAX_RANGE_DAYS
    ],
)
def test_bad_ranges(start: str | None, end: str | None) -> None:
    with pytest.raises(InvalidDateRange):
        parse_range(start, end, TODAY)


def test_months() -> None:
    assert parse_month(None, TODAY) == date(2026, 12, 1)
    assert parse_month("2026-02", TODAY) == date(2026, 2, 1)
    with pytest.raises(InvalidDateRange):
        parse_month("2026-2-30", TODAY)


def test_csv_columns_follow_the_groupings_then_the_measures() -> None:
    query = UsageQuery(1, date(2026, 12, 1), date(2027, 1, 1), ("day", "key", "status"))
    report = UsageReport(
        query,
        [
            {
                "day": "2026-12-01",
                "key_id": None,
                "key_name": None,
                "status": 200,
                "requests": 3,
                "failed_requests": 0,
                "credits": 2.5,
                "megapixels": 1.5,
            }
        ],
    )
    lines = report.csv().splitlines()
    assert lines[0] == "day,key_id,key_name,status,requests,failed_requests,credits,megapixels"
    assert lines[1] == "2026-12-01,,,200,3,0,2.5,1.5"
    assert report.document()["columns"] == lines[0].split(",")
