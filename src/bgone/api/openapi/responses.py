"""Responses of the OpenAPI document: result headers, result bodies and error answers.

FastAPI cannot see what the handlers answer with: binary images, the headers set by the
middleware and every error raised as an exception and turned into the one error body. The
header table, the shared component schemas and the builders of success and error responses
live here; which route answers which errors is decided in `bgone.api.openapi`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus

from bgone.api.contracts import REMOVE_BG, RESULT_HEADERS, SUBJECT_TYPE_HEADER, Contract
from bgone.api.openapi.errors import INTERNAL, NO_CREDITS, NOT_ALLOWED, STATUS_MEANING, ErrorCase
from bgone.api.openapi.schema import FILE, JSON, RESULT_TYPES, Schema, ref
from bgone.server.error_dialects import BACKGROUND_ERASE, BGONE, ErrorDialect, ErrorShape

ERROR_BODY = "ErrorBody"
BACKGROUND_ERASE_ERROR_BODY = "BackgroundEraseErrorBody"
# Each body shape's schema in `#/components/schemas`.
ERROR_SCHEMAS = {ErrorShape.ERRORS: ERROR_BODY, ErrorShape.ERROR: BACKGROUND_ERASE_ERROR_BODY}

HEADERS: dict[str, tuple[str, str]] = {
    # name: (JSON Schema type, description)
    "X-Request-ID": ("string", "This request's id; quote it when reporting a problem."),
    "X-Width": ("integer", "Width of the result in pixels."),
    "X-Height": ("integer", "Height of the result in pixels."),
    "X-Foreground-Top": ("integer", "Top edge of the subject's bounding box, in result px."),
    "X-Foreground-Left": ("integer", "Left edge of the subject's bounding box."),
    "X-Foreground-Width": ("integer", "Width of the subject's bounding box."),
    "X-Foreground-Height": ("integer", "Height of the subject's bounding box."),
    "X-Credits-Charged": (
        "number",
        "Credits this request cost: 1, 0.25 or 0 (staging keys); a `best` result may cost "
        "a multiple the operator sets.",
    ),
    "X-Quality": ("string", "The quality that ran: `fast` or `best`."),
    "X-Quality-Models": (
        "string",
        "The models that ran, comma-separated: `u2netp` (fast), up to `u2netp,u2net-int8,isnet`.",
    ),
    SUBJECT_TYPE_HEADER: (
        "string",
        "remove.bg's subject class. bgone does not classify: it is the `type` sent (`graphic` "
        "spelt `graphics`), or `other` for `auto`; absent with `type_level=none`.",
    ),
    "X-RateLimit-Limit": ("integer", "Images (of up to 1 MP each) allowed per minute."),
    "X-RateLimit-Remaining": ("integer", "Images left in the current window."),
    "X-RateLimit-Reset": ("integer", "Unix time at which the window resets."),
    "RateLimit-Policy": ("string", 'IETF draft form of the policy, e.g. `"default";q=500;w=60`.'),
    "RateLimit": ("string", 'IETF draft form of the state, e.g. `"default";r=499;t=42`.'),
    "Retry-After": ("integer", "Seconds to wait before retrying."),
}
RATE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
)
SCHEMAS: dict[str, Schema] = {
    ERROR_BODY: {
        "type": "object",
        "title": ERROR_BODY,
        "description": "The one body every error answers with.",
        "required": ["errors", "request_id"],
        "properties": {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["title", "code", "detail"],
                    "properties": {
                        "title": {"type": "string", "description": "Short, human-readable."},
                        "code": {"type": "string", "description": "Stable; branch on this."},
                        "detail": {"type": "string", "description": "What exactly went wrong."},
                    },
                },
            },
            "request_id": {"type": "string", "description": "Same as `X-Request-ID`."},
        },
        # The first is an everyday error; the others can come from any route.
        "examples": [NO_CREDITS.body(), NOT_ALLOWED.body(), INTERNAL.body()],
    },
    BACKGROUND_ERASE_ERROR_BODY: {
        "type": "object",
        "title": BACKGROUND_ERASE_ERROR_BODY,
        "description": "BackgroundErase's error body, which `/v2` answers with.",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "status", "request_id"],
                "properties": {
                    "code": {"type": "string", "description": "Stable; branch on this."},
                    "message": {"type": "string", "description": "What exactly went wrong."},
                    "status": {"type": "integer", "description": "The HTTP status."},
                    "request_id": {"type": "string", "description": "Same as `X-Request-ID`."},
                },
            }
        },
        "examples": [NO_CREDITS.body(BACKGROUND_ERASE)],
    },
    "Foreground": {
        "type": "object",
        "title": "Foreground",
        "properties": {name: {"type": "integer"} for name in ("top", "left", "width", "height")},
    },
    "RemovalJson": {
        "type": "object",
        "title": "RemovalJson",
        "description": "BackgroundErase/ByByBG JSON answer.",
        "properties": {
            "image_base64": {"type": "string", "contentEncoding": "base64"},
            "format": {"type": "string", "enum": ["png", "webp", "jpg", "zip"]},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "foreground": ref("schemas", "Foreground"),
        },
    },
    "RemoveBgJson": {
        "type": "object",
        "title": "RemoveBgJson",
        "description": "remove.bg's JSON answer.",
        "properties": {
            "data": {
                "type": "object",
                "properties": {
                    "result_b64": {"type": "string", "contentEncoding": "base64"},
                    **{
                        f"foreground_{name}": {"type": "integer"}
                        for name in ("top", "left", "width", "height")
                    },
                },
            }
        },
    },
}


def header_refs(names: Iterable[str]) -> Schema:
    """The named headers as references to `#/components/headers`."""
    return {name: ref("headers", name) for name in names}


def removal_success(contract: Contract) -> Schema:
    content: Schema = {kind: {"schema": FILE} for kind in RESULT_TYPES}
    json_schema = "RemoveBgJson" if contract is REMOVE_BG else "RemovalJson"
    subject = (SUBJECT_TYPE_HEADER,) if contract.sends_subject_type else ()
    content[JSON] = {"schema": ref("schemas", json_schema)}
    return {
        "description": (
            "The result, typed by `format`: PNG, JPEG, WebP, or a ZIP of `color.jpg` and "
            "`alpha.png`. With `Accept: application/json` (or a JSON request body) the image "
            "comes base64-encoded in JSON."
        ),
        "headers": header_refs(("X-Request-ID", *RESULT_HEADERS, *subject, *RATE_HEADERS)),
        "content": content,
    }


def error_responses(cases: Iterable[ErrorCase], dialect: ErrorDialect = BGONE) -> dict[str, Schema]:
    """One response per status `dialect` answers, with every code it can carry and an example
    of each in the dialect's body (remove.bg's 403 carries the authentication codes too)."""
    by_status: dict[int, list[ErrorCase]] = {}
    for item in cases:
        known = by_status.setdefault(dialect.status_of(item.status), [])
        if all(item.code != other.code for other in known):
            known.append(item)
    responses: dict[str, Schema] = {}
    for status in sorted(by_status):
        group = by_status[status]
        codes = ", ".join(f"`{item.code}`" for item in group)
        phrase = HTTPStatus(status).phrase
        headers = ["X-Request-ID"]
        if any(item.retry_after for item in group):
            headers.append("Retry-After")
        if status == 429:
            headers += RATE_HEADERS
        # The catalogue's statuses this one stands for, each with its meaning, in order.
        meanings = dict.fromkeys(STATUS_MEANING.get(item.status, "") for item in group)
        meaning = " ".join(text for text in sorted(meanings, key=_catalogue_order(group)) if text)
        responses[str(status)] = {
            "description": f"{phrase}. {meaning} Codes: {codes}.",
            "headers": header_refs(headers),
            "content": {
                JSON: {
                    "schema": ref("schemas", ERROR_SCHEMAS[dialect.shape]),
                    "examples": {
                        item.code: {"summary": item.title, "value": item.body(dialect)}
                        for item in group
                    },
                }
            },
        }
    return responses


def _catalogue_order(group: list[ErrorCase]) -> Callable[[str], int]:
    """Meanings in the order of the catalogue's statuses (401's before 403's)."""
    order = {STATUS_MEANING.get(item.status, ""): item.status for item in group}
    return lambda text: order[text]
