"""Sealing a secret the server must read back (a webhook's signing secret) under the server
secret: a row read from a leaked database alone does not yield it.

Fernet (AES-128-CBC with an HMAC-SHA256 tag) under a key derived from each secret of the
ring: sealing uses the current one, opening tries every one, so rotating the server secret
(BGONE_PREVIOUS_SECRET_KEYS) keeps sealed values readable."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from bgone.security.hashing import SecretRing, ServerSecret


def _cipher(server_secret: ServerSecret) -> Fernet:
    digest = hashlib.sha256(b"bgone-server-seal:" + server_secret.secret).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(ring: SecretRing, text: str) -> str:
    return _cipher(ring.current).encrypt(text.encode()).decode()


def unseal(ring: SecretRing, value: str) -> str | None:
    """The sealed text; None when no secret of the ring opens it."""
    for server_secret in ring.all_secrets:
        try:
            return _cipher(server_secret).decrypt(value.encode()).decode()
        except (InvalidToken, ValueError):
            continue
    return None
