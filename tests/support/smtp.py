"""A real SMTP server on loopback (aiosmtpd), keeping every message it receives.

    with smtp_server(user="bgone", password="secret") as mailbox:
        ... point BGONE_SMTP_URL at mailbox.url ...
        message = mailbox.wait_for("owner@example.com")

With a user, the server offers AUTH (over plain SMTP, which aiosmtpd allows on loopback only
when told to) and refuses mail from clients that did not log in.
"""

from __future__ import annotations

import email
import email.policy
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.process import free_port

LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Received:
    recipients: tuple[str, ...]
    message: EmailMessage
    authenticated_as: str | None

    @property
    def body(self) -> str:
        content = self.message.get_content()
        assert isinstance(content, str)
        return content

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.body)


@dataclass
class Mailbox:
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    received: list[Received] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        credentials = f"{self.user}:{self.password}@" if self.user else ""
        return f"smtp+plain://{credentials}{self.host}:{self.port}"

    def messages_to(self, address: str) -> list[Received]:
        with self._arrived:
            return [mail for mail in self.received if address in mail.recipients]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20.0) -> Received:
        """The `count`-th message to `address` (waiting for it to arrive)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [mail for mail in self.received if address in mail.recipients]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no message {count} to {address} within {timeout} s")
                self._arrived.wait(left)

    def _keep(self, mail: Received) -> None:
        with self._arrived:
            self.received.append(mail)
            self._arrived.notify_all()


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.mailbox.user and not session.authenticated:
            return "530 Authentication required"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        self.mailbox._keep(Received(tuple(envelope.rcpt_tos), message, login))
        return "250 OK"


def _authenticator(mailbox: Mailbox) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == mailbox.user
            and data.password.decode() == mailbox.password
        )
        return AuthResult(success=ok, handled=False, auth_data=data)

    return check


def self_signed_context(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) TLS contexts for 127.0.0.1, from a fresh self-signed certificate
    (openssl); the client's trusts only that certificate and checks the host name."""
    key, cert = directory / "smtp-key.pem", directory / "smtp-cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


@contextmanager
def smtp_server(
    user: str | None = None,
    password: str | None = None,
    port: int | None = None,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
) -> Iterator[Mailbox]:
    """`starttls`: offer STARTTLS with this context (and require it before AUTH and mail);
    `implicit_tls`: TLS from the first byte (smtps)."""
    mailbox = Mailbox("127.0.0.1", port or free_port(), user, password)
    options: dict[str, Any] = {}
    if user:
        options = {"authenticator": _authenticator(mailbox), "auth_require_tls": bool(starttls)}
    if starttls:
        options.update(tls_context=starttls, require_starttls=True)
    if implicit_tls:
        options.update(ssl_context=implicit_tls)
    controller = Controller(_Handler(mailbox), hostname=mailbox.host, port=mailbox.port, **options)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
