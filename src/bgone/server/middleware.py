"""Cross-cutting request handling: request ids, body limits, rate headers, usage rows.

Pure ASGI (no BaseHTTPMiddleware) so that bodies stream and nothing is buffered twice.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bgone.domain.credits import Reservation
from bgone.domain.usage import UsageEntry
from bgone.errors import FileTooLarge
from bgone.infra import metrics
from bgone.infra.ratelimit import Decision
from bgone.server import request_log
from bgone.server.client_address import storable_address
from bgone.server.container import Services
from bgone.server.error_dialects import dialect_of

log = logging.getLogger(__name__)

# Paths whose requests are API calls: each gets exactly one usage row.
API_PATHS = ("/v2", "/v1/", "/v1.0/", "/api/")
UNMETERED = ("/v2/health",)
JOBS_PATH = "/v1/jobs"
# A refusal that leaves more of the body unread than this closes the connection: reading
# the rest only to keep it open (an attacker's 25 MB, say) would cost more than a new one.
UNREAD_BODY_TO_DRAIN = 64 * 1024


@dataclass
class RequestRecord:
    """Filled in by handlers as they learn who is calling and what it cost."""

    request_id: str
    account_id: int | None = None
    key_id: str | None = None
    credits_milli: int = 0
    megapixels: float = 0.0
    error_code: str | None = None
    rate: Decision | None = None
    client_ip: str | None = None
    # Credits set aside (or being set aside) for this request: its usage row settles them.
    reservation: Reservation | None = None


def request_record(scope: Scope) -> RequestRecord:
    record: RequestRecord = scope["state"]["record"]
    return record


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        # Rounded up like `RateLimit`'s t, so that both name the same moment.
        "X-RateLimit-Reset": str(math.ceil(decision.reset_at)),
        "RateLimit-Policy": f'"default";q={decision.limit};w={decision.window_seconds}',
        "RateLimit": f'"default";r={decision.remaining};t={decision.reset_in}',
    }


def endpoint_of(scope: Scope) -> str:
    """What a usage row names as the endpoint (the column holds 100 characters)."""
    return f"{scope['method']} {scope['path']}"[:100]


def is_metered(path: str) -> bool:
    return path.startswith(API_PATHS) and not path.startswith(UNMETERED)


class RequestMiddleware:
    def __init__(self, app: ASGIApp, max_upload_bytes: int, job_max_bytes: int = 0) -> None:
        self.app = app
        # Bodies carry at most an image and a background (base64 adds a third), plus fields.
        self.max_body = max_upload_bytes * 2 + (1 << 20)
        # A batch job's body holds many images (BGONE_JOB_MAX_BYTES), streamed to disk.
        self.max_job_body = job_max_bytes or self.max_body

    def body_limit(self, scope: Scope) -> int:
        if scope["path"] == JOBS_PATH and scope["method"] == "POST":
            return self.max_job_body
        return self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        client = scope.get("client")
        address = storable_address(client[0] if client else None)
        record = RequestRecord(request_id=uuid.uuid4().hex, client_ip=address)
        scope.setdefault("state", {})["record"] = record
        begun = request_log.begin(record.request_id)
        status = 500  # what the usage row says if the app fails before answering
        metered = is_metered(scope["path"])
        recorded = False

        async def record_once() -> None:
            nonlocal recorded
            if metered and not recorded:
                recorded = True
                services: Services = scope["app"].state.services
                await self._record_usage(services, scope, record, status, started)

        held_start: Message | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status, held_start
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", record.request_id.encode()))
                if limited.exceeded or limited.left_unread(declared) > UNREAD_BODY_TO_DRAIN:
                    # Unread body bytes are still coming (past the limit, or a request refused
                    # before its body was read): hang up instead of draining them.
                    headers.append((b"connection", b"close"))
                if record.rate is not None:
                    headers.extend(
                        (k.lower().encode(), v.encode())
                        for k, v in rate_limit_headers(record.rate).items()
                    )
                message["headers"] = headers
                # Held back until the body: see below.
                held_start = message
                return
            if message["type"] == "http.response.body" and not message.get("more_body"):
                # The usage row (which also charges the credits) is written before any byte
                # leaves: a client that got an answer always has its row, even if the process
                # dies right after, and a process that dies while writing the row has sent
                # nothing, not a status line and a charge without the image.
                await record_once()
            if held_start is not None:
                start, held_start = held_start, None
                await send(start)
            await send(message)

        limit = self.body_limit(scope)
        limited = LimitedReceive(receive, limit)
        declared = _content_length(scope)
        try:
            if declared is not None and declared > limit:
                await self._refuse_too_large(scope, record, send_with_headers)
            else:
                await self.app(scope, limited, send_with_headers)
        except Exception:
            # Unhandled: the server error handler answers 500 after this row is written.
            record.error_code = record.error_code or "internal_error"
            raise
        finally:
            try:
                await record_once()
            finally:  # even when cancelled (the client went away): counted and logged
                request_log.finish(scope, record, status, begun, _log_lines(scope))

    async def _refuse_too_large(self, scope: Scope, record: RequestRecord, send: Send) -> None:
        limit = self.body_limit(scope)
        error = FileTooLarge(f"The request body exceeds the limit of {limit} bytes.")
        record.error_code = error.code
        dialect = dialect_of(scope["path"])
        status = dialect.status_of(error.status)
        document = dialect.body(error.code, error.title, error.detail, status, record.request_id)
        body = json.dumps(document).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _record_usage(
        self,
        services: Services,
        scope: Scope,
        record: RequestRecord,
        status: int,
        started: float,
    ) -> None:
        entry = UsageEntry(
            request_id=record.request_id,
            at=datetime.now(UTC),
            endpoint=endpoint_of(scope),
            status=status,
            account_id=record.account_id,
            key_id=record.key_id,
            error_code=record.error_code,
            # A request that ended in an error delivered nothing, whatever it had reserved.
            credits_milli=record.credits_milli if status < 400 else 0,
            megapixels=record.megapixels,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        touch = bool(entry.key_id) and services.key_usage.due(entry.key_id or "", entry.at)
        try:
            await services.usage_writer.write(entry, record.client_ip, touch, record.reservation)
            metrics.count_credits_charged(entry.credits_milli)
        except Exception as error:  # the answer goes out regardless; log loudly instead
            log.error("could not record usage for %s: %s", record.request_id, error)


def _log_lines(scope: Scope) -> bool:
    """BGONE_ACCESS_LOG: the request line, on unless the operator turned it off."""
    services: Services | None = getattr(scope["app"].state, "services", None)
    return services is None or services.settings.access_log


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class LimitedReceive:
    """Counts streamed (chunked) body bytes and stops reading past the limit."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.finished = False  # the whole body has been read

    def left_unread(self, declared: int | None) -> int:
        """Body bytes the client declared that the app did not read (a chunked body counts
        as none: its length is unknown until it is read)."""
        if self.finished or declared is None:
            return 0
        return max(0, declared - self.received)

    async def __call__(self) -> Message:
        message: dict[str, Any] = dict(await self.receive())
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.finished = not message.get("more_body", False)
            if self.received > self.limit:
                self.exceeded = True
                raise FileTooLarge(f"The request body exceeds the limit of {self.limit} bytes.")
        return message
