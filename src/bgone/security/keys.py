"""API key format: an environment prefix, 32 random base62 characters and a checksum.

`bgone_live_` + 32 random + 6 checksum, e.g. `bgone_live_7kQ...Zx01aB`. The checksum is the
CRC32 of everything before it, so a typo or a truncated paste is rejected without a database
query, and secret scanners can tell a real key from random text.
"""

from __future__ import annotations

import secrets
import zlib
from dataclasses import dataclass
from enum import StrEnum

BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_LENGTH = 32  # 32 * log2(62) ~ 190 bits of entropy
# 62**6 > 2**32, so six characters hold any CRC32 value.
CHECKSUM_LENGTH = 6
DISPLAY_EDGE_LENGTH = 4


class Environment(StrEnum):
    """Production keys spend credits; staging keys are free and more tightly rate limited."""

    PRODUCTION = "production"
    STAGING = "staging"


PREFIX_BY_ENVIRONMENT: dict[Environment, str] = {
    Environment.PRODUCTION: "bgone_live_",
    Environment.STAGING: "bgone_test_",
}
ENVIRONMENT_BY_PREFIX: dict[str, Environment] = {
    prefix: environment for environment, prefix in PREFIX_BY_ENVIRONMENT.items()
}
# Both prefixes have the same length, which keeps parsing a simple slice.
PREFIX_LENGTH = len("bgone_live_")
KEY_LENGTH = PREFIX_LENGTH + RANDOM_LENGTH + CHECKSUM_LENGTH
# What a secret scanner looks for (README, /docs/leaked-keys); the checksum then tells a key
# from random text that happens to match.
SCANNER_PATTERN = f"bgone_(live|test)_[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}"


class MalformationReason(StrEnum):
    WRONG_PREFIX = "wrong_prefix"
    WRONG_LENGTH = "wrong_length"
    NOT_BASE62 = "not_base62"
    BAD_CHECKSUM = "bad_checksum"


class MalformedKey(ValueError):
    """Text that cannot be an API key; decided from the text alone."""

    def __init__(self, reason: MalformationReason) -> None:
        super().__init__(f"malformed API key: {reason.value}")
        self.reason = reason


@dataclass(frozen=True)
class ParsedKey:
    environment: Environment
    random_part: str
    checksum: str

    @property
    def prefix(self) -> str:
        return PREFIX_BY_ENVIRONMENT[self.environment]

    @property
    def text(self) -> str:
        return self.prefix + self.random_part + self.checksum


def random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62_ALPHABET) for _ in range(length))


def encode_base62(value: int, width: int) -> str:
    """`value` in base62, left-padded with zeros to `width` characters."""
    if value < 0:
        raise ValueError("base62 encodes non-negative integers only")
    digits: list[str] = []
    remaining = value
    while remaining:
        remaining, remainder = divmod(remaining, len(BASE62_ALPHABET))
        digits.append(BASE62_ALPHABET[remainder])
    encoded = "".join(reversed(digits)).rjust(width, BASE62_ALPHABET[0])
    if len(encoded) > width:
        raise ValueError(f"{value} does not fit in {width} base62 characters")
    return encoded


def checksum_of(text: str) -> str:
    return encode_base62(zlib.crc32(text.encode("ascii")), CHECKSUM_LENGTH)


def generate_key(environment: Environment) -> str:
    body = PREFIX_BY_ENVIRONMENT[environment] + random_base62(RANDOM_LENGTH)
    return body + checksum_of(body)


def parse_key(text: str) -> ParsedKey:
    """Check the format and checksum of `text`; raise MalformedKey with the first problem."""
    environment = ENVIRONMENT_BY_PREFIX.get(text[:PREFIX_LENGTH])
    if environment is None:
        raise MalformedKey(MalformationReason.WRONG_PREFIX)
    if len(text) != KEY_LENGTH:
        raise MalformedKey(MalformationReason.WRONG_LENGTH)
    rest = text[PREFIX_LENGTH:]
    if not all(character in BASE62_ALPHABET for character in rest):
        raise MalformedKey(MalformationReason.NOT_BASE62)
    random_part, checksum = rest[:RANDOM_LENGTH], rest[RANDOM_LENGTH:]
    # The checksum is public information, so a plain comparison leaks nothing.
    if checksum != checksum_of(text[: PREFIX_LENGTH + RANDOM_LENGTH]):
        raise MalformedKey(MalformationReason.BAD_CHECKSUM)
    return ParsedKey(environment=environment, random_part=random_part, checksum=checksum)


def display_form(key: str) -> str:
    """A recognisable but useless form for listings: `bgone_live_AbCd…wXyZ`."""
    parsed = parse_key(key)
    body = parsed.random_part + parsed.checksum
    return f"{parsed.prefix}{body[:DISPLAY_EDGE_LENGTH]}…{body[-DISPLAY_EDGE_LENGTH:]}"
