"""Each provider's way of spelling an error: the status and body an error answers with, by path.

The catalogue (`bgone.errors`) gives every error one status and one stable code. The providers
whose requests bgone serves spell a failure differently, and their clients branch on that
spelling: remove.bg answers authentication failures with 403 (its clients map only 403 to
"authentication failed"), and BackgroundErase wraps the error in one `error` object. So the
catalogue stays the one place for codes, and the dialect of the path decides how an error is
rendered. bgone's own routes (`/api/...`, `/v1/account`) and ByByBG keep bgone's body.

The error handlers and the middleware's early refusal render through `dialect_of`; the
OpenAPI document documents each route's errors through the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class ErrorShape(Enum):
    ERRORS = "errors"  # {"errors": [{"title", "code", "detail"}], "request_id"}: bgone, remove.bg
    ERROR = "error"  # {"error": {"code", "message", "status", "request_id"}}: BackgroundErase


@dataclass(frozen=True)
class ErrorDialect:
    name: str
    shape: ErrorShape = ErrorShape.ERRORS
    # The catalogue's status -> the status this dialect answers with, where they differ.
    statuses: Mapping[int, int] = field(default_factory=dict)

    def status_of(self, catalogue_status: int) -> int:
        return self.statuses.get(catalogue_status, catalogue_status)

    def body(self, code: str, title: str, detail: str, status: int, request_id: str) -> Any:
        """The body for one error; `status` is the one answered (after `status_of`)."""
        if self.shape is ErrorShape.ERROR:
            error = {"code": code, "message": detail, "status": status, "request_id": request_id}
            return {"error": error}
        return {
            "errors": [{"title": title, "code": code, "detail": detail}],
            "request_id": request_id,
        }


BGONE = ErrorDialect("bgone")
REMOVE_BG = ErrorDialect("remove.bg", statuses={401: 403})
BACKGROUND_ERASE = ErrorDialect("BackgroundErase", shape=ErrorShape.ERROR)

# Path prefixes, each ending in "/", and their dialect; a path matches with a "/" added, so
# that "/v2" and "/v2/health" are BackgroundErase's and "/v2x" is not. Anything else is bgone's.
DIALECTS_BY_PREFIX: tuple[tuple[str, ErrorDialect], ...] = (
    ("/v1.0/", REMOVE_BG),
    ("/v2/", BACKGROUND_ERASE),
)


def dialect_of(path: str) -> ErrorDialect:
    probe = path.rstrip("/") + "/"
    for prefix, dialect in DIALECTS_BY_PREFIX:
        if probe.startswith(prefix):
            return dialect
    return BGONE
