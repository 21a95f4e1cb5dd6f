"""The events an account's webhook endpoints can subscribe to, and their envelope.

Every delivery's body is `{"type": ..., "timestamp": ..., "data": {...}}` (the Standard
Webhooks envelope); what `data` holds for each type is written once here, as TypedDicts,
and the API document and the README describe the same shapes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypedDict

from bgone.errors import InvalidEventType


class EventType(StrEnum):
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"
    KEY_EXPIRING = "key.expiring"
    KEY_REVOKED = "key.revoked"
    KEY_LEAKED = "key.leaked"
    CREDITS_LOW = "credits.low"
    RATE_LIMIT_EXCEEDED = "rate_limit.exceeded"


ALL_EVENT_TYPES = tuple(EventType)


class JobCompletedData(TypedDict):
    job_id: str
    status: Literal["completed"]
    items: int
    succeeded: int
    failed: int
    credits_charged: float


class JobFailedData(TypedDict):
    job_id: str
    status: Literal["failed"]
    error_code: str
    error_detail: str


class KeyExpiringData(TypedDict):
    key_id: str
    name: str
    environment: str
    expires_at: str
    days_before: int  # 7 or 1: which of the two notices this is


class KeyRevokedData(TypedDict):
    key_id: str
    name: str
    environment: str
    revoked_at: str
    revoked_by: str


class KeyLeakedData(TypedDict):
    key_id: str
    reported_at: str
    outcome: str  # "revoked", or "flagged" when the account chose 'warn only'


class CreditsLowData(TypedDict):
    period: str
    remaining: float
    threshold: float


class RateLimitExceededData(TypedDict):
    environment: str
    limit_per_minute: int
    at: str


def parse_event_types(values: Iterable[str]) -> tuple[EventType, ...]:
    """The subscribed types, deduplicated in the catalogue's order; at least one."""
    wanted = {value.strip().lower() for value in values if value.strip()}
    unknown = sorted(wanted - {event.value for event in EventType})
    if unknown:
        choices = ", ".join(event.value for event in EventType)
        raise InvalidEventType(f"unknown event type {unknown[0]!r}; choose from: {choices}")
    if not wanted:
        raise InvalidEventType("subscribe to at least one event type")
    return tuple(event for event in EventType if event.value in wanted)


def envelope(event_type: EventType, data: dict[str, Any], at: datetime) -> str:
    """The body as sent and signed: compact JSON, keys in a stable order."""
    document = {"type": event_type.value, "timestamp": at.isoformat(), "data": data}
    return json.dumps(document, separators=(",", ":"), sort_keys=True)
