"""THE error catalogue: every error a client can see, one line per stable code.

Each class names its HTTP status, its stable `code` and its title; the front ends render them
(the JSON body, each provider's dialect, the OpenAPI document, the dashboard's error page) and
the SDK maps the codes back to its exceptions. A code defined twice fails at import, so the
catalogue cannot drift; `CATALOGUE` lists every code with the class that carries it.
"""

from __future__ import annotations

from typing import Any, ClassVar

CATALOGUE: dict[str, type[BgoneError]] = {}
# Codes only the dashboard's pages or the operator's CLI can answer: no API client meets them,
# so the OpenAPI document need not list them (every other code it must, a test checks).
NOT_FOR_API_CLIENTS = frozenset(
    {
        "login_required",
        "csrf_failed",
        "two_factor_required",
        "invalid_email",
        "account_exists",
        "invalid_origin",
        "invalid_limit",
        "unknown_plan",
        "invalid_account_status",
        "model_provisioning_failed",
    }
)


class BgoneError(Exception):
    """Base of every error a user can cause or must act on."""

    status: int = 400  # an instance may carry another, e.g. a framework's 4xx
    code: str = "bad_request"
    title: ClassVar[str] = "Bad request"
    # Extra response headers, e.g. Retry-After on 429 and 503.
    headers: dict[str, str] = {}  # noqa: RUF012 - replaced per instance, never mutated

    def __init_subclass__(
        cls,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        **rest: Any,
    ) -> None:
        super().__init_subclass__(**rest)
        if status is not None:
            cls.status = status
        if title is not None:
            cls.title = title
        if code is not None:
            if code in CATALOGUE:
                raise TypeError(f"error code {code!r} is defined twice")
            cls.code = code
            CATALOGUE[code] = cls

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def to_body(self) -> dict[str, Any]:
        return {"title": self.title, "code": self.code, "detail": self.detail}


def error_body(errors: list[BgoneError], request_id: str) -> dict[str, Any]:
    """bgone's error body (remove.bg's too); `bgone.server.error_dialects` renders each
    path's provider's own, e.g. BackgroundErase's on `/v2`."""
    return {"errors": [error.to_body() for error in errors], "request_id": request_id}


# Details quote what the client sent, to show what was wrong with it, but only this much.
QUOTE_LIMIT = 100


def quoted(text: object, limit: int = QUOTE_LIMIT) -> str:
    """`text` as a detail quotes it: `repr`, cut at `limit` characters with an ellipsis, so
    that no input, however long, is echoed whole into answers, logs and usage rows."""
    value = str(text)
    return repr(value if len(value) <= limit else value[:limit] + "…")


class RetryableError(BgoneError):
    """An error a client should retry after `retry_after` seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)
        self.headers = {"Retry-After": str(self.retry_after)}


class InvalidOption(BgoneError, title="Invalid option"):
    """A request option outside its range; its code, `invalid_<option>`, comes from the
    option table in bgone.inference.options, which lists every such code."""

    def __init__(self, option: str, detail: str) -> None:
        super().__init__(detail)
        self.option = option
        self.code = f"invalid_{option}"


class ModelError(BgoneError, status=503, code="model_unavailable", title="Model unavailable"):
    """The operator's side: a model that is unknown, missing or corrupt."""

    # Every 503 says when to come back; an operator has to act first, so not too soon.
    headers = {"Retry-After": "60"}  # noqa: RUF012 - never mutated


# The catalogue proper, kept as a table: one line per code.
# fmt: off
# 400: the request itself is wrong.
class InvalidRequest(BgoneError, code="invalid_request", title="Invalid request"): ...
class MissingSource(BgoneError, code="missing_source", title="Missing source image"): ...
class MultipleSources(BgoneError, code="multiple_sources", title="Multiple source images"): ...
class MultipleBgSources(BgoneError, code="multiple_bg_sources", title="Multiple background sources"): ...
class FailedToReadImage(BgoneError, code="failed_to_read_image", title="Failed to read image"): ...
class ResolutionTooHigh(BgoneError, code="resolution_too_high", title="Resolution too high"): ...
class InvalidDimensions(BgoneError, code="invalid_dimensions", title="Invalid dimensions"): ...
class UnknownForeground(BgoneError, code="unknown_foreground", title="No foreground found"): ...
class RoiRegionEmpty(BgoneError, code="roi_region_empty", title="Region of interest empty"): ...
class RoiExceedsBounds(BgoneError, code="roi_exceeds_bounds", title="Region of interest outside the image"): ...
class InvalidImageUrl(BgoneError, code="invalid_image_url", title="Invalid image URL"): ...
class InvalidBgImageUrl(InvalidImageUrl, code="invalid_bg_image_url"): ...
class FailedImageDownload(BgoneError, code="failed_image_download", title="Failed to download the image"): ...
class ImageDownloadTimeout(FailedImageDownload, code="image_download_timeout"): ...
class FailedBgDownload(FailedImageDownload, code="failed_bg_download"): ...
class BgDownloadTimeout(FailedImageDownload, code="bg_download_timeout"): ...
class UnknownModel(ModelError, status=400, code="invalid_model", title="Unknown model"):
    headers = {}  # noqa: RUF012 - a client error: retrying changes nothing
class InvalidEnvironment(BgoneError, code="invalid_environment", title="Invalid environment"): ...
class InvalidKeyName(BgoneError, code="invalid_key_name", title="Invalid key name"): ...
class InvalidGracePeriod(BgoneError, code="invalid_grace_period", title="Invalid grace period"): ...
class InvalidExpiry(BgoneError, code="invalid_expiry", title="Invalid expiry"): ...
class InvalidEmail(BgoneError, code="invalid_email", title="Invalid email"): ...
class InvalidLimit(BgoneError, code="invalid_limit", title="Invalid limit"): ...
class UnknownPlan(BgoneError, code="unknown_plan", title="Unknown plan"): ...
class InvalidAccountStatus(BgoneError, code="invalid_account_status", title="Invalid account status"): ...
class InvalidOrigin(BgoneError, code="invalid_origin", title="Invalid origin"): ...
class InvalidGroupBy(BgoneError, code="invalid_group_by", title="Invalid grouping"): ...
class InvalidDateRange(BgoneError, code="invalid_date_range", title="Invalid date range"): ...


# 401: who is asking is unknown.
class MissingApiKey(BgoneError, status=401, code="missing_api_key", title="Missing API key"): ...
class InvalidApiKey(BgoneError, status=401, code="invalid_api_key", title="Invalid API key"): ...
class RevokedApiKey(BgoneError, status=401, code="revoked_api_key", title="Revoked API key"): ...
class ExpiredApiKey(BgoneError, status=401, code="expired_api_key", title="Expired API key"): ...
class LoginRequired(BgoneError, status=401, code="login_required", title="Log in required"): ...


# 402 and 403: known, but not allowed this.
class InsufficientCredits(BgoneError, status=402, code="insufficient_credits", title="Insufficient credits"): ...
class PlanWithoutApiAccess(BgoneError, status=403, code="plan_without_api_access", title="Plan without API access"): ...
class AccountSuspended(BgoneError, status=403, code="account_suspended", title="Account suspended"): ...
class KeyLimitReached(BgoneError, status=403, code="key_limit_reached", title="API key limit reached"): ...
class ProductionKeyRequired(BgoneError, status=403, code="production_key_required", title="Production key required"): ...
class BrowserRequestRefused(BgoneError, status=403, code="browser_request_refused", title="API key sent from a browser"): ...
class CsrfFailed(BgoneError, status=403, code="csrf_failed", title="Form expired"): ...
class TwoFactorRequired(BgoneError, status=403, code="two_factor_required", title="Two-factor sign-in required"): ...


# 404 to 415: the target or the payload.
class NotFound(BgoneError, status=404, code="not_found", title="Not found"): ...
class MethodNotAllowed(BgoneError, status=405, code="method_not_allowed", title="Method not allowed"): ...
class AccountExists(BgoneError, status=409, code="account_exists", title="Account already exists"): ...
class KeyNotActive(BgoneError, status=409, code="key_not_active", title="API key not active"): ...
class FileTooLarge(BgoneError, status=413, code="file_too_large", title="File too large"): ...
class InvalidFileType(BgoneError, status=415, code="invalid_file_type", title="Invalid file type"): ...


# 429: too much, come back later.
class RateLimitExceeded(RetryableError, status=429, code="rate_limit_exceeded", title="Rate limit exceeded"): ...
class TooManyInvalidKeys(RetryableError, status=429, code="too_many_invalid_keys", title="Too many invalid API keys"): ...
class ConcurrencyLimitExceeded(RetryableError, status=429, code="concurrency_limit_exceeded", title="Concurrency limit exceeded"): ...
class ImproveLimitExceeded(RetryableError, status=429, code="improve_limit_exceeded", title="Improve limit exceeded"): ...
class TooManyReports(RetryableError, status=429, code="too_many_reports", title="Too many leaked-key reports"): ...


# 500 and 503: the server's side.
class InternalError(BgoneError, status=500, code="internal_error", title="Internal error"): ...
class ServerBusy(RetryableError, status=503, code="server_busy", title="Server busy"): ...
class ServiceUnavailable(RetryableError, status=503, code="service_unavailable", title="Service unavailable"): ...
class ModelNotInstalled(ModelError, code="model_not_installed", title="Model not installed"): ...
class ProvisioningError(ModelError, code="model_provisioning_failed", title="Model provisioning failed"): ...
# fmt: on
