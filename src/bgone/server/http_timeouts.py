"""Deadlines for receiving a request: its headers, then its body.

uvicorn bounds neither: its keep-alive timer is cancelled by every byte received, so a
client sending one byte a second (slowloris) holds a connection, and a request slot, for as
long as it likes. `bgone serve` uses the protocol classes here instead of uvicorn's own:
the same classes with one timer each, as `client_header_timeout` and `client_body_timeout`
do for nginx (deploy/nginx.conf). Past a deadline the client gets 408 and the connection is
closed; when its response has already begun, it is only closed.

The header deadline runs from the connection's first byte (from its opening, for the first
request) until the request's headers are complete; the body deadline from there until the
last byte of the body. Both are totals, not idle times, so a trickle cannot stretch them.
The body deadline waits while uvicorn has stopped reading because the application is slow
to take the body: that time is the server's, not the client's.
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional in uvicorn; h11 is always there
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

# While reading is paused for the application, an expired body deadline looks again later.
PAUSED_RECHECK_SECONDS = 1.0


class Phase(Enum):
    HEADERS = "headers"  # waiting for (the rest of) a request's headers
    BODY = "body"  # headers complete, body still arriving
    SERVED = "served"  # request received: the application has it, no deadline applies
    IDLE = "idle"  # between requests: uvicorn's keep-alive timeout applies


def timeout_answer(phase: Phase, seconds: float) -> bytes:
    message = f"Request timeout: the request's {phase.value} took longer than {seconds:g} s.\n"
    return (
        b"HTTP/1.1 408 Request Timeout\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(message)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + message.encode()
    )


class DeadlineMixin:
    """Watches uvicorn's own state after each event: no parser callback is replaced."""

    header_timeout: float
    body_timeout: float
    # Set by uvicorn's protocol classes, which this mixin is combined with.
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any
    flow: Any

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._timer: asyncio.TimerHandle | None = None
        self._watched: Any = None
        self._phase = Phase.IDLE
        # Even a connection that never sends a byte is bounded.
        self._enter(Phase.HEADERS)

    def data_received(self, data: bytes) -> None:
        if self._phase is Phase.IDLE:
            self._enter(Phase.HEADERS)
        super().data_received(data)  # type: ignore[misc]
        self._observe()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if self._phase is Phase.BODY:
            return  # answered before the body was in: the rest must still arrive in time
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            self._enter(Phase.IDLE)
        else:
            self._observe()  # a pipelined request has started

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)  # type: ignore[misc]

    def _observe(self) -> None:
        cycle = self.cycle
        if cycle is not None and cycle is not self._watched:
            self._watched = cycle  # this request's headers are complete
            self._enter(Phase.BODY if cycle.more_body else Phase.SERVED)
        elif self._phase is Phase.BODY and not self._watched.more_body:
            self._enter(Phase.SERVED)

    def _enter(self, phase: Phase) -> None:
        self._cancel()
        self._phase = phase
        seconds = {Phase.HEADERS: self.header_timeout, Phase.BODY: self.body_timeout}.get(phase)
        if seconds is not None:
            self._timer = self.loop.call_later(seconds, self._expired)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self._phase is Phase.BODY and self.flow.read_paused:
            self._timer = self.loop.call_later(PAUSED_RECHECK_SECONDS, self._expired)
            return
        cycle = self.cycle
        # 408 unless this request was answered already (an answer before the whole body).
        if self._phase is Phase.HEADERS or not cycle.response_started:
            seconds = self.header_timeout if self._phase is Phase.HEADERS else self.body_timeout
            self.transport.write(timeout_answer(self._phase, seconds))
        if cycle is not None and not cycle.response_complete:
            # The application sees a disconnect, and nothing it sends goes out.
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()


def protocol_class(header_timeout: float, body_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's fastest HTTP/1.1 protocol (httptools, else h11), with the two deadlines."""
    base: type[Any] = HttpToolsProtocol if HttpToolsProtocol is not None else H11Protocol
    return type(
        f"Deadline{base.__name__}",
        (DeadlineMixin, base),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )
