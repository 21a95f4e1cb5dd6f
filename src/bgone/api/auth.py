"""Finding the API key in a request, and saying exactly what is wrong when it is not there.

What the key is worth is decided by bgone.services.authentication.
"""

from __future__ import annotations

from collections.abc import Mapping

from bgone.errors import MissingApiKey, quoted

NEAR_MISS_HEADERS = ("x-apikey", "api-key", "apikey", "x-api_key", "api_key", "x-key", "key")
QUERY_NAMES = ("api_key", "apikey", "x-api-key", "key", "token")
HOW_TO = "Send it in the x-api-key header: -H 'x-api-key: YOUR_KEY'."


def extract_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str:
    """The key from `x-api-key` (any case) or `Authorization: Bearer`; else a helpful 401."""
    key = headers.get("x-api-key", "").strip()
    if key:
        return key
    authorization = headers.get("authorization", "").strip()
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if authorization:
        raise MissingApiKey(
            f"The Authorization header must be 'Bearer YOUR_KEY' (got scheme {quoted(scheme)}). "
            + HOW_TO
        )
    for name in NEAR_MISS_HEADERS:
        if headers.get(name):
            raise MissingApiKey(f"The key was sent in a {name!r} header. {HOW_TO}")
    for name in QUERY_NAMES:
        if query.get(name):
            raise MissingApiKey(
                "API keys are refused in the query string: URLs end up in logs and browser "
                f"history. Rotate that key, then send the new one in a header. {HOW_TO}"
            )
    raise MissingApiKey(f"No API key was sent. {HOW_TO}")
