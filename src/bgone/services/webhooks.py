"""Webhook endpoints as every front end manages them: the `/v1/webhooks` API (manage keys)
and the dashboard (owners and admins); `endpoint_for_url` checks a job's `webhook_url`.

Each change is one transaction; a redelivery is enqueued, never sent in the request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import WEBHOOK_URL_LENGTH
from bgone.domain import credits_low, webhook_deliveries, webhook_endpoints
from bgone.domain.clock import utc_now
from bgone.domain.credits import credits_to_milli
from bgone.domain.roles import Permission, require
from bgone.domain.webhook_deliveries import Delivery
from bgone.domain.webhook_endpoints import Endpoint, EndpointChanges, EndpointWithSecret
from bgone.domain.webhook_events import parse_event_types
from bgone.errors import InvalidThreshold, InvalidWebhookUrl
from bgone.infra.url_fetch import IpNetwork, is_refused
from bgone.security.hashing import SecretRing
from bgone.services.keys import KeyActor
from bgone.services.webhook_queue import DeliveryQueue


@dataclass(frozen=True)
class EndpointUpdate:
    """An update as the front ends receive it: None leaves a field as it is."""

    url: str | None = None
    event_types: Sequence[str] | None = None
    enabled: bool | None = None


class WebhookService:
    def __init__(
        self,
        sessions: SessionFactory,
        read_sessions: SessionFactory,
        ring: SecretRing,
        queue: DeliveryQueue,
        allowed_networks: tuple[IpNetwork, ...] = (),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.ring = ring
        self.queue = queue
        self.allowed_networks = allowed_networks
        self.clock = clock

    def _check_url(self, url: str) -> str:
        checked = webhook_endpoints.check_url(url)
        host = urlsplit(checked).hostname or ""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return checked  # a name: resolved and vetted at every delivery
        if is_refused(literal, self.allowed_networks):
            raise InvalidWebhookUrl("webhook URLs may not point at private or local addresses")
        return checked

    def _may_manage(self, by: KeyActor) -> None:
        require(by.granted, Permission.MANAGE_WEBHOOKS, "managing webhooks")

    def list_endpoints(self, by: KeyActor) -> list[Endpoint]:
        self._may_manage(by)
        with transaction(self.read_sessions) as session:
            return webhook_endpoints.list_endpoints(session, by.account_id)

    def get(self, by: KeyActor, endpoint_id: str) -> Endpoint:
        self._may_manage(by)
        with transaction(self.read_sessions) as session:
            return webhook_endpoints.get(session, by.account_id, endpoint_id)

    def create(self, by: KeyActor, url: str, event_types: Sequence[str]) -> EndpointWithSecret:
        self._may_manage(by)
        checked, types = self._check_url(url), parse_event_types(event_types)
        with transaction(self.sessions) as session:
            return webhook_endpoints.create(
                session, by.account_id, checked, types, self.ring, self.clock()
            )

    def update(self, by: KeyActor, endpoint_id: str, changes: EndpointUpdate) -> Endpoint:
        self._may_manage(by)
        checked = EndpointChanges(
            url=self._check_url(changes.url) if changes.url is not None else None,
            event_types=parse_event_types(changes.event_types)
            if changes.event_types is not None
            else None,
            enabled=changes.enabled,
        )
        with transaction(self.sessions) as session:
            endpoint = webhook_endpoints.update(session, by.account_id, endpoint_id, checked)
            if changes.enabled is False:
                webhook_deliveries.cancel_pending(session, endpoint_id, "endpoint disabled")
            return endpoint

    def delete(self, by: KeyActor, endpoint_id: str) -> Endpoint:
        self._may_manage(by)
        with transaction(self.sessions) as session:
            return webhook_endpoints.remove(session, by.account_id, endpoint_id)

    def rotate_secret(
        self,
        by: KeyActor,
        endpoint_id: str,
        overlap: timedelta = webhook_endpoints.DEFAULT_ROTATION_OVERLAP,
    ) -> EndpointWithSecret:
        self._may_manage(by)
        with transaction(self.sessions) as session:
            return webhook_endpoints.rotate_secret(
                session, by.account_id, endpoint_id, self.ring, self.clock(), overlap
            )

    def deliveries(self, by: KeyActor, endpoint_id: str) -> list[Delivery]:
        self._may_manage(by)
        with transaction(self.read_sessions) as session:
            webhook_endpoints.get(session, by.account_id, endpoint_id)  # 404 for others'
            return webhook_deliveries.log_of(session, endpoint_id)

    def redeliver(self, by: KeyActor, endpoint_id: str, delivery_id: int) -> int:
        """A new delivery of the same message; its first attempt is enqueued."""
        self._may_manage(by)
        with transaction(self.sessions) as session:
            webhook_endpoints.get(session, by.account_id, endpoint_id)
            new_id = webhook_deliveries.redeliver(session, endpoint_id, delivery_id, self.clock())
        self.queue.attempt(new_id)
        return new_id

    def credits_low_threshold(self, account_id: int) -> float | None:
        with transaction(self.read_sessions) as session:
            milli = credits_low.threshold_of(session, account_id)
        return None if milli is None else milli / 1000

    def set_credits_low_threshold(self, by: KeyActor, credits: str | float | None) -> None:
        """`credits` as typed ("" or None: no credits.low events)."""
        self._may_manage(by)
        milli = None
        if credits is not None and str(credits).strip():
            try:
                milli = credits_to_milli(str(credits).strip())
            except (ValueError, ArithmeticError):
                raise InvalidThreshold("the threshold must be a number of credits") from None
        with transaction(self.sessions) as session:
            credits_low.set_threshold(session, by.account_id, milli)

    def endpoint_for_url(self, account_id: int, url: str) -> Endpoint | None:
        """The account's registered endpoint at `url` (a job's webhook_url must be one)."""
        if len(url) > WEBHOOK_URL_LENGTH or "\x00" in url:
            return None  # could not have been registered
        with transaction(self.read_sessions) as session:
            return webhook_endpoints.endpoint_for_url(session, account_id, url.strip())
