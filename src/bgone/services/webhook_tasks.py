"""The webhook tasks on the deployment's Huey: fan-out, one attempt, the credits check, and
the periodic key-expiry scan.

Every process registers them (an API replica to enqueue, a consumer to run); a consumer
binds the handlers (`handle_with`) before it starts. One Huey task per attempt: retries are
ours (the back-off in bgone.domain.webhook_deliveries, each next attempt scheduled with a
delay), not Huey's, so a delivery's log and state live in bgone's database.
"""

from __future__ import annotations

import logging
from typing import Any

from huey import Huey, crontab

from bgone.services.webhook_delivery import DeliveryAttempts
from bgone.services.webhook_fanout import EventFanOut

log = logging.getLogger(__name__)


class HandlersMissing(RuntimeError):
    """A consumer ran a webhook task before `handle_with` (a wiring mistake)."""


class WebhookTasks:
    """A DeliveryQueue on Huey (bgone.services.webhook_queue)."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self.fanout: EventFanOut | None = None
        self.attempts: DeliveryAttempts | None = None
        self._fan_out_task = huey.task(name="webhooks.fan_out")(self._run_fan_out)
        self._attempt_task = huey.task(name="webhooks.attempt")(self._run_attempt)
        self._credits_task = huey.task(name="webhooks.check_credits")(self._run_check_credits)
        self._scan_task = huey.periodic_task(crontab(minute="*/10"), name="webhooks.key_expiring")(
            self._run_scan
        )

    def handle_with(self, fanout: EventFanOut, attempts: DeliveryAttempts) -> None:
        self.fanout, self.attempts = fanout, attempts

    # -- DeliveryQueue: enqueue ------------------------------------------------------------
    def fan_out(
        self,
        account_id: int,
        event_type: str,
        data: dict[str, Any],
        marker: str,
        also_endpoint: str = "",
    ) -> None:
        self._fan_out_task(account_id, event_type, data, marker, also_endpoint)

    def attempt(self, delivery_id: int, delay_seconds: float = 0.0) -> None:
        if delay_seconds > 0:
            self._attempt_task.schedule(args=(delivery_id,), delay=delay_seconds)
        else:
            self._attempt_task(delivery_id)

    def check_credits(self, account_id: int, delay_seconds: float = 0.0) -> None:
        if delay_seconds > 0:
            self._credits_task.schedule(args=(account_id,), delay=delay_seconds)
        else:
            self._credits_task(account_id)

    # -- run, on a consumer ----------------------------------------------------------------
    def _handlers(self) -> tuple[EventFanOut, DeliveryAttempts]:
        if self.fanout is None or self.attempts is None:
            raise HandlersMissing("webhook tasks run before handle_with()")
        return self.fanout, self.attempts

    def _run_fan_out(
        self,
        account_id: int,
        event_type: str,
        data: dict[str, Any],
        marker: str,
        also_endpoint: str = "",
    ) -> None:
        self._handlers()[0].fan_out(account_id, event_type, data, marker, also_endpoint)

    def _run_attempt(self, delivery_id: int) -> None:
        self._handlers()[1].attempt(delivery_id)

    def _run_check_credits(self, account_id: int) -> None:
        self._handlers()[0].check_credits(account_id)

    def _run_scan(self) -> None:
        fanout, attempts = self._handlers()
        made = fanout.scan_expiring_keys()
        if made:
            log.info("key.expiring: %d events", made)
        lost = attempts.requeue_lost()
        if lost:
            log.warning("webhooks: %d lost attempts queued again", lost)
        pruned = attempts.prune_log()
        if pruned:
            log.info("webhooks: %d ended deliveries past the log's retention deleted", pruned)
