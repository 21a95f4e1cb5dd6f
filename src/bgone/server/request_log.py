"""Logs: one line per request, the request id on every line, text or JSON.

`RequestMiddleware` calls `begin` when a request arrives (its id into a context variable,
which anyio's and the work queue's threads inherit) and `finish` once it is answered: the
request's metrics, then its line. `RequestIdFilter`, on the process's one handler, stamps
every record with the id of the request it was written for ("-" outside any request), the
engine's and uvicorn's included. `configure_logging` installs it all for `bgone serve`.

The request line's fields (JSON): time, level, logger, message, request_id, then event
("request"), method, endpoint (the route, e.g. "POST /v2"), path, status, code (the error
code, null on success), account_id, key_id (the key's public id, never the key), client_ip,
duration_ms and timings_ms (stage -> milliseconds: queue_wait, download, decode, resize,
inference, refine, compose, encode, where the request had them).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from starlette.types import Scope

from bgone.infra import metrics

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("bgone_request_id", default="-")
NO_REQUEST = "-"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The line of every request; off with BGONE_ACCESS_LOG=false (the metrics still count it).
request_logger = logging.getLogger("bgone.request")

LogFormat = Literal["text", "json"]


class Ledger(Protocol):
    """What the request line reads of the middleware's `RequestRecord`."""

    request_id: str
    account_id: int | None
    key_id: str | None
    error_code: str | None
    client_ip: str | None


@dataclass
class Begun:
    request_id: contextvars.Token[str]
    timings: contextvars.Token[dict[str, float] | None]
    started: float


def begin(request_id: str) -> Begun:
    return Begun(REQUEST_ID.set(request_id), metrics.request_timings.set({}), time.perf_counter())


def endpoint_label(scope: Scope) -> str:
    """The route the request matched ("POST /v2"), never the raw path: bounded labels."""
    route_path = getattr(scope.get("route"), "path", None)
    if not isinstance(route_path, str):
        return "unmatched"
    method = scope.get("method", "")
    return f"{method if method in METHODS else 'OTHER'} {route_path}"


def finish(scope: Scope, ledger: Ledger, status: int, begun: Begun, log_line: bool) -> None:
    """The request's metrics and, if `log_line`, its line; then the context is restored."""
    try:
        seconds = time.perf_counter() - begun.started
        endpoint = endpoint_label(scope)
        code = ledger.error_code or ""
        metrics.observe_request(endpoint, status, code, seconds)
        if log_line:
            timings = metrics.request_timings.get() or {}
            fields: dict[str, Any] = {
                "event": "request",
                "method": scope.get("method"),
                "endpoint": endpoint,
                "path": scope.get("path"),
                "status": status,
                "code": ledger.error_code,
                "account_id": ledger.account_id,
                "key_id": ledger.key_id,
                "client_ip": ledger.client_ip,
                "duration_ms": round(seconds * 1000, 1),
                "timings_ms": {stage: round(s * 1000, 1) for stage, s in timings.items()},
            }
            request_logger.info(
                "%s %s %s %s account=%s key=%s %.1fms%s",
                fields["method"],
                fields["path"],
                status,
                ledger.error_code or "-",
                ledger.account_id if ledger.account_id is not None else "-",
                ledger.key_id or "-",
                fields["duration_ms"],
                "".join(f" {stage}={ms}ms" for stage, ms in fields["timings_ms"].items()),
                extra={"request": fields},
            )
    finally:
        metrics.request_timings.reset(begun.timings)
        REQUEST_ID.reset(begun.request_id)


class RequestIdFilter(logging.Filter):
    """Every record gets `request_id`: the one it was written for, or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line (stdlib only: the fields are few and fixed)."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST),
        }
        fields = getattr(record, "request", None)
        if isinstance(fields, dict):
            document.update(fields)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def configure_logging(log_format: LogFormat, level: str = "info") -> None:
    """The process's one handler (stderr), in `log_format`; bgone's own loggers at `level`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("bgone").setLevel(level.upper())
