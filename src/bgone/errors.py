"""Domain exceptions. Each carries a stable `code` and the HTTP status it maps to."""

from __future__ import annotations

from typing import Any


class BgoneError(Exception):
    """Base of every error a user can cause or must act on."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # a variant of this error with its own stable code

    # Extra response headers, e.g. Retry-After on 429 and 503.
    headers: dict[str, str] = {}  # noqa: RUF012 - replaced per instance, never mutated

    def to_body(self) -> dict[str, Any]:
        return {"title": self.title, "code": self.code, "detail": self.detail}


def error_body(errors: list[BgoneError], request_id: str) -> dict[str, Any]:
    """The one error body every endpoint answers with."""
    return {"errors": [error.to_body() for error in errors], "request_id": request_id}


class RetryableError(BgoneError):
    """An error a client should retry after `retry_after` seconds."""

    def __init__(self, detail: str, retry_after: int, *, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = max(1, retry_after)
        self.headers = {"Retry-After": str(self.retry_after)}


class RateLimitExceeded(RetryableError):
    status = 429
    code = "rate_limit_exceeded"
    title = "Rate limit exceeded"


class ServerBusy(RetryableError):
    status = 503
    code = "server_busy"
    title = "Server busy"


class ServiceUnavailable(RetryableError):
    status = 503
    code = "service_unavailable"
    title = "Service unavailable"


class MissingSource(BgoneError):
    code = "missing_source"
    title = "Missing source image"


class MultipleSources(BgoneError):
    code = "multiple_sources"
    title = "Multiple source images"


class NotFoundRoute(BgoneError):
    status = 404
    code = "not_found"
    title = "Not found"


class MethodNotAllowed(BgoneError):
    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class FileTooLarge(BgoneError):
    status = 413
    code = "file_too_large"
    title = "File too large"


class InvalidFileType(BgoneError):
    status = 415
    code = "invalid_file_type"
    title = "Invalid file type"


class FailedToReadImage(BgoneError):
    code = "failed_to_read_image"
    title = "Failed to read image"


class ResolutionTooHigh(BgoneError):
    code = "resolution_too_high"
    title = "Resolution too high"


class UnknownForeground(BgoneError):
    code = "unknown_foreground"
    title = "No foreground found"


class InvalidOption(BgoneError):
    """A request option with a value outside its documented range."""

    title = "Invalid option"

    def __init__(self, option: str, detail: str) -> None:
        super().__init__(detail)
        self.option = option
        self.code = f"invalid_{option}"


class InvalidImageUrl(BgoneError):
    code = "invalid_image_url"
    title = "Invalid image URL"


class FailedImageDownload(BgoneError):
    code = "failed_image_download"
    title = "Failed to download the image"


class ModelError(BgoneError):
    """The operator's side: a model that is unknown, missing or corrupt."""

    status = 503
    code = "model_unavailable"
    title = "Model unavailable"
    # Every 503 says when to come back; an operator has to act first, so not too soon.
    headers = {"Retry-After": "60"}  # noqa: RUF012 - never mutated


class UnknownModel(ModelError):
    status = 400
    code = "invalid_model"
    title = "Unknown model"
    headers = {}  # noqa: RUF012 - a client error: retrying changes nothing


class ModelNotInstalled(ModelError):
    code = "model_not_installed"
    title = "Model not installed"


class ProvisioningError(ModelError):
    code = "model_provisioning_failed"
    title = "Model provisioning failed"
