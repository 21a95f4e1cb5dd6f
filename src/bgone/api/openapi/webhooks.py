"""The errors of `/v1/webhooks`, per operation (the bodies and answers are the routes'
pydantic models)."""

from __future__ import annotations

from collections.abc import Sequence

from bgone.api.openapi.errors import ErrorCase, case
from bgone.errors import (
    InvalidEventType,
    InvalidGracePeriod,
    InvalidRequest,
    InvalidThreshold,
    InvalidWebhookUrl,
    NotFound,
)

ENDPOINT_ERRORS = (case(NotFound, "no webhook endpoint whe_5Jd8Qw2xVb7nLp3K"),)
BODY_ERRORS = (
    case(InvalidRequest, "body.event_types: List should have at least 1 item"),
    case(InvalidWebhookUrl, "webhook URLs may not point at private or local addresses"),
    case(InvalidEventType, "unknown event type 'key.exploded'; choose from: job.completed, ..."),
)
ROTATION_ERRORS = (case(InvalidGracePeriod, "the overlap must be between 0 and 7 days"),)
THRESHOLD_ERRORS = (
    case(InvalidRequest, "body.threshold: Input should be a valid number"),
    case(InvalidThreshold, "the threshold must be a positive number of credits"),
)
REDELIVER_ERRORS = (
    case(NotFound, "no delivery 42 for this endpoint"),
    case(InvalidRequest, "path.delivery_id: Input should be a valid integer"),
)


def webhook_operations(
    management: Sequence[ErrorCase],
) -> dict[tuple[str, str], tuple[ErrorCase, ...]]:
    """Each operation's errors: `management` (a manage key's) and its own."""
    one = "/v1/webhooks/{endpoint_id}"
    own: dict[tuple[str, str], tuple[ErrorCase, ...]] = {
        ("get", "/v1/webhooks"): (),
        ("post", "/v1/webhooks"): BODY_ERRORS,
        ("get", "/v1/account/credits-low-threshold"): (),
        ("put", "/v1/account/credits-low-threshold"): THRESHOLD_ERRORS,
        ("get", one): ENDPOINT_ERRORS,
        ("patch", one): (*ENDPOINT_ERRORS, *BODY_ERRORS),
        ("delete", one): ENDPOINT_ERRORS,
        ("post", f"{one}/rotate-secret"): (*ENDPOINT_ERRORS, *ROTATION_ERRORS),
        ("get", f"{one}/deliveries"): ENDPOINT_ERRORS,
        ("post", f"{one}/deliveries/{{delivery_id}}/redeliver"): (
            *ENDPOINT_ERRORS,
            *REDELIVER_ERRORS,
        ),
    }
    return {key: (*management, *errors) for key, errors in own.items()}
