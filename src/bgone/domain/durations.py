"""Human durations ('24h', '30m', '7d', '0') for rotation grace periods and key lifetimes.

Each bad duration is the error of what it was for (invalid_grace_period, invalid_expiry),
decided here: a number too large for a timedelta, or one that would push a date past the
year 9999, must be a client's 400, not an OverflowError's 500 further on.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bgone.errors import BgoneError, InvalidExpiry, InvalidGracePeriod, quoted

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_EXAMPLES = "use e.g. '0', '90s', '30m', '24h' or '7d'"

MAX_ROTATION_GRACE = timedelta(days=30)
# A key's expiry is a date: a century keeps it far from the year 9999 whatever the clock
# says, and "longer than a century" means "never", which is what leaving it out asks for.
MAX_KEY_LIFETIME = timedelta(days=36500)
# Under a second a key would be dead before its secret reached the client (and a zero
# lifetime reads as "no expiry" to anyone who tests it for truth).
MIN_KEY_LIFETIME = timedelta(seconds=1)


def parse_duration(text: str, error: type[BgoneError] = InvalidGracePeriod) -> timedelta:
    """Seconds by default; s, m, h, d and w suffixes. Raises `error` when unreadable."""
    match = _DURATION.match(text)
    if not match:
        raise error(f"{quoted(text)} is not a duration; {_EXAMPLES}")
    try:
        return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
    except (OverflowError, ValueError):  # beyond timedelta's 999,999,999 days, or infinite
        raise error(f"{quoted(text)} is far too long a duration") from None


def parse_grace(text: str) -> timedelta:
    """A rotation's grace period: 0 (end the old key now) to MAX_ROTATION_GRACE."""
    return check_grace(parse_duration(text, InvalidGracePeriod))


def check_grace(grace: timedelta) -> timedelta:
    if not timedelta(0) <= grace <= MAX_ROTATION_GRACE:
        raise InvalidGracePeriod(f"grace must be between 0 and {MAX_ROTATION_GRACE.days} days")
    return grace


def parse_lifetime(text: str) -> timedelta:
    """A new key's lifetime: MIN_KEY_LIFETIME to MAX_KEY_LIFETIME."""
    return check_lifetime(parse_duration(text, InvalidExpiry))


def check_lifetime(lifetime: timedelta) -> timedelta:
    if lifetime < MIN_KEY_LIFETIME:
        raise InvalidExpiry(
            "a key's lifetime must be at least a second; leave expires_in out for a key "
            "that never expires"
        )
    if lifetime > MAX_KEY_LIFETIME:
        raise InvalidExpiry(
            f"a key's lifetime is at most {MAX_KEY_LIFETIME.days} days; leave expires_in out "
            "for a key that never expires"
        )
    return lifetime
