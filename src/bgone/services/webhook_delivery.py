"""One attempt of one delivery: sign, POST under the address rules, log, schedule the next.

A 2xx answer ends the delivery; anything else (another status, no answer, a refused
address) schedules the next attempt on the back-off, until RETRY_DELAYS run out. An
endpoint whose every attempt has failed for DISABLE_AFTER is disabled, its pending
deliveries cancelled, and the account's owners are mailed (when SMTP is configured).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import members, webhook_deliveries, webhook_endpoints
from bgone.domain.clock import utc_now
from bgone.domain.periodic_claims import claim, slot_of
from bgone.domain.roles import Role
from bgone.domain.webhook_deliveries import RETRY_DELAYS, AttemptResult
from bgone.infra.mailer import Mailer
from bgone.security.hashing import SecretRing
from bgone.security.webhook_signing import signed_headers
from bgone.services.webhook_queue import DeliveryQueue

log = logging.getLogger(__name__)

DISABLE_AFTER = timedelta(days=3)
# An attempt this far past its time is taken as lost with its consumer, and queued again.
LOST_AFTER = timedelta(minutes=10)
REQUEUE_TASK = "webhooks.requeue_lost"
# The delivery log keeps ended deliveries this long by default (BGONE_WEBHOOK_LOG_RETENTION);
# one consumer prunes it per PRUNE_EVERY.
LOG_RETENTION = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)
PRUNE_TASK = "webhooks.prune_log"


class Sender(Protocol):
    def post(self, url: str, body: str, headers: Mapping[str, str]) -> AttemptResult: ...


class DeliveryAttempts:
    def __init__(
        self,
        sessions: SessionFactory,
        ring: SecretRing,
        sender: Sender,
        queue: DeliveryQueue,
        mailer: Mailer | None = None,
        public_url: str = "",
        clock: Callable[[], datetime] = utc_now,
        delays: Sequence[timedelta] = RETRY_DELAYS,
        log_retention: timedelta = LOG_RETENTION,
    ) -> None:
        self.delays = tuple(delays)
        self.log_retention = log_retention
        self.sessions = sessions
        self.ring = ring
        self.sender = sender
        self.queue = queue
        self.mailer = mailer
        self.public_url = public_url
        self.clock = clock

    def requeue_lost(self) -> int:
        """Queue again the attempts that are overdue by LOST_AFTER (their consumer died
        holding them); once per slot, whichever consumer's scheduler fires first. An attempt
        merely late is sent twice at worst: receivers deduplicate by `webhook-id`."""
        now = self.clock()
        with transaction(self.sessions) as session:
            if not claim(session, REQUEUE_TASK, slot_of(now, LOST_AFTER), now):
                return 0
            lost = webhook_deliveries.overdue(session, now - LOST_AFTER)
        for delivery_id in lost:
            self.queue.attempt(delivery_id)
        return len(lost)

    def prune_log(self) -> int:
        """Delete ended deliveries older than the log's retention; once per slot, whichever
        consumer's scheduler fires first. How many were deleted."""
        now = self.clock()
        with transaction(self.sessions) as session:
            if not claim(session, PRUNE_TASK, slot_of(now, PRUNE_EVERY), now):
                return 0
            return webhook_deliveries.forget_ended_before(session, now - self.log_retention)

    def attempt(self, delivery_id: int) -> AttemptResult | None:
        """One attempt; None when the delivery has nothing left to attempt."""
        now = self.clock()
        with transaction(self.sessions) as session:
            work = webhook_deliveries.work_for(session, delivery_id)
            if work is None:
                return None
            if not work.enabled:
                webhook_deliveries.cancel(session, delivery_id, "endpoint disabled")
                return None
            secrets = webhook_endpoints.signing_secrets(
                session, work.delivery.endpoint_id, self.ring, now
            )
        headers = signed_headers(secrets, work.delivery.event_id, now, work.delivery.payload)
        # Outside any transaction: the endpoint may take up to the deadline to answer.
        result = self.sender.post(work.url, work.delivery.payload, headers)
        done = self.clock()
        disabled = False
        with transaction(self.sessions) as session:
            delay = webhook_deliveries.record_attempt(
                session, delivery_id, result, done, self.delays
            )
            endpoint_id = work.delivery.endpoint_id
            if result.succeeded:
                webhook_endpoints.note_success(session, endpoint_id)
            else:
                disabled = webhook_endpoints.note_failure(session, endpoint_id, done, DISABLE_AFTER)
                if disabled:
                    webhook_deliveries.cancel_pending(session, endpoint_id, "endpoint disabled")
                    delay = None
        if delay is not None:
            self.queue.attempt(delivery_id, delay.total_seconds())
        if disabled:
            self._tell_owners(work.account_id, work.url)
        return result

    def _tell_owners(self, account_id: int, url: str) -> None:
        if self.mailer is None:
            return
        with transaction(self.sessions) as session:
            owners = [
                member.email
                for member in members.list_members(session, account_id)
                if member.role is Role.OWNER
            ]
        page = f"{self.public_url.rstrip('/')}/account/webhooks" if self.public_url else ""
        body = (
            f"Every delivery to your webhook endpoint {url} has failed for "
            f"{DISABLE_AFTER.days} days, so bgone has disabled it. Events are no longer sent "
            "to it. Fix the receiver, then enable the endpoint again on the Webhooks page"
            + (f": {page}" if page else ".")
            + "\n"
        )
        for email in owners:
            self.mailer.send_later(email, "A bgone webhook endpoint was disabled", body)
