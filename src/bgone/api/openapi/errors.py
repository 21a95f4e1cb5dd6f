"""The error catalogue of the OpenAPI document: every stable code with an example body.

Each entry is built from the error class itself (status, code, title), so a renamed code or a
changed status shows up in the document and the docs pages at once. The examples' details are
written out here because the real ones depend on the request; the docs pages' error guide reads
the same entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from bgone.api.auth import HOW_TO
from bgone.api.browser import PROXY_GUIDE
from bgone.api.openapi.schema import Schema
from bgone.errors import (
    AccountSuspended,
    BgDownloadTimeout,
    BgoneError,
    BrowserRequestRefused,
    ConcurrencyLimitExceeded,
    ExpiredApiKey,
    FailedBgDownload,
    FailedImageDownload,
    FailedToReadImage,
    FileTooLarge,
    ImageDownloadTimeout,
    InsufficientCredits,
    InsufficientRole,
    InternalError,
    InvalidApiKey,
    InvalidBgImageUrl,
    InvalidDimensions,
    InvalidEnvironment,
    InvalidExpiry,
    InvalidFileType,
    InvalidGracePeriod,
    InvalidImageUrl,
    InvalidKeyName,
    InvalidOption,
    InvalidRequest,
    KeyLimitReached,
    KeyNotActive,
    MethodNotAllowed,
    MissingApiKey,
    MissingSource,
    ModelError,
    ModelNotInstalled,
    MultipleBgSources,
    MultipleSources,
    NotFound,
    PlanWithoutApiAccess,
    ProductionKeyRequired,
    RateLimitExceeded,
    ResolutionTooHigh,
    RevokedApiKey,
    RoiExceedsBounds,
    RoiRegionEmpty,
    ServerBusy,
    ServiceUnavailable,
    TooManyInvalidKeys,
    UnknownForeground,
    UnknownModel,
)
from bgone.server.error_dialects import BGONE, ErrorDialect

EXAMPLE_REQUEST_ID = "9c5b94b1f3a84d0e8f6f2a7d31c2e4b0"


@dataclass(frozen=True)
class ErrorCase:
    """One stable error code with an example of its body."""

    status: int
    code: str
    title: str
    detail: str
    retry_after: int | None = None

    def body(self, dialect: ErrorDialect = BGONE) -> Schema:
        """The example body as `dialect` answers it (bgone's own by default)."""
        status = dialect.status_of(self.status)
        body: Schema = dialect.body(self.code, self.title, self.detail, status, EXAMPLE_REQUEST_ID)
        return body


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
TOO_MANY_AT_ONCE = case(
    ConcurrencyLimitExceeded,
    "This account already has 2 images in the server's inference stage, its share; send "
    "fewer at a time or retry shortly.",
    retry_after=1,
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
MODEL_BROKEN = case(
    ModelError,
    "/var/lib/bgone/models/u2netp.onnx does not match its sha256; "
    "run `bgone models pull u2netp` again",
)
# What any route may answer, whatever it documents of its own.
NOT_ALLOWED = case(MethodNotAllowed, "GET is not allowed on /v2.")
INTERNAL = case(InternalError, "An unexpected error occurred; quote the request id.")
PRODUCTION_ONLY = case(
    ProductionKeyRequired, "Managing keys needs a production key of the account."
)
REMOVE_SCOPE = case(
    InsufficientRole,
    "your role in this account does not allow key management with a key of scope 'remove'",
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
    case(InvalidDimensions, "The image is 50000000x1; no side may be longer than 20000 pixels."),
    case(UnknownForeground, "No foreground was found to crop to."),
    case(RoiRegionEmpty, "The region of interest has no area (500,0 to 100,800 px)."),
    case(
        RoiExceedsBounds,
        "The region of interest starts at 1200,0 px, outside the 1000x800 image.",
    ),
    case(UnknownModel, "Unknown model 'u3net'. Known models: isnet, u2netp."),
    option_case("json", "The JSON body could not be parsed."),
    NO_CREDITS,
    TOO_LARGE,
    WRONG_TYPE,
    RATE_LIMITED,
    TOO_MANY_AT_ONCE,
    BUSY,
    MODEL_MISSING,
    MODEL_BROKEN,
)
URL_ERRORS = (
    case(InvalidImageUrl, "Refused: intranet.local resolves to a non-public address."),
    case(FailedImageDownload, "The image URL answered HTTP 404."),
    case(ImageDownloadTimeout, "The download took longer than 10 s."),
)
BG_URL_ERRORS = (
    case(MultipleBgSources, "Send at most one background; got bg_image_url, bg_color."),
    case(InvalidBgImageUrl, "Only http and https URLs with a host are accepted."),
    case(FailedBgDownload, "The image URL answered HTTP 404."),
    case(BgDownloadTimeout, "The download took longer than 10 s."),
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
    409: (
        "A conflict: the key is not active (key management), or (removals) a request with "
        "this `Idempotency-Key` is still running (retry after `Retry-After` seconds) or was "
        "answered with more than the server keeps."
    ),
    413: "The image (or the whole request body) is larger than the server accepts.",
    415: "The image is not a JPEG, PNG or WebP (recognised by content, not by name).",
    422: "The `Idempotency-Key` was first sent with another request; use a new key.",
    429: (
        "Too many images this minute or at once for your account, too many invalid keys or "
        "leaked-key reports from your address, or (`/v1.0/improve`) too many submissions "
        "today; retry after `Retry-After` seconds."
    ),
    503: "The server is busy or a dependency is unavailable; retry after `Retry-After` seconds.",
}
