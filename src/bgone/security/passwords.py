"""Dashboard passwords, hashed with Argon2id (argon2-cffi's RFC 9106 defaults)."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; a corrupt or foreign hash counts as a mismatch.

    argon2's own comparison is constant-time, so the time taken does not reveal how much of
    the password was right.
    """
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's; re-hash after login."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def dummy_verify(password: str) -> None:
    """Spend the time of a real verification when the email is unknown.

    Without it, a login for an unknown email would answer in microseconds and one for a
    known email in tens of milliseconds, telling an attacker which accounts exist. The dummy
    hash is made on the first call; call it once at start-up to keep that one slow too.
    """
    verify_password(_dummy_hash(), password)
