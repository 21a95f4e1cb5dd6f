"""Domain exceptions. Each carries a stable `code` and the HTTP status it maps to."""

from __future__ import annotations

from typing import Any


class BgoneError(Exception):
    """Base of every error a user can cause or must act on."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def to_body(self) -> dict[str, Any]:
        return {"title": self.title, "code": self.code, "detail": self.detail}


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


class ModelError(BgoneError):
    """The operator's side: a model that is unknown, missing or corrupt."""

    status = 503
    code = "model_unavailable"
    title = "Model unavailable"


class UnknownModel(ModelError):
    status = 400
    code = "invalid_model"
    title = "Unknown model"


class ModelNotInstalled(ModelError):
    code = "model_not_installed"
    title = "Model not installed"


class ProvisioningError(ModelError):
    code = "model_provisioning_failed"
    title = "Model provisioning failed"
