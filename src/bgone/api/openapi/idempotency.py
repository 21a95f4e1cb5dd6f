"""The `Idempotency-Key` header in the OpenAPI document: the parameter, the replay's header and
the errors of a key (bgone.services.idempotency), for every route that takes one."""

from __future__ import annotations

from bgone.api.openapi.errors import case
from bgone.api.openapi.schema import Schema
from bgone.errors import (
    IdempotencyAnswerTooLarge,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
)
from bgone.services.idempotency import HEADER, MAX_KEY_LENGTH, REPLAYED_HEADER

IDEMPOTENCY_PARAMETER: Schema = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "A key of your choice (a random UUID) that makes retrying this request safe: for 24 "
        "hours a request with the same key and the same request (fields, files' contents, "
        "URLs, endpoint) gets the first answer again, with `Idempotent-Replayed: true`, and "
        "is not charged again. Keys are your account's own. The same key with another "
        "request answers 422; while the first is still running, 409 with `Retry-After`. "
        "Answers 429 and 5xx are not kept: a retry runs again."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[!-~]([ -~]*[!-~])?$",
    },
    "example": "5f0d1c3e-8b1a-4c1e-9a63-0c8f3b7e2d41",
}
REPLAY_HEADER: tuple[str, tuple[str, str]] = (
    REPLAYED_HEADER,
    (
        "string",
        "`true` on an answer kept for the request's `Idempotency-Key` and sent again: its "
        "`X-Credits-Charged` is what the first answer cost, charged once, not again.",
    ),
)
IDEMPOTENCY_ERRORS = (
    case(
        InvalidIdempotencyKey,
        f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a random UUID.",
    ),
    case(
        IdempotencyKeyInUse,
        "A request with this Idempotency-Key is still running; retry after it has finished "
        "to get its answer.",
        retry_after=1,
    ),
    case(
        IdempotencyAnswerTooLarge,
        "The request with this Idempotency-Key was answered, but its answer was larger than "
        "the server keeps, so it cannot be sent again; it is not run twice.",
    ),
    case(
        IdempotencyKeyReused,
        "This Idempotency-Key was first sent with another request (other fields, files or "
        "endpoint). Send a new key for a new request.",
    ),
)
