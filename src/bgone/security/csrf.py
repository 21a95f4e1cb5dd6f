"""CSRF tokens for the dashboard's forms: issued at random, compared in constant time.

One mechanism for every form: the page carries a token that a cross-site page cannot read,
and the post must send it back. Signed in, the token belongs to the session; before a
session exists (sign-up, log-in), it sits in a short-lived cookie of its own.
"""

from __future__ import annotations

import hmac
import secrets

TOKEN_BYTES = 24


def issue_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def tokens_match(expected: str | None, submitted: str | None) -> bool:
    """True only for two non-empty, equal tokens; the comparison leaks no timing."""
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
