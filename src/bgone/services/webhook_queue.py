"""What the webhook use cases need of the task queue: bgone.services.webhook_tasks gives it
on Huey; the fast unit tier can record the calls."""

from __future__ import annotations

from typing import Any, Protocol


class DeliveryQueue(Protocol):
    def fan_out(
        self,
        account_id: int,
        event_type: str,
        data: dict[str, Any],
        marker: str,
        also_endpoint: str = "",
    ) -> None:
        """Later, on a consumer: make the event's deliveries (once per marker, if any), to
        the subscribed endpoints and to `also_endpoint` (a job's own webhook_url)."""

    def attempt(self, delivery_id: int, delay_seconds: float = 0.0) -> None:
        """Later, on a consumer: one attempt of the delivery, after `delay_seconds`."""

    def check_credits(self, account_id: int, delay_seconds: float = 0.0) -> None:
        """Later, on a consumer: credits.low if the balance is under the threshold."""
