"""The JSON shapes of `/v1/webhooks`: pydantic models (the OpenAPI document's schemas) and
the functions that fill them from the domain's records."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bgone.domain.webhook_deliveries import Delivery
from bgone.domain.webhook_endpoints import Endpoint
from bgone.domain.webhook_events import ALL_EVENT_TYPES

EVENT_TYPES_HELP = "Any of: " + ", ".join(f"`{event.value}`" for event in ALL_EVENT_TYPES) + "."


class NewEndpoint(BaseModel):
    url: str = Field(max_length=2048, description="Where events are POSTed (http or https).")
    event_types: list[str] = Field(min_length=1, max_length=20, description=EVENT_TYPES_HELP)


class EndpointPatch(BaseModel):
    url: str | None = Field(default=None, max_length=2048)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=20)
    enabled: bool | None = Field(
        default=None, description="false stops deliveries; true enables a disabled endpoint."
    )


class SecretRotation(BaseModel):
    overlap: str = Field(
        default="24h",
        description="How long the old secret keeps signing beside the new one (0 to 7d).",
    )


class Threshold(BaseModel):
    threshold: float | None = Field(
        description="credits.low is sent once per period below this balance; null: never."
    )


class EndpointDocument(BaseModel):
    id: str
    url: str
    event_types: list[str]
    enabled: bool
    created_at: datetime
    disabled_reason: str | None = Field(description="Why bgone disabled it, if it did.")
    disabled_at: datetime | None
    failing_since: datetime | None = Field(description="The first failure since a success.")


class EndpointWithSecretDocument(EndpointDocument):
    secret: str = Field(description="The signing secret (whsec_...): shown only in this answer.")


class DeliveryDocument(BaseModel):
    id: int
    event_id: str = Field(description="The webhook-id header; the same on every attempt.")
    event_type: str
    state: str = Field(description="pending, succeeded, failed or cancelled.")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None = Field(description="The endpoint's HTTP status; null: no answer.")
    last_error: str | None
    response_ms: int | None
    response_excerpt: str | None = Field(description="At most 1 KB of the answer's body.")
    payload: str = Field(description="The body as sent and signed.")


class EndpointAnswer(BaseModel):
    data: EndpointDocument


class EndpointList(BaseModel):
    data: list[EndpointDocument]


class EndpointWithSecretAnswer(BaseModel):
    data: EndpointWithSecretDocument


class DeliveryList(BaseModel):
    data: list[DeliveryDocument]


class Redelivered(BaseModel):
    delivery_id: int


class RedeliveredAnswer(BaseModel):
    data: Redelivered


class ThresholdAnswer(BaseModel):
    data: Threshold


def endpoint_document(endpoint: Endpoint) -> EndpointDocument:
    return EndpointDocument(
        id=endpoint.id,
        url=endpoint.url,
        event_types=[event.value for event in endpoint.event_types],
        enabled=endpoint.enabled,
        created_at=endpoint.created_at,
        disabled_reason=endpoint.disabled_reason,
        disabled_at=endpoint.disabled_at,
        failing_since=endpoint.failing_since,
    )


def with_secret(endpoint: Endpoint, secret: str) -> EndpointWithSecretDocument:
    return EndpointWithSecretDocument(**endpoint_document(endpoint).model_dump(), secret=secret)


def delivery_document(delivery: Delivery) -> DeliveryDocument:
    return DeliveryDocument(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        state=delivery.state,
        attempts=delivery.attempts,
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at,
        last_attempt_at=delivery.last_attempt_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        response_ms=delivery.response_ms,
        response_excerpt=delivery.response_excerpt,
        payload=delivery.payload,
    )
