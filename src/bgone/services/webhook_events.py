"""Emitting events from the use cases that cause them: enqueue only.

A request that revokes a key, hits its rate limit or finishes a job calls `publish` (or one
of the typed helpers below); the call puts one task on the queue and returns. It never
raises and never waits on a database write or an endpoint: a queue that is down costs the
event (logged), never the request. The work (which endpoints, once-per-period markers, the
deliveries) happens on a consumer (bgone.services.webhook_fanout).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bgone.domain.clock import utc_now
from bgone.domain.key_records import KeyRecord
from bgone.domain.periodic_claims import slot_of
from bgone.domain.webhook_events import (
    EventType,
    JobCompletedData,
    JobFailedData,
    KeyLeakedData,
    KeyRevokedData,
    RateLimitExceededData,
)
from bgone.services.webhook_queue import DeliveryQueue

log = logging.getLogger(__name__)

RATE_LIMIT_EVENT_EVERY = timedelta(hours=1)
# A replica looks at an account's balance at most this often after charging it.
CREDITS_CHECK_EVERY_SECONDS = 30.0


class PerAccountThrottle:
    """True at most once per `interval` for an account, in this process (a first filter:
    the database's markers decide across replicas)."""

    def __init__(self, interval_seconds: float) -> None:
        self.interval = interval_seconds
        self._last: dict[int, float] = {}
        self._lock = threading.Lock()

    def due(self, account_id: int) -> bool:
        now = time.monotonic()
        with self._lock:
            previous = self._last.get(account_id)
            if previous is not None and now - previous < self.interval:
                return False
            self._last[account_id] = now
            return True


class EventPublisher:
    def __init__(self, queue: DeliveryQueue, clock: Callable[[], datetime] = utc_now) -> None:
        self.queue = queue
        self.clock = clock
        self.rate_limit_throttle = PerAccountThrottle(RATE_LIMIT_EVENT_EVERY.total_seconds())
        self.credits_throttle = PerAccountThrottle(CREDITS_CHECK_EVERY_SECONDS)
        self.credits_later = PerAccountThrottle(CREDITS_CHECK_EVERY_SECONDS)

    def publish(
        self,
        account_id: int,
        event_type: EventType,
        data: dict[str, Any],
        marker: str = "",
        also_endpoint: str = "",
    ) -> None:
        """Enqueue the event for the account's subscribed endpoints (and `also_endpoint`, an
        endpoint id from `WebhookService.endpoint_for_url`); never raises."""
        try:
            self.queue.fan_out(account_id, event_type.value, dict(data), marker, also_endpoint)
        except Exception:  # the queue's storage is down: the event is lost, not the request
            log.exception(
                "could not enqueue webhook event %s for account %s", event_type, account_id
            )

    # -- the typed events ----------------------------------------------------------------
    def key_revoked(self, record: KeyRecord, actor: str) -> None:
        data: KeyRevokedData = {
            "key_id": record.id,
            "name": record.name,
            "environment": record.environment.value,
            "revoked_at": (record.revoked_at or self.clock()).isoformat(),
            "revoked_by": actor,
        }
        self.publish(record.account_id, EventType.KEY_REVOKED, dict(data))

    def key_leaked(self, account_id: int, key_id: str, outcome: str) -> None:
        data: KeyLeakedData = {
            "key_id": key_id,
            "reported_at": self.clock().isoformat(),
            "outcome": outcome,
        }
        self.publish(account_id, EventType.KEY_LEAKED, dict(data))

    def rate_limit_exceeded(self, account_id: int, environment: str, limit: int) -> None:
        """At most once an hour per account: this replica's throttle, then the marker."""
        if not self.rate_limit_throttle.due(account_id):
            return
        now = self.clock()
        data: RateLimitExceededData = {
            "environment": environment,
            "limit_per_minute": limit,
            "at": now.isoformat(),
        }
        marker = f"rate_limit.exceeded:{slot_of(now, RATE_LIMIT_EVENT_EVERY)}"
        self.publish(account_id, EventType.RATE_LIMIT_EXCEEDED, dict(data), marker)

    def credits_charged(self, account_id: int) -> None:
        """Charged: a consumer compares the balance with the account's threshold, now or,
        within a window that had its check, once more at the window's end (so the charge
        that crossed the threshold is always looked at, without a check per charge)."""
        try:
            if self.credits_throttle.due(account_id):
                self.queue.check_credits(account_id)
            elif self.credits_later.due(account_id):
                self.queue.check_credits(account_id, CREDITS_CHECK_EVERY_SECONDS)
        except Exception:
            log.exception("could not enqueue the credits check of account %s", account_id)

    # For the jobs code: `endpoint_id` is the job's webhook_url's endpoint, if it has one.
    def job_completed(self, account_id: int, data: JobCompletedData, endpoint_id: str = "") -> None:
        self.publish(account_id, EventType.JOB_COMPLETED, dict(data), also_endpoint=endpoint_id)

    def job_failed(self, account_id: int, data: JobFailedData, endpoint_id: str = "") -> None:
        self.publish(account_id, EventType.JOB_FAILED, dict(data), also_endpoint=endpoint_id)
