"""The SDK's exceptions and the code map: each stable error code the server sends -> a class.

The server's error catalogue (`bgone.errors`) is the source of the codes; this module must not
import it (the SDK installs without the server), so the map is written out here and
tests/client/test_code_map.py checks that it covers every code of the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx


class BgoneClientError(Exception):
    """Base of every error the SDK raises."""


class MissingAPIKeyError(BgoneClientError, ValueError):
    """No api_key was given and BGONE_API_KEY is unset."""


class BgoneConnectionError(BgoneClientError, ConnectionError):
    """The server could not be reached, or the connection failed before an answer."""


class BgoneAPIError(BgoneClientError):
    """The server answered with an error body: `{"errors": [...], "request_id": ...}`, or on
    `/v2` BackgroundErase's `{"error": {"code", "message", "status", "request_id"}}`."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.request_id, self.retry_after = request_id, retry_after


class InvalidRequestError(BgoneAPIError):
    """400: a bad image, option or source (`invalid_<option>`, `failed_to_read_image`...)."""


class AuthenticationError(BgoneAPIError):
    """Missing, invalid, revoked or expired API key: 401, or 403 on remove.bg's `/v1.0/*`
    (remove.bg's dialect, which the SDK's removals use), mapped by the code either way."""


class InsufficientCreditsError(BgoneAPIError):
    """402: no credits left this period."""


class PermissionDeniedError(BgoneAPIError):
    """403: plan without API access, suspended account, key limit reached."""


class NotFoundError(BgoneAPIError):
    """404."""


class ConflictError(BgoneAPIError):
    """409: e.g. rotating a key that is no longer active, or an `Idempotency-Key` whose
    request is still running (`idempotency_key_in_use`, which `remove` waits out) or whose
    answer was too large to keep (`idempotency_answer_too_large`)."""


class IdempotencyKeyReusedError(BgoneAPIError):
    """422: an `Idempotency-Key` sent again with another request (another body or route)."""


class PayloadTooLargeError(BgoneAPIError):
    """413: the upload exceeds the server's limit."""


class UnsupportedMediaTypeError(BgoneAPIError):
    """415: not a JPEG, PNG or WebP image."""


class RateLimitError(BgoneAPIError):
    """429: over the account's images per minute; see `retry_after`."""


class ServiceUnavailableError(BgoneAPIError):
    """503: server busy, database or model unavailable."""


# The fallback for a code this SDK does not know (a newer server's, a proxy's page): the status.
# 405 and 500 have no class of their own: they are not the caller's to handle, so BgoneAPIError.
ERRORS_BY_STATUS: Mapping[int, type[BgoneAPIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: IdempotencyKeyReusedError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}

# The catalogue's codes by their default status. A code wins over the status it came with,
# because a front end may answer another status for the same failure (remove.bg's dialect).
_CODES_BY_CLASS: Mapping[type[BgoneAPIError], str] = {
    InvalidRequestError: (
        "invalid_request missing_source multiple_sources multiple_bg_sources"
        " failed_to_read_image resolution_too_high invalid_dimensions unknown_foreground"
        " roi_region_empty"
        " roi_exceeds_bounds invalid_image_url"
        " invalid_bg_image_url failed_image_download image_download_timeout failed_bg_download"
        " bg_download_timeout invalid_model invalid_environment invalid_key_name"
        " invalid_grace_period invalid_expiry invalid_email invalid_limit unknown_plan"
        " invalid_account_status invalid_origin invalid_group_by invalid_date_range"
        " invalid_role invalid_idempotency_key confirmation_mismatch invalid_webhook_url"
        " invalid_event_type invalid_threshold invalid_zip invalid_zip_entry"
    ),
    AuthenticationError: (
        "missing_api_key invalid_api_key revoked_api_key expired_api_key login_required"
        " invalid_report_signature"
    ),
    InsufficientCreditsError: "insufficient_credits",
    PermissionDeniedError: (
        "plan_without_api_access account_suspended key_limit_reached production_key_required"
        " browser_request_refused csrf_failed insufficient_role two_factor_required"
        " operator_required"
    ),
    NotFoundError: "not_found job_not_found job_item_not_found",
    ConflictError: (
        "account_exists key_not_active last_owner ambiguous_account idempotency_key_in_use"
        " idempotency_answer_too_large plan_request_pending plan_request_decided"
        " job_item_not_ready job_cancelled"
    ),
    PayloadTooLargeError: "file_too_large too_many_job_items",
    UnsupportedMediaTypeError: "invalid_file_type",
    IdempotencyKeyReusedError: "idempotency_key_reused",
    RateLimitError: (
        "rate_limit_exceeded too_many_invalid_keys concurrency_limit_exceeded "
        "improve_limit_exceeded too_many_reports"
    ),
    ServiceUnavailableError: (
        "server_busy service_unavailable model_unavailable model_not_installed"
        " model_provisioning_failed job_item_lost"
    ),
    BgoneAPIError: "method_not_allowed internal_error",
}
ERRORS_BY_CODE: Mapping[str, type[BgoneAPIError]] = {
    code: kind for kind, codes in _CODES_BY_CLASS.items() for code in codes.split()
}
# The 409 of a duplicate that arrived while the first was still running: worth waiting out.
IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
# Each removal option's bad value is `invalid_<option>`; the options come and go with the
# server's option table, so the prefix, not a list, maps them.
INVALID_OPTION_PREFIX = "invalid_"


def error_class(code: str, status: int) -> type[BgoneAPIError]:
    """The exception for an error body's `code`, else for the response's `status`."""
    if code in ERRORS_BY_CODE:
        return ERRORS_BY_CODE[code]
    if code.startswith(INVALID_OPTION_PREFIX):
        return InvalidRequestError
    return ERRORS_BY_STATUS.get(status, BgoneAPIError)


def retry_after(headers: httpx.Headers) -> float | None:
    """The Retry-After header in seconds; None when absent or an HTTP date."""
    try:
        return max(0.0, float(headers["retry-after"]))
    except (KeyError, ValueError):
        return None  # an HTTP date is not worth parsing: the backoff takes over


def api_error(response: httpx.Response) -> BgoneAPIError:
    """The typed exception for an error response, whatever its body."""
    status = response.status_code
    code, title, detail = f"http_{status}", response.reason_phrase, response.text[:500]
    request_id = response.headers.get("x-request-id")
    try:
        body = response.json()
        if "error" in body:  # BackgroundErase's dialect (`/v2`): one object, no title
            only = body["error"]
            code, detail = str(only["code"]), str(only["message"])
            request_id = only.get("request_id") or request_id
        else:
            first = body["errors"][0]
            code, title, detail = str(first["code"]), str(first["title"]), str(first["detail"])
            request_id = body.get("request_id") or request_id
    except (ValueError, KeyError, IndexError, TypeError):
        pass  # not bgone's error body (a proxy's page, say): keep the HTTP status
    kind = error_class(code, status)
    return kind(status, code, title, detail, request_id, retry_after(response.headers))
