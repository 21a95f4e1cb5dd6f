"""Human durations ('24h', '30m', '7d', '0') for rotation grace periods and expiries."""

from __future__ import annotations

import re
from datetime import timedelta

from bgone.errors import InvalidGracePeriod, quoted

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Seconds by default; s, m, h, d and w suffixes."""
    match = _DURATION.match(text)
    if not match:
        raise InvalidGracePeriod(
            f"{quoted(text)} is not a duration; use e.g. '0', '90s', '30m', '24h' or '7d'"
        )
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
