"""Browser origins an account allows to call the API with its keys.

A key sent from a web page is readable by anyone who opens that page, so the API refuses
requests that carry a key and an `Origin` header (see `bgone.api.browser`). An account may
name the few origins it accepts that risk for (an internal tool, say). Origins are stored
normalised, so that comparing them is a plain string comparison.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from bgone.db.tables import AccountRow
from bgone.domain.accounts import Account, get_by_id
from bgone.errors import InvalidOrigin, NotFound, quoted

MAX_ORIGINS = 20
MAX_ORIGIN_LENGTH = 255
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(text: str) -> str:
    """`scheme://host[:port]`, lower-cased, without a default port; else InvalidOrigin."""
    candidate = text.strip().rstrip("/")
    if not candidate or len(candidate) > MAX_ORIGIN_LENGTH or any(c.isspace() for c in candidate):
        raise InvalidOrigin(f"{quoted(text)} is not an origin like https://app.example.com")
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError as error:
        raise InvalidOrigin(f"{quoted(text)} is not an origin: {error}") from None
    if (
        parts.scheme.lower() not in DEFAULT_PORTS
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
        or "*" in candidate
    ):
        raise InvalidOrigin(
            f"{quoted(text)} is not an origin: give scheme and host only, e.g. https://app.example.com"
        )
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def normalize_origins(texts: Iterable[str]) -> tuple[str, ...]:
    """Every origin normalised, duplicates dropped, order kept."""
    normalized: list[str] = []
    for text in texts:
        origin = normalize_origin(text)
        if origin not in normalized:
            normalized.append(origin)
    if len(normalized) > MAX_ORIGINS:
        raise InvalidOrigin(f"an account may allow at most {MAX_ORIGINS} origins")
    return tuple(normalized)


def set_allowed_origins(session: Session, account_id: int, origins: Iterable[str]) -> Account:
    """Replace the account's allowed origins (an empty list allows none)."""
    checked = normalize_origins(origins)
    row = session.get(AccountRow, account_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no account with id {account_id}")
    row.allowed_origins = " ".join(checked) or None
    session.flush()
    return get_by_id(session, account_id)
