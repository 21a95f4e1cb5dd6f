"""An account's webhook endpoints: URL, subscribed events, enabled, and signing secrets.

Secrets are sealed under the server secret (bgone.security.server_sealing) and shown once,
in the answer that made them. A rotation keeps the old secret signing beside the new one
for an overlap, then it ends; deliveries sign with every secret not yet ended.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bgone.db.tables import (
    WEBHOOK_URL_LENGTH,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookSecretRow,
)
from bgone.domain.webhook_events import EventType
from bgone.errors import InvalidGracePeriod, InvalidWebhookUrl, NotFound
from bgone.security.hashing import SecretRing
from bgone.security.keys import random_base62
from bgone.security.server_sealing import seal, unseal
from bgone.security.webhook_signing import new_secret

ID_PREFIX = "whe_"
# What an id looks like: anything else is not found without a query (and no NUL byte or
# oversized text ever reaches the database).
ID_PATTERN = re.compile(r"whe_[0-9A-Za-z]{16}")
MAX_ROTATION_OVERLAP = timedelta(days=7)
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class Endpoint:
    id: str
    account_id: int
    url: str
    event_types: tuple[EventType, ...]
    enabled: bool
    created_at: datetime
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None


@dataclass(frozen=True)
class EndpointWithSecret:
    """A new endpoint, or one just rotated: the only time the secret is shown."""

    endpoint: Endpoint
    secret: str


@dataclass(frozen=True)
class EndpointChanges:
    """What an update changes; None leaves a field as it is."""

    url: str | None = None
    event_types: tuple[EventType, ...] | None = None
    enabled: bool | None = None


def check_url(url: str) -> str:
    """The URL as stored: http or https, a host, no credentials, no fragment."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        raise InvalidWebhookUrl(f"the URL cannot be parsed: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhookUrl("a webhook URL is http:// or https:// with a host")
    if any(ord(character) < 33 or ord(character) == 127 for character in text):
        raise InvalidWebhookUrl("a webhook URL has no spaces or control characters")
    if parts.username or parts.password:
        raise InvalidWebhookUrl("a webhook URL may not carry credentials")
    if parts.fragment or len(text) > WEBHOOK_URL_LENGTH:
        raise InvalidWebhookUrl(
            f"a webhook URL has no #fragment and at most {WEBHOOK_URL_LENGTH} characters"
        )
    return text


def _endpoint(row: WebhookEndpointRow) -> Endpoint:
    return Endpoint(
        id=row.id,
        account_id=row.account_id,
        url=row.url,
        event_types=tuple(EventType(value) for value in row.event_types.split()),
        enabled=row.enabled,
        created_at=row.created_at,
        disabled_reason=row.disabled_reason,
        disabled_at=row.disabled_at,
        failing_since=row.failing_since,
    )


def _row(session: Session, account_id: int, endpoint_id: str) -> WebhookEndpointRow:
    if not ID_PATTERN.fullmatch(endpoint_id):
        raise NotFound(f"no webhook endpoint {endpoint_id[:40]!r}")
    row = session.get(WebhookEndpointRow, endpoint_id, populate_existing=True)
    if row is None or row.account_id != account_id:
        # Another account's endpoint is as absent as one that never existed.
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return row


def _add_secret(session: Session, endpoint_id: str, ring: SecretRing, now: datetime) -> str:
    secret = new_secret()
    session.add(
        WebhookSecretRow(
            endpoint_id=endpoint_id, sealed=seal(ring, secret), created_at=now, expires_at=None
        )
    )
    return secret


def create(
    session: Session,
    account_id: int,
    url: str,
    event_types: Sequence[EventType],
    ring: SecretRing,
    now: datetime,
) -> EndpointWithSecret:
    row = WebhookEndpointRow(
        id=ID_PREFIX + random_base62(16),
        account_id=account_id,
        url=url,
        event_types=" ".join(event.value for event in event_types),
        enabled=True,
        created_at=now,
    )
    session.add(row)
    session.flush()
    secret = _add_secret(session, row.id, ring, now)
    return EndpointWithSecret(_endpoint(row), secret)


def list_endpoints(session: Session, account_id: int) -> list[Endpoint]:
    rows = session.scalars(
        select(WebhookEndpointRow)
        .where(WebhookEndpointRow.account_id == account_id)
        .order_by(WebhookEndpointRow.created_at, WebhookEndpointRow.id)
    )
    return [_endpoint(row) for row in rows]


def get(session: Session, account_id: int, endpoint_id: str) -> Endpoint:
    return _endpoint(_row(session, account_id, endpoint_id))


def find(session: Session, account_id: int, endpoint_id: str) -> Endpoint | None:
    if not ID_PATTERN.fullmatch(endpoint_id):
        return None
    row = session.get(WebhookEndpointRow, endpoint_id)
    return _endpoint(row) if row is not None and row.account_id == account_id else None


def update(
    session: Session, account_id: int, endpoint_id: str, changes: EndpointChanges
) -> Endpoint:
    row = _row(session, account_id, endpoint_id)
    if changes.url is not None:
        row.url = changes.url
    if changes.event_types is not None:
        row.event_types = " ".join(event.value for event in changes.event_types)
    if changes.enabled is not None:
        row.enabled = changes.enabled
        if changes.enabled:
            # Enabled again by a person: the failure clock starts afresh.
            row.disabled_reason = row.disabled_at = row.failing_since = None
    return _endpoint(row)


def remove(session: Session, account_id: int, endpoint_id: str) -> Endpoint:
    row = _row(session, account_id, endpoint_id)
    endpoint = _endpoint(row)
    # Children first: SQLite enforces no cascade unless told to.
    session.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.endpoint_id == row.id))
    session.execute(delete(WebhookSecretRow).where(WebhookSecretRow.endpoint_id == row.id))
    session.delete(row)
    return endpoint


def rotate_secret(
    session: Session,
    account_id: int,
    endpoint_id: str,
    ring: SecretRing,
    now: datetime,
    overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
) -> EndpointWithSecret:
    """A new secret; the current ones keep signing for `overlap` (0: end them now)."""
    if not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise InvalidGracePeriod("the overlap must be between 0 and 7 days")
    row = _row(session, account_id, endpoint_id)
    ends = now + overlap
    for secret_row in session.scalars(
        select(WebhookSecretRow).where(WebhookSecretRow.endpoint_id == row.id)
    ):
        if secret_row.expires_at is None or secret_row.expires_at > ends:
            secret_row.expires_at = ends
    secret = _add_secret(session, row.id, ring, now)
    return EndpointWithSecret(_endpoint(row), secret)


def signing_secrets(
    session: Session, endpoint_id: str, ring: SecretRing, now: datetime
) -> list[str]:
    """Every secret still signing, newest first; ended ones are deleted on the way."""
    rows = list(
        session.scalars(
            select(WebhookSecretRow)
            .where(WebhookSecretRow.endpoint_id == endpoint_id)
            .order_by(WebhookSecretRow.id.desc())
        )
    )
    opened = []
    for row in rows:
        if row.expires_at is not None and row.expires_at <= now:
            session.delete(row)
            continue
        secret = unseal(ring, row.sealed)
        if secret is not None:
            opened.append(secret)
    return opened


def endpoint_for_url(session: Session, account_id: int, url: str) -> Endpoint | None:
    """The account's endpoint registered at exactly `url` (a job's `webhook_url`), if any."""
    row = session.scalars(
        select(WebhookEndpointRow)
        .where(WebhookEndpointRow.account_id == account_id, WebhookEndpointRow.url == url)
        .order_by(WebhookEndpointRow.created_at)
        .limit(1)
    ).first()
    return _endpoint(row) if row else None


def subscribed(session: Session, account_id: int, event_type: EventType) -> list[Endpoint]:
    """The enabled endpoints of the account that asked for `event_type`."""
    return [
        endpoint
        for endpoint in list_endpoints(session, account_id)
        if endpoint.enabled and event_type in endpoint.event_types
    ]


def note_success(session: Session, endpoint_id: str) -> None:
    row = session.get(WebhookEndpointRow, endpoint_id)
    if row is not None:
        row.failing_since = None


def note_failure(
    session: Session, endpoint_id: str, now: datetime, disable_after: timedelta
) -> bool:
    """Record a failed attempt; True when it disables the endpoint (failing that long)."""
    row = session.get(WebhookEndpointRow, endpoint_id, populate_existing=True)
    if row is None or not row.enabled:
        return False
    if row.failing_since is None:
        row.failing_since = now
        return False
    if now - row.failing_since < disable_after:
        return False
    row.enabled = False
    row.disabled_at = now
    days = disable_after.total_seconds() / 86400
    row.disabled_reason = f"every delivery failed for {days:g} days"
    return True
