from __future__ import annotations

import re
import zlib

import pytest

from bgone.security.keys import (
    BASE62_ALPHABET,
    KEY_LENGTH,
    SCANNER_PATTERN,
    Environment,
    MalformationReason,
    MalformedKey,
    checksum_of,
    display_form,
    encode_base62,
    generate_key,
    parse_key,
)


def reason_for(text: str) -> MalformationReason:
    with pytest.raises(MalformedKey) as raised:
        parse_key(text)
    return raised.value.reason


@pytest.mark.parametrize(
    ("environment", "prefix"),
    [(Environment.PRODUCTION, "bgone_live_"), (Environment.STAGING, "bgone_test_")],
)
def test_generated_key_has_prefix_length_and_checksum(
    environment: Environment, prefix: str
) -> None:
    key = generate_key(environment)

    assert key.startswith(prefix)
    assert len(key) == len(prefix) + 32 + 6 == KEY_LENGTH
    assert all(character in BASE62_ALPHABET for character in key[len(prefix) :])
    expected_checksum = encode_base62(zlib.crc32(key[:-6].encode()), 6)
    assert key[-6:] == expected_checksum
    parsed = parse_key(key)
    assert parsed.environment is environment
    assert parsed.text == key


def test_generated_keys_differ() -> None:
    assert len({generate_key(Environment.PRODUCTION) for _ in range(50)}) == 50


def test_base62_is_zero_padded_and_exact() -> None:
    assert encode_base62(0, 6) == "000000"
    assert encode_base62(61, 6) == "00000z"
    assert encode_base62(62, 6) == "000010"
    assert encode_base62(2**32 - 1, 6) == "4gfFC3"
    with pytest.raises(ValueError):
        encode_base62(62**6, 6)


def test_wrong_prefix_is_rejected() -> None:
    key = generate_key(Environment.PRODUCTION)
    assert reason_for("bgone_prod_" + key[11:]) is MalformationReason.WRONG_PREFIX
    assert reason_for("sk_live_" + key[8:]) is MalformationReason.WRONG_PREFIX
    assert reason_for("") is MalformationReason.WRONG_PREFIX


def test_wrong_length_is_rejected() -> None:
    key = generate_key(Environment.STAGING)
    assert reason_for(key[:-1]) is MalformationReason.WRONG_LENGTH
    assert reason_for(key + "a") is MalformationReason.WRONG_LENGTH


def test_non_base62_character_is_rejected() -> None:
    key = generate_key(Environment.PRODUCTION)
    assert reason_for(key[:20] + "-" + key[21:]) is MalformationReason.NOT_BASE62


def test_single_character_typo_fails_the_checksum() -> None:
    key = generate_key(Environment.PRODUCTION)
    position = 15
    replacement = "A" if key[position] != "A" else "B"
    typo = key[:position] + replacement + key[position + 1 :]

    assert reason_for(typo) is MalformationReason.BAD_CHECKSUM


def test_key_of_other_environment_with_same_body_fails_the_checksum() -> None:
    # The prefix is covered by the checksum: a live key cannot be turned into a test key.
    key = generate_key(Environment.PRODUCTION)
    assert reason_for("bgone_test_" + key[11:]) is MalformationReason.BAD_CHECKSUM


def test_checksum_covers_everything_before_it() -> None:
    body = "bgone_live_" + "a" * 32
    assert parse_key(body + checksum_of(body)).random_part == "a" * 32


def test_display_form_shows_prefix_and_four_characters_each_side() -> None:
    body = "bgone_live_" + "AbCd" + "x" * 26 + "wX"
    key = body + checksum_of(body)

    shown = display_form(key)

    assert shown == f"bgone_live_AbCd…{key[-4:]}"
    assert len(shown) == len("bgone_live_") + 4 + 1 + 4
    assert key[15:-4] not in shown


def test_display_form_refuses_malformed_keys() -> None:
    with pytest.raises(MalformedKey):
        display_form("bgone_live_short")


def test_the_scanner_pattern_matches_every_key_and_says_what_the_docs_say() -> None:
    assert SCANNER_PATTERN == "bgone_(live|test)_[0-9A-Za-z]{38}"
    for environment in Environment:
        assert re.fullmatch(SCANNER_PATTERN, generate_key(environment))
