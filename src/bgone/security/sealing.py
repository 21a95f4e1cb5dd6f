"""Sealing a short secret with a browser's session token, which the database never holds
(only its hash): a row read from a leaked database does not yield the secret.

The pad is HMAC-SHA256 of the token over a random nonce and a block counter, XORed with the
text; a nonce is used once, and a MAC over nonce and sealed text refuses any other token."""

from __future__ import annotations

import hashlib
import hmac
import secrets

NONCE_BYTES = 16
_MAC_BYTES = 32


def _pad(token: str, nonce: bytes, length: int) -> bytes:
    blocks = b"".join(
        hmac.digest(token.encode(), b"pad" + nonce + counter.to_bytes(4, "big"), hashlib.sha256)
        for counter in range((length + 31) // 32)
    )
    return blocks[:length]


def _mac(token: str, nonce: bytes, sealed: bytes) -> bytes:
    return hmac.digest(token.encode(), b"mac" + nonce + sealed, hashlib.sha256)


def seal(token: str, text: str) -> str:
    """`text` sealed for `token`, as hex (nonce, sealed text, MAC)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    plain = text.encode()
    sealed = bytes(a ^ b for a, b in zip(plain, _pad(token, nonce, len(plain)), strict=True))
    return (nonce + sealed + _mac(token, nonce, sealed)).hex()


def unseal(token: str, value: str) -> str | None:
    """The text `seal(token, text)` sealed; None for another token or a damaged value."""
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    if len(raw) < NONCE_BYTES + _MAC_BYTES:
        return None
    nonce, sealed, mac = raw[:NONCE_BYTES], raw[NONCE_BYTES:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(token, nonce, sealed)):
        return None
    plain = bytes(a ^ b for a, b in zip(sealed, _pad(token, nonce, len(sealed)), strict=True))
    return plain.decode()
