"""A real webhook receiver on 127.0.0.1: a threaded HTTP server that verifies every POST
with the `standardwebhooks` package, as a customer's receiver would, and answers with the
statuses it is scripted to give (then 200).

    with webhook_receiver() as receiver:
        receiver.secret = made.secret
        receiver.statuses = [500]      # the first attempt fails, the second succeeds
        got = receiver.wait_for(1)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: str
    verified: Any  # the parsed body when the signature verified, else None
    answered: int


@dataclass
class Receiver:
    url: str
    secret: str = ""
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def handle(self, headers: dict[str, str], body: str) -> int:
        try:
            verified = Webhook(self.secret).verify(body, headers)
        except (WebhookVerificationError, EmptyWebhookSecretError):
            verified = None
        with self._arrived:
            status = self.statuses.pop(0) if self.statuses else 200
            self.received.append(Received(headers, body, verified, status))
            self._arrived.notify_all()
        return status

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"{len(self.received)} deliveries arrived, not {count}")
            return list(self.received)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
            answer = b'{"ok": true}'
            self.send_response(status)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
