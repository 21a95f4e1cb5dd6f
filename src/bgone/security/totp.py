"""TOTP (RFC 6238, the codes of an authenticator app) and recovery codes: pure functions.

pyotp does the RFC arithmetic; this module adds what a sign-in needs around it: a window of
one step either side for clocks that drift, the step a code matched (so the caller can refuse
the same code, or an older one, a second time), and recovery codes that carry 80 random
bits, so a plain SHA-256 of them is safe to store.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

ISSUER = "bgone"
STEP_SECONDS = 30
DIGITS = 6
# Steps accepted either side of now: a phone's clock 30 seconds off still signs in.
WINDOW = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_RECOVERY_LENGTH = 16  # 16 characters of a 31-letter alphabet: 79 bits


def new_secret() -> str:
    """A base32 secret of 160 bits, as authenticator apps expect."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def normalize_code(code: str) -> str:
    return "".join(code.split()).replace("-", "")


def looks_like_totp(code: str) -> bool:
    normalized = normalize_code(code)
    return len(normalized) == DIGITS and normalized.isascii() and normalized.isdigit()


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step (within WINDOW of `at`) whose code `code` is, or None.

    Every step of the window is compared, in constant time, whatever matches first."""
    if not looks_like_totp(code):
        return None
    normalized = normalize_code(code)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now_step = totp.timecode(at)
    found: int | None = None
    for offset in range(-WINDOW, WINDOW + 1):
        expected = totp.generate_otp(now_step + offset)
        if hmac.compare_digest(expected.encode(), normalized.encode()) and found is None:
            found = now_step + offset
    return found


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Codes as shown to the person: xxxx-xxxx-xxxx-xxxx."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def recovery_code_hash(code: str) -> str:
    """The stored form: typed with or without dashes, spaces or capitals, the same hash."""
    return hashlib.sha256(normalize_code(code).lower().encode()).hexdigest()
