"""What /docs/webhooks shows, drawn from the code that sends webhooks: the event types with
their `data` fields (the TypedDicts of bgone.domain.webhook_events), the retry schedule and
the disabling delay, so the page cannot drift from what is sent."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import timedelta

from bgone.domain.webhook_deliveries import RETRY_DELAYS
from bgone.domain.webhook_events import (
    CreditsLowData,
    EventType,
    JobCompletedData,
    JobFailedData,
    KeyExpiringData,
    KeyLeakedData,
    KeyRevokedData,
    RateLimitExceededData,
)
from bgone.services.webhook_delivery import DISABLE_AFTER

WHEN = {
    EventType.JOB_COMPLETED: (JobCompletedData, "every item of a batch job has ended"),
    EventType.JOB_FAILED: (JobFailedData, "a batch job could not run"),
    EventType.KEY_EXPIRING: (KeyExpiringData, "7 days, then 1 day, before a key expires"),
    EventType.KEY_REVOKED: (KeyRevokedData, "a key was revoked (dashboard, API, a member left)"),
    EventType.KEY_LEAKED: (KeyLeakedData, "a key was reported leaked (POST /v1/keys/leaked)"),
    EventType.CREDITS_LOW: (
        CreditsLowData,
        "the balance fell below the account's threshold (once per month)",
    ),
    EventType.RATE_LIMIT_EXCEEDED: (
        RateLimitExceededData,
        "a request got 429 for the rate limit (at most once an hour)",
    ),
}


@dataclass(frozen=True)
class EventRow:
    name: str
    when: str
    fields: tuple[tuple[str, str], ...]  # (field, type)


def _type_name(annotation: object) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return " | ".join(f'"{value}"' for value in typing.get_args(annotation))
    return getattr(annotation, "__name__", str(annotation))


def event_rows() -> list[EventRow]:
    rows = []
    for event in EventType:
        shape, when = WHEN[event]
        hints = typing.get_type_hints(shape)
        fields = tuple((name, _type_name(hint)) for name, hint in hints.items())
        rows.append(EventRow(event.value, when, fields))
    return rows


def _spoken(delay: timedelta) -> str:
    minutes = int(delay.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes} min"


def retry_schedule() -> str:
    return ", ".join(_spoken(delay) for delay in RETRY_DELAYS)


def disable_after_days() -> int:
    return DISABLE_AFTER.days
