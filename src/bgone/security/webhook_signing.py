"""Signing a webhook delivery the Standard Webhooks way, with the `standardwebhooks` package.

Headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`: one
`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret, space-separated, so that after
a rotation both the new and the old secret verify until the old one ends.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A signing secret as receivers paste it: whsec_ and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(
    signing_secrets: Sequence[str], message_id: str, at: datetime, body: str
) -> dict[str, str]:
    if not signing_secrets:
        raise ValueError("an endpoint always has a signing secret")
    moment = at.astimezone(UTC)
    signatures = [Webhook(secret).sign(message_id, moment, body) for secret in signing_secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
