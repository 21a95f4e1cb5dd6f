"""TOTP codes and recovery codes, as pure functions: the window, the matched step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from bgone.security import totp

AT = datetime(2026, 12, 1, 12, 0, 10, tzinfo=UTC)


def code_at(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret).at(at)


def test_the_current_code_matches_its_step() -> None:
    secret = totp.new_secret()
    step = pyotp.TOTP(secret).timecode(AT)
    assert totp.matching_step(secret, code_at(secret, AT), AT) == step


def test_one_step_either_side_is_accepted_two_are_not() -> None:
    secret = totp.new_secret()
    for seconds, accepted in ((-30, True), (30, True), (-60, False), (60, False), (90, False)):
        code = code_at(secret, AT + timedelta(seconds=seconds))
        assert (totp.matching_step(secret, code, AT) is not None) is accepted, seconds


def test_spaces_are_ignored_and_garbage_is_refused() -> None:
    secret = totp.new_secret()
    code = code_at(secret, AT)
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]} ", AT) is not None
    for garbage in ("", "12345", "1234567", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16"):
        assert totp.matching_step(secret, garbage, AT) is None


def test_the_provisioning_uri_names_the_issuer_and_the_person() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "owner@example.com")
    assert uri.startswith(
        "otpauth://totp/bgone:owner%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    )
    assert "issuer=bgone" in uri


def test_recovery_codes_are_distinct_and_hash_the_same_however_typed() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    assert all(len(code) == 19 and code.count("-") == 3 for code in codes)
    code = codes[0]
    assert totp.recovery_code_hash(code) == totp.recovery_code_hash(code.replace("-", " ").upper())
    assert totp.recovery_code_hash(code) != totp.recovery_code_hash(codes[1])
