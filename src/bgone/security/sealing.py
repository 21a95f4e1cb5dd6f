"""Sealing a short secret with a browser's session token, which the database never holds
(only its hash): a row read from a leaked database does not yield the secret.

Fernet (the `cryptography` package: AES-128-CBC with an HMAC-SHA256 tag) under a key derived
from the token; another token, or a damaged value, opens nothing."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


def _cipher(token: str) -> Fernet:
    # The session token is 32 random bytes already; its SHA-256 is Fernet's 32-byte key.
    return Fernet(
        base64.urlsafe_b64encode(hashlib.sha256(b"bgone-seal:" + token.encode()).digest())
    )


def seal(token: str, text: str) -> str:
    """`text` sealed for `token`."""
    return _cipher(token).encrypt(text.encode()).decode()


def unseal(token: str, value: str) -> str | None:
    """The text `seal(token, text)` sealed; None for another token or a damaged value."""
    try:
        return _cipher(token).decrypt(value.encode()).decode()
    except (InvalidToken, ValueError):
        return None
