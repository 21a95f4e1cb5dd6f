"""Finding the API key in a request, and saying exactly what is wrong when it is not there."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from bgone.domain.authentication import KeyContext, authenticate, require_api_access
from bgone.errors import InvalidApiKey, MissingApiKey, TooManyInvalidKeys
from bgone.security.keys import MalformedKey, parse_key
from bgone.server.container import Services

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
            f"The Authorization header must be 'Bearer YOUR_KEY' (got scheme {scheme!r}). " + HOW_TO
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


def checked_secret(headers: Mapping[str, str], query: Mapping[str, str]) -> str:
    """The key as sent, refused with a 401 now if it cannot be a key (no database)."""
    secret = extract_key(headers, query)
    try:
        parse_key(secret)
    except MalformedKey as error:
        raise InvalidApiKey(
            f"The API key is malformed ({error.reason.value.replace('_', ' ')}). Check that it "
            "was copied whole; keys look like bgone_live_ followed by 38 letters and digits."
        ) from None
    return secret


def cached_context(services: Services, secret: str) -> KeyContext | None:
    """The caller from memory, or None when the database must be asked. No I/O."""
    context = services.key_cache.get(services.ring.hash_key(secret).digest)
    if context is None or context.is_expired_at(datetime.now(UTC)):
        return None
    require_api_access(context)
    return context


def authenticate_in_database(services: Services, secret: str, ip: str | None) -> KeyContext:
    """The cache-miss path (runs in a worker thread): ask the database, then remember."""
    context = authenticate(
        services.sessions, secret, services.ring, ip=ip, read_sessions=services.read_sessions
    )
    digest = services.ring.hash_key(secret).digest
    services.key_cache.put(digest, context, context.key_id, context.account_id)
    require_api_access(context)
    return context


def count_invalid_key(services: Services, ip: str | None) -> None:
    """Count a refused key against the client's address; 429 once it sent too many.

    Only failures are counted, after the key was checked, so a valid key is never held
    back, even one sent from the same address as an attacker (behind one NAT, say).
    """
    per_minute = services.settings.invalid_keys_per_minute
    decision = services.limiter.hit(f"invalid-keys:ip:{ip or 'unknown'}", per_minute)
    if not decision.allowed:
        raise TooManyInvalidKeys(
            f"More than {per_minute} requests with an invalid API key came from your address "
            f"this minute. Check the key you send; retry after {decision.retry_after} s.",
            decision.retry_after,
        )
