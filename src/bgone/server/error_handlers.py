"""Exception handlers: every failure becomes a JSON error body, in the dialect of its path
(`bgone.server.error_dialects`: remove.bg's 403, BackgroundErase's `error` object)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import Match

from bgone.errors import (
    BgoneError,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)
from bgone.server.error_dialects import dialect_of
from bgone.server.middleware import request_record

log = logging.getLogger(__name__)

PROBED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def error_response(request: Request, error: BgoneError) -> JSONResponse:
    record = request_record(request.scope)
    record.error_code = error.code
    dialect = dialect_of(request.url.path)
    status = dialect.status_of(error.status)
    body = dialect.body(error.code, error.title, error.detail, status, record.request_id)
    return JSONResponse(body, status_code=status, headers=error.headers)


async def _bgone_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BgoneError)
    return error_response(request, error)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in error.errors()
    )
    return error_response(request, InvalidRequest(problems or "The request is malformed."))


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette's own 405 names one route's)."""
    allowed = []
    for method in PROBED_METHODS:
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        mapped: BgoneError = NotFound(f"Nothing at {request.url.path}.")
    elif error.status_code == 405:
        mapped = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}.")
        # RFC 9110 requires a 405 to list the methods the resource does allow.
        mapped.headers = {"Allow": _allowed_methods(request)}
    else:
        mapped = InvalidRequest(str(error.detail))
        mapped.status = error.status_code
    return error_response(request, mapped)


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", error)
    return error_response(
        request, ServiceUnavailable("The database is unavailable; retry shortly.", 5)
    )


async def _data_error(request: Request, error: Exception) -> JSONResponse:
    # A value the database refuses (too long for its column, out of range): the database is
    # there, so retrying will not help and a 503 would page someone for nothing. Logged, as
    # a column too small for valid input is ours to fix.
    assert isinstance(error, DataError)
    reason = (str(error.orig).splitlines() or ["invalid value"])[0][:200]
    log.warning("database refused a value: %s", reason)
    return error_response(
        request, InvalidRequest(f"A value in the request cannot be stored ({reason}).")
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=error)
    response = error_response(request, InternalError("Something went wrong on our side."))
    # This handler answers from outside RequestMiddleware, which adds the id to every other
    # response: add it here so that the client can still match its usage row.
    response.headers["X-Request-Id"] = request_record(request.scope).request_id
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BgoneError, _bgone_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)  # a DBAPIError, but the request's fault
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)  # every connection busy or dead
    app.add_exception_handler(Exception, _unexpected)
