"""The one place that reads the wall clock; everything else takes `now` so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def now_or_default(now: datetime | None) -> datetime:
    """`now` if given (it must be timezone-aware), else the current UTC time."""
    if now is None:
        return utc_now()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be timezone-aware")
    return now.astimezone(UTC)
