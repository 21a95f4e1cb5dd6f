"""Reading an error answer in whichever provider's dialect its path speaks.

Written out here, apart from `bgone.server.error_dialects`, so that the tests state the
contract rather than repeat the code: `/v2` answers BackgroundErase's
`{"error": {"code", "message", "status", "request_id"}}`; everything else bgone's (and
remove.bg's) `{"errors": [{"title", "code", "detail"}], "request_id"}`; `/v1.0/*` answers an
authentication failure with 403 where the catalogue says 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bgone.errors import CATALOGUE


@dataclass(frozen=True)
class SeenError:
    status: int
    code: str
    detail: str
    request_id: str
    title: str | None  # BackgroundErase's shape has no title


def speaks_background_erase(path: str) -> bool:
    return path == "/v2" or path.startswith("/v2/")


def speaks_remove_bg(path: str) -> bool:
    return path == "/v1.0" or path.startswith("/v1.0/")


def answered_status(code: str, path: str) -> int:
    """The status the path's dialect answers the catalogue's `code` with."""
    status = CATALOGUE[code].status
    return 403 if status == 401 and speaks_remove_bg(path) else status


def error_of(response: httpx.Response) -> SeenError:
    """The one error of an answer, checked to be in its path's shape exactly."""
    body: dict[str, Any] = response.json()
    if speaks_background_erase(response.request.url.path):
        assert set(body) == {"error"}, body
        error = body["error"]
        assert set(error) == {"code", "message", "status", "request_id"}, error
        assert error["status"] == response.status_code, error
        return SeenError(
            response.status_code, error["code"], error["message"], error["request_id"], None
        )
    assert set(body) == {"errors", "request_id"}, body
    (first,) = body["errors"]
    assert set(first) == {"title", "code", "detail"}, first
    return SeenError(
        response.status_code, first["code"], first["detail"], body["request_id"], first["title"]
    )


def code_of(response: httpx.Response) -> str:
    return error_of(response).code
