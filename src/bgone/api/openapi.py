"""The OpenAPI document, completed with what FastAPI cannot see in the handlers.

The removal endpoints read their bodies by hand (three contracts, several body kinds) and
every failure answers with one error shape from an exception handler, so FastAPI's generated
document lacks request bodies, binary results, result headers and error responses. They are
added here from tables: the contracts of `bgone.api.contracts`, the option enums of
`bgone.inference.options` and the error classes with their stable codes. The docs pages
render the same document, so the reference and the API cannot drift apart.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from bgone.api.auth import HOW_TO, TooManyInvalidKeys
from bgone.api.browser import PROXY_GUIDE, BrowserRequestRefused
from bgone.api.contracts import (
    ACCEPTED_BOOLEANS,
    ACCEPTED_ONLY,
    BACKGROUND_ERASE,
    BYBYBG,
    REMOVE_BG,
    Contract,
    MultipleBgSources,
)
from bgone.api.deps import CsrfTokenMissing, ProductionKeyRequired
from bgone.api.errors import InvalidRequest
from bgone.domain.errors import (
    AccountSuspended,
    ExpiredApiKey,
    InsufficientCredits,
    InvalidApiKey,
    InvalidEnvironment,
    InvalidExpiry,
    InvalidGracePeriod,
    InvalidKeyName,
    KeyLimitReached,
    KeyNotActive,
    MissingApiKey,
    NotFound,
    PlanWithoutApiAccess,
    RevokedApiKey,
)
from bgone.errors import (
    BgoneError,
    FailedImageDownload,
    FailedToReadImage,
    FileTooLarge,
    InvalidFileType,
    InvalidImageUrl,
    InvalidOption,
    MissingSource,
    ModelNotInstalled,
    MultipleSources,
    RateLimitExceeded,
    ResolutionTooHigh,
    ServerBusy,
    ServiceUnavailable,
    UnknownForeground,
    UnknownModel,
)
from bgone.inference.options import SIZE_ALIASES, Channels, OutputFormat, Refinement, Size

Schema = dict[str, Any]

ERROR_BODY = "ErrorBody"
EXAMPLE_REQUEST_ID = "9c5b94b1f3a84d0e8f6f2a7d31c2e4b0"
KEY_SCHEME = "APIKeyHeader"  # declared by bgone.api.deps (the x-api-key header)
BEARER_SCHEME = "BearerAuth"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
RESULT_TYPES = (*IMAGE_TYPES, "application/zip")
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
JSON = "application/json"


def _ref(kind: str, name: str) -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


# -- errors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    """One stable error code with an example of its body."""

    status: int
    code: str
    title: str
    detail: str
    retry_after: int | None = None

    def body(self) -> Schema:
        return {
            "errors": [{"title": self.title, "code": self.code, "detail": self.detail}],
            "request_id": EXAMPLE_REQUEST_ID,
        }


def case(
    error: type[BgoneError], detail: str, *, code: str | None = None, retry_after: int | None = None
) -> ErrorCase:
    return ErrorCase(error.status, code or error.code, error.title, detail, retry_after)


def option_case(name: str, detail: str) -> ErrorCase:
    return case(InvalidOption, detail, code=f"invalid_{name}")


MISSING_KEY = case(MissingApiKey, f"No API key was sent. {HOW_TO}")
INVALID_KEY = case(
    InvalidApiKey,
    "The API key is malformed (bad checksum). Check that it was copied whole; keys look like "
    "bgone_live_ followed by 38 letters and digits.",
)
REVOKED_KEY = case(RevokedApiKey, "this API key has been revoked")
EXPIRED_KEY = case(ExpiredApiKey, "this API key has expired; use the key that replaced it")
INVALID_KEYS_THROTTLED = case(
    TooManyInvalidKeys,
    "More than 30 requests with an invalid API key came from your address this minute. "
    "Check the key you send; retry after 33 s.",
    retry_after=33,
)
BROWSER_REFUSED = case(
    BrowserRequestRefused,
    "This request carries an API key and comes from the web page at 'https://shop.example'. "
    f"Anyone who opens that page can read the key. Call bgone from your backend: see "
    f"{PROXY_GUIDE}.",
)
NO_API_ACCESS = case(PlanWithoutApiAccess, "your plan does not include API access")
SUSPENDED = case(AccountSuspended, "this account is suspended; contact the operator")
NO_CREDITS = case(InsufficientCredits, "this request needs 1 credits and 0.25 remain this month")
RATE_LIMITED = case(
    RateLimitExceeded,
    "More than 500 images (of up to 1 MP each) per minute for this account. Retry after 12 s.",
    retry_after=12,
)
TOO_LARGE = case(FileTooLarge, "File exceeds the limit of 25 MB (31457280 bytes received).")
WRONG_TYPE = case(InvalidFileType, "Expected a JPEG, PNG or WebP image, received a GIF image.")
BUSY = case(
    ServerBusy, "The server is processing as many images as it can; retry shortly.", retry_after=2
)
UNAVAILABLE = case(ServiceUnavailable, "The database is unavailable; retry shortly.", retry_after=5)
MODEL_MISSING = case(
    ModelNotInstalled, "model 'u2netp' is not installed; run `bgone models pull u2netp`"
)
PRODUCTION_ONLY = case(
    ProductionKeyRequired, "Managing keys needs a production key of the account."
)
DASHBOARD_CSRF = case(
    CsrfTokenMissing, "Requests from the dashboard must carry the X-CSRF-Token header."
)

# What every key-protected route can answer, in the order a request meets them.
AUTH_ERRORS = (
    MISSING_KEY,
    INVALID_KEY,
    REVOKED_KEY,
    EXPIRED_KEY,
    INVALID_KEYS_THROTTLED,
    BROWSER_REFUSED,
    NO_API_ACCESS,
    SUSPENDED,
)

REMOVAL_ERRORS = (
    case(MissingSource, "No image was sent. Send one of: image_file, image_base64, image_url."),
    case(MultipleSources, "Send exactly one image source; got image_file, image_url."),
    case(FailedToReadImage, "The jpeg data is corrupt or truncated."),
    case(
        ResolutionTooHigh,
        "The image has 61.2 MP; your plan allows up to 25 MP.",
    ),
    case(UnknownForeground, "No foreground was found to crop to."),
    case(UnknownModel, "Unknown model 'u3net'. Known models: isnet, u2netp."),
    option_case("json", "The JSON body could not be parsed."),
    NO_CREDITS,
    TOO_LARGE,
    WRONG_TYPE,
    RATE_LIMITED,
    BUSY,
    MODEL_MISSING,
)
URL_ERRORS = (
    case(InvalidImageUrl, "Refused: intranet.local resolves to a non-public address."),
    case(FailedImageDownload, "The image URL answered HTTP 404."),
    case(FailedImageDownload, "The download took longer than 10 s.", code="image_download_timeout"),
)
BG_URL_ERRORS = (
    case(MultipleBgSources, "Send at most one background; got bg_image_url, bg_color."),
    case(
        InvalidImageUrl,
        "Only http and https URLs with a host are accepted.",
        code="invalid_bg_image_url",
    ),
    case(FailedImageDownload, "The image URL answered HTTP 404.", code="failed_bg_download"),
    case(FailedImageDownload, "The download took longer than 10 s.", code="bg_download_timeout"),
)
KEY_ID_ERRORS = (case(NotFound, "no API key key_7Hq2LmX9pR4tVb1c"),)
NEW_KEY_ERRORS = (
    case(InvalidRequest, "body.name: String should have at least 1 character"),
    case(InvalidKeyName, "key names are at most 100 characters"),
    case(InvalidEnvironment, "environment must be one of: production, staging"),
    case(InvalidExpiry, "a key's expiry must lie in the future"),
    case(InvalidGracePeriod, "'soon' is not a duration; use e.g. '0', '90s', '30m', '24h' or '7d'"),
    case(KeyLimitReached, "this account may have 10 active keys; revoke one to create another"),
)
ROTATE_ERRORS = (
    case(InvalidGracePeriod, "grace must be between 0 and 30 days"),
    case(KeyNotActive, "key key_7Hq2LmX9pR4tVb1c is revoked and cannot be rotated"),
)

# What each status means, for the response descriptions.
STATUS_MEANING = {
    400: "The request is malformed or an option has a value outside its documented range.",
    401: "No usable API key: none was sent, or it is malformed, unknown, revoked or expired.",
    402: "Not enough credits left this month. Errors never cost credits.",
    403: "Refused: the plan, account or key may not do this, or the key came from a web page.",
    404: "No such key in your account.",
    409: "The key is not active.",
    413: "The image (or the whole request body) is larger than the server accepts.",
    415: "The image is not a JPEG, PNG or WebP (recognised by content, not by name).",
    429: (
        "Too many images this minute for your account, or too many invalid keys from your "
        "address; retry after `Retry-After` seconds."
    ),
    503: "The server is busy or a dependency is unavailable; retry after `Retry-After` seconds.",
}


# -- request fields ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldDoc:
    name: str
    schema: Schema
    description: str
    # Which body kinds can carry it: files only travel in multipart.
    media_types: tuple[str, ...] = (MULTIPART, URLENCODED, JSON)


FILE = {"type": "string", "format": "binary"}
BASE64 = {"type": "string", "contentEncoding": "base64"}
URL = {"type": "string", "format": "uri"}
BOOLEAN_NOTE = " Also `1`/`0`, `true`/`false`, `yes`/`no`, any case."
ACCEPTED_NOTE = " Accepted for compatibility and validated; it does not change the result."


def _enum(values: Iterable[str], default: str | None = None) -> Schema:
    schema: Schema = {"type": "string", "enum": list(dict.fromkeys(values))}
    if default is not None:
        schema["default"] = default
    return schema


def _boolean(default: bool = False) -> Schema:
    return {"type": "boolean", "default": default}


def source_fields(contract: Contract) -> list[FieldDoc]:
    """The image (and, for remove.bg, background) sources a contract accepts."""
    fields = [
        FieldDoc(
            name,
            FILE,
            "The image file: JPEG, PNG or WebP, recognised by content, up to the upload limit "
            "(25 MB by default)."
            + (" Alias of `file`." if name != contract.file_fields[0] else ""),
            (MULTIPART,),
        )
        for name in contract.file_fields
    ]
    fields += [
        FieldDoc(name, BASE64, "The image as base64 (a `data:` URI is accepted too).")
        for name in contract.base64_fields
    ]
    fields += [
        FieldDoc(name, URL, "A public http(s) URL bgone downloads the image from.")
        for name in contract.url_fields
    ]
    fields += [
        FieldDoc(name, BASE64, "Legacy: the image as base64; the answer is the mask only.")
        for name in contract.alpha_base64_fields
    ]
    if contract.accepts_bg_sources:
        fields += [
            FieldDoc(
                "bg_image_file",
                FILE,
                "A background picture, scaled to cover. At most one of `bg_color`, "
                "`bg_image_file`, `bg_image_url`.",
                (MULTIPART,),
            ),
            FieldDoc("bg_image_url", URL, "A background picture downloaded from this URL."),
        ]
    return fields


def option_fields(contract: Contract) -> list[FieldDoc]:
    """The engine's options with this contract's defaults."""
    defaults = contract.defaults
    return [
        FieldDoc(
            "size",
            _enum([*(s.value for s in Size), *SIZE_ALIASES], defaults.size.value),
            "Output resolution: `preview` (~0.25 MP, 0.25 credit), `medium` (~1.5 MP), `hd` "
            "(~4 MP), `full` (original, 1 credit), `auto` (full, or preview when credits are "
            "short). Never upscales. `small`/`regular` mean preview, `4k`/`50mp` mean full.",
        ),
        FieldDoc(
            "format",
            _enum([*(f.value for f in OutputFormat), "jpeg"], defaults.format.value),
            "`png`, `webp`, `jpg` (flattened over `bg_color` or white), `zip` (`color.jpg` + "
            "`alpha.png`), or `auto` (PNG if anything is transparent, else JPEG).",
        ),
        FieldDoc(
            "channels",
            _enum((c.value for c in Channels), defaults.channels.value),
            "`rgba`: the cut-out; `alpha`: the mask only, one channel.",
        ),
        FieldDoc("crop", _boolean(defaults.crop), "Crop to the subject." + BOOLEAN_NOTE),
        FieldDoc(
            "crop_margin",
            {"type": "string", "default": "0", "examples": ["10px", "5%", "10px 20px"]},
            "Margin around the cropped subject in px or %, 1, 2 or 4 values; at most 50% of "
            "the subject or 500 px per side.",
        ),
        FieldDoc(
            "bg_color",
            {"type": "string", "examples": ["white", "#81d4fa", "fff8"]},
            "Background colour: hex with 3, 4, 6 or 8 digits (with or without `#`) or a colour "
            "name.",
        ),
        FieldDoc(
            "roi",
            {"type": "string", "examples": ["0% 0% 100% 100%", "10px 20px 300px 400px"]},
            "Region of interest `x1 y1 x2 y2` in px or %: everything outside is background.",
        ),
        FieldDoc(
            "scale",
            {"type": "string", "default": "original", "examples": ["original", "80%"]},
            "Subject size as `10%`..`100%` of the canvas, or `original`. Implies "
            "`position=center` unless given.",
        ),
        FieldDoc(
            "position",
            {"type": "string", "default": "original", "examples": ["center", "50% 100%"]},
            "`original`, `center`, or 1-2 percentages (horizontal, vertical).",
        ),
        FieldDoc(
            "model",
            {"type": "string", "examples": ["u2netp", "isnet"]},
            "A model installed on the server; the server's default when absent.",
        ),
        FieldDoc(
            "refinement",
            _enum((r.value for r in Refinement), defaults.refinement.value),
            "Edge refinement: `guided` (edge-aware), `curve` (contrast only), `raw` (the "
            "model's mask untouched).",
        ),
        *(
            FieldDoc(name, _enum(sorted(allowed)), "Subject type." + ACCEPTED_NOTE)
            if name == "type"
            else FieldDoc(name, _enum(sorted(allowed)), "Model generation." + ACCEPTED_NOTE)
            for name, allowed in ACCEPTED_ONLY.items()
        ),
        *(
            FieldDoc(name, _boolean(), "A remove.bg option." + ACCEPTED_NOTE + BOOLEAN_NOTE)
            for name in ACCEPTED_BOOLEANS
        ),
    ]


def option_error_cases(contract: Contract) -> list[ErrorCase]:
    """`invalid_<option>` for every option and text source the contract validates."""
    names = [field.name for field in option_fields(contract) if field.name != "model"]
    names += [*contract.base64_fields, *contract.alpha_base64_fields]
    return [
        option_case(name, f"{name} has a value outside its documented range.") for name in names
    ]


def removal_body(contract: Contract) -> Schema:
    """requestBody for a removal route: one schema per body kind the contract can use."""
    sources = source_fields(contract)
    fields = sources + option_fields(contract)
    image_sources = [f.name for f in sources if not f.name.startswith("bg_")]
    kinds = [MULTIPART]
    if contract.base64_fields or contract.url_fields:
        kinds += [JSON, URLENCODED]
    content: Schema = {}
    for kind in kinds:
        carried = [f for f in fields if kind in f.media_types]
        names = [name for name in image_sources if any(f.name == name for f in carried)]
        schema: Schema = {
            "type": "object",
            "properties": {
                f.name: {**copy.deepcopy(f.schema), "description": f.description} for f in carried
            },
        }
        if len(names) == 1:
            schema["required"] = names
        else:
            schema["oneOf"] = [{"required": [name]} for name in names]
        media: Schema = {"schema": schema}
        if kind == MULTIPART:
            media["encoding"] = {
                f.name: {"contentType": ", ".join(IMAGE_TYPES)}
                for f in carried
                if f.schema.get("format") == "binary"
            }
        content[kind] = media
    for kind in IMAGE_TYPES:
        content[kind] = {"schema": FILE}
    return {
        "required": True,
        "description": (
            "Send exactly one image source: "
            + ", ".join(f"`{name}`" for name in image_sources)
            + ". Field names are case-insensitive. A raw image body (`Content-Type: image/jpeg`, "
            "`image/png` or `image/webp`) is accepted too and uses the default options."
        ),
        "content": content,
    }


# -- headers and result schemas ---------------------------------------------------------

HEADERS: dict[str, tuple[str, str]] = {
    # name: (JSON Schema type, description)
    "X-Request-ID": ("string", "This request's id; quote it when reporting a problem."),
    "X-Width": ("integer", "Width of the result in pixels."),
    "X-Height": ("integer", "Height of the result in pixels."),
    "X-Foreground-Top": ("integer", "Top edge of the subject's bounding box, in result px."),
    "X-Foreground-Left": ("integer", "Left edge of the subject's bounding box."),
    "X-Foreground-Width": ("integer", "Width of the subject's bounding box."),
    "X-Foreground-Height": ("integer", "Height of the subject's bounding box."),
    "X-Credits-Charged": ("number", "Credits this request cost: 1, 0.25 or 0 (staging keys)."),
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
RESULT_HEADERS = (
    "X-Width",
    "X-Height",
    "X-Foreground-Top",
    "X-Foreground-Left",
    "X-Foreground-Width",
    "X-Foreground-Height",
    "X-Credits-Charged",
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
        "example": NO_CREDITS.body(),
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
            "foreground": _ref("schemas", "Foreground"),
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


def _headers(names: Iterable[str]) -> Schema:
    return {name: _ref("headers", name) for name in names}


def removal_success(contract: Contract) -> Schema:
    content: Schema = {kind: {"schema": FILE} for kind in RESULT_TYPES}
    json_schema = "RemoveBgJson" if contract is REMOVE_BG else "RemovalJson"
    content[JSON] = {"schema": _ref("schemas", json_schema)}
    return {
        "description": (
            "The result, typed by `format`: PNG, JPEG, WebP, or a ZIP of `color.jpg` and "
            "`alpha.png`. With `Accept: application/json` (or a JSON request body) the image "
            "comes base64-encoded in JSON."
        ),
        "headers": _headers(("X-Request-ID", *RESULT_HEADERS, *RATE_HEADERS)),
        "content": content,
    }


def error_responses(cases: Iterable[ErrorCase]) -> dict[str, Schema]:
    """One response per status, with every code it can carry and an example of each."""
    by_status: dict[int, list[ErrorCase]] = {}
    for item in cases:
        known = by_status.setdefault(item.status, [])
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
        responses[str(status)] = {
            "description": f"{phrase}. {STATUS_MEANING.get(status, '')} Codes: {codes}.",
            "headers": _headers(headers),
            "content": {
                JSON: {
                    "schema": _ref("schemas", ERROR_BODY),
                    "examples": {
                        item.code: {"summary": item.title, "value": item.body()} for item in group
                    },
                }
            },
        }
    return responses


# -- which route gets what ---------------------------------------------------------------


@dataclass(frozen=True)
class OperationDoc:
    errors: Sequence[ErrorCase]
    contract: Contract | None = None


def removal_errors(contract: Contract) -> list[ErrorCase]:
    cases = [*AUTH_ERRORS, *REMOVAL_ERRORS, *option_error_cases(contract), UNAVAILABLE]
    if contract.url_fields:
        cases += URL_ERRORS
    if contract.accepts_bg_sources:
        cases += BG_URL_ERRORS
    return cases


MANAGEMENT = (*AUTH_ERRORS, PRODUCTION_ONLY, UNAVAILABLE)
# Changes made from the signed-in dashboard (no key) need its CSRF token.
CHANGE = (*MANAGEMENT, DASHBOARD_CSRF)
OPERATIONS: dict[tuple[str, str], OperationDoc] = {
    ("post", "/v2"): OperationDoc(removal_errors(BACKGROUND_ERASE), BACKGROUND_ERASE),
    ("post", "/v1/remove-bg"): OperationDoc(removal_errors(BYBYBG), BYBYBG),
    ("post", "/v1.0/removebg"): OperationDoc(removal_errors(REMOVE_BG), REMOVE_BG),
    ("get", "/v1/account"): OperationDoc((*AUTH_ERRORS, UNAVAILABLE)),
    ("get", "/api/keys"): OperationDoc(MANAGEMENT),
    ("post", "/api/keys"): OperationDoc((*CHANGE, *NEW_KEY_ERRORS)),
    ("post", "/api/keys/{key_id}/rotate"): OperationDoc((*CHANGE, *ROTATE_ERRORS, *KEY_ID_ERRORS)),
    ("delete", "/api/keys/{key_id}"): OperationDoc((*CHANGE, *KEY_ID_ERRORS)),
    ("get", "/api/audit-log"): OperationDoc(MANAGEMENT),
}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _enrich_operation(path: str, method: str, operation: Schema) -> None:
    doc = OPERATIONS.get((method, path))
    protected = doc is not None or "security" in operation
    responses: Schema = operation.setdefault("responses", {})
    # Validation problems answer 400 invalid_request in the one error body, never 422.
    responses.pop("422", None)
    if protected:
        operation["security"] = [{KEY_SCHEME: []}, {BEARER_SCHEME: []}]
    for status, response in responses.items():
        if status.startswith("2"):
            names = ["X-Request-ID", *(RATE_HEADERS if protected else ())]
            response.setdefault("headers", {}).update(_headers(names))
    if doc is None:
        if protected:
            responses.update(error_responses((*AUTH_ERRORS, UNAVAILABLE)))
        return
    if doc.contract is not None:
        operation["requestBody"] = removal_body(doc.contract)
        responses["200"] = removal_success(doc.contract)
    elif "requestBody" in operation:
        doc = OperationDoc((*doc.errors, case(InvalidRequest, "The request is malformed.")))
    responses.update(error_responses(doc.errors))


def enrich(schema: Schema) -> Schema:
    """Add bodies, headers, security and error responses to FastAPI's document, in place."""
    components: Schema = schema.setdefault("components", {})
    schemas: Schema = components.setdefault("schemas", {})
    schemas.update(copy.deepcopy(SCHEMAS))
    components["headers"] = {
        name: {"description": text, "schema": {"type": kind}}
        for name, (kind, text) in HEADERS.items()
    }
    schemes: Schema = components.setdefault("securitySchemes", {})
    schemes.setdefault(
        KEY_SCHEME,
        {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "Your API key."},
    )
    schemes[BEARER_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The same key as `Authorization: Bearer YOUR_KEY`.",
    }
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                _enrich_operation(path, method, operation)
    # FastAPI's 422 models are unused now that validation errors are documented as 400.
    for name in ("HTTPValidationError", "ValidationError"):  # the second is used by the first
        if name in schemas and f"#/components/schemas/{name}" not in _references(schema):
            del schemas[name]
    return schema


def _references(node: object) -> set[str]:
    """Every `$ref` target in a document."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _references(value)
        return found
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node))
    return set()


def install_openapi(app: FastAPI) -> None:
    """Replace app.openapi with a cached version that documents bodies and error responses."""
    generate: Callable[[], Schema] = app.openapi

    def openapi() -> Schema:
        if app.openapi_schema is None:
            try:
                app.openapi_schema = enrich(generate())  # FastAPI's own, completed in place
            except BaseException:
                app.openapi_schema = None  # never cache a half-enriched document
                raise
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
