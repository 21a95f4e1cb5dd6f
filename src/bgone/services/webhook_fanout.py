"""The consumer's side of an event: which endpoints get it, once-only markers, and the
periodic scans (keys about to expire) and checks (credits under the threshold).

Runs in task-queue consumers, never in a request. A marker and the deliveries it allows
are written in one transaction, so a consumer that dies between them sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import ApiKeyRow
from bgone.domain import accounts, credits, credits_low, webhook_deliveries, webhook_endpoints
from bgone.domain.clock import utc_now
from bgone.domain.periodic_claims import claim, slot_of
from bgone.domain.webhook_events import CreditsLowData, EventType, KeyExpiringData, envelope
from bgone.domain.webhook_markers import first_time
from bgone.security.keys import random_base62
from bgone.services.webhook_queue import DeliveryQueue

# The notices before a key expires, longest first: each is sent once per key.
EXPIRY_NOTICES = (timedelta(days=7), timedelta(days=1))
SCAN_EVERY = timedelta(minutes=10)
SCAN_TASK = "webhooks.key_expiring"


def new_event_id() -> str:
    return "msg_" + random_base62(24)


class EventFanOut:
    def __init__(
        self,
        sessions: SessionFactory,
        queue: DeliveryQueue,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions = sessions
        self.queue = queue
        self.clock = clock

    def fan_out(
        self,
        account_id: int,
        event_type: str,
        data: dict[str, Any],
        marker: str,
        also_endpoint: str = "",
    ) -> list[int]:
        """The event's deliveries, made and enqueued; none when the marker was set already.
        `also_endpoint`: one more of the account's endpoints (a job's webhook_url), enabled,
        whatever it subscribed to."""
        kind = EventType(event_type)
        now = self.clock()
        with transaction(self.sessions) as session:
            targets = webhook_endpoints.subscribed(session, account_id, kind)
            if also_endpoint and all(target.id != also_endpoint for target in targets):
                extra = webhook_endpoints.find(session, account_id, also_endpoint)
                if extra is not None and extra.enabled:
                    targets.append(extra)
            if not targets:
                return []  # no marker either: an endpoint added later still hears of it
            if marker and not first_time(session, account_id, marker, now):
                return []
            body, event_id = envelope(kind, data, now), new_event_id()
            made = [
                webhook_deliveries.create(session, endpoint.id, event_id, kind.value, body, now)
                for endpoint in targets
            ]
        for delivery_id in made:
            self.queue.attempt(delivery_id)
        return made

    def check_credits(self, account_id: int) -> list[int]:
        """credits.low, once per credit period, when the balance is under the threshold."""
        now = self.clock()
        with transaction(self.sessions) as session:
            threshold = credits_low.threshold_of(session, account_id)
            if threshold is None:
                return []
            account = accounts.get_by_id(session, account_id)
            balance = credits.balance(session, account_id, accounts.effective_limits(account), now)
        if balance.remaining_milli >= threshold:
            return []
        data: CreditsLowData = {
            "period": balance.period,
            "remaining": balance.remaining,
            "threshold": threshold / 1000,
        }
        marker = f"credits.low:{balance.period}"
        return self.fan_out(account_id, EventType.CREDITS_LOW.value, dict(data), marker)

    def scan_expiring_keys(self) -> int:
        """key.expiring for every key within a notice of its end; once per slot, whichever
        consumer's scheduler fires first. How many events were made."""
        now = self.clock()
        with transaction(self.sessions) as session:
            if not claim(session, SCAN_TASK, slot_of(now, SCAN_EVERY), now):
                return 0
            rows = list(
                session.scalars(
                    select(ApiKeyRow).where(
                        ApiKeyRow.expires_at.is_not(None),
                        ApiKeyRow.expires_at > now,
                        ApiKeyRow.expires_at <= now + EXPIRY_NOTICES[0],
                        ApiKeyRow.revoked_at.is_(None),
                        # A rotated-out key's end is its grace, which the rotation chose.
                        ApiKeyRow.replaced_by.is_(None),
                    )
                )
            )
        made = 0
        for row in rows:
            assert row.expires_at is not None
            notice = min(n for n in EXPIRY_NOTICES if row.expires_at - now <= n)
            data: KeyExpiringData = {
                "key_id": row.id,
                "name": row.name,
                "environment": row.environment,
                "expires_at": row.expires_at.isoformat(),
                "days_before": notice.days,
            }
            marker = f"key.expiring:{row.id}:{notice.days}d"
            if self.fan_out(row.account_id, EventType.KEY_EXPIRING.value, dict(data), marker):
                made += 1
        return made
