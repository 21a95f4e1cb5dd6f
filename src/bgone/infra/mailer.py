"""Sending email over SMTP, configured by one URL (BGONE_SMTP_URL).

    smtp://user:pass@host:587     STARTTLS, required: the server must offer it (default port 587)
    smtps://user:pass@host:465    TLS from the first byte (default port 465)
    smtp+plain://host:25          no encryption: a relay on this machine or a test server;
                                  credentials over it only to a loopback address

User and password are percent-decoded (write "@" in a password as %40). Certificates are
checked against the system's trust store. Messages go out on a worker thread of their own,
so no request waits on (or can be timed by) the SMTP server; failures are logged.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import smtplib
import ssl
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 15.0


class InvalidSmtpUrl(ValueError):
    """BGONE_SMTP_URL cannot be used as written (raised at start-up, with the reason)."""


class Security(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


_SCHEMES = {
    "smtp": (Security.STARTTLS, 587),
    "smtps": (Security.TLS, 465),
    "smtp+plain": (Security.NONE, 25),
}


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise InvalidSmtpUrl(
            f"BGONE_SMTP_URL must start with smtp:// (STARTTLS), smtps:// (TLS) or "
            f"smtp+plain:// (no encryption), not {parts.scheme or 'nothing'}://"
        )
    security, default_port = _SCHEMES[scheme]
    try:
        port = parts.port or default_port
    except ValueError as error:
        raise InvalidSmtpUrl(f"BGONE_SMTP_URL has an invalid port: {error}") from None
    host = parts.hostname
    if not host:
        raise InvalidSmtpUrl("BGONE_SMTP_URL names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidSmtpUrl("BGONE_SMTP_URL is scheme://[user:password@]host[:port], nothing more")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username is None and password is not None:
        raise InvalidSmtpUrl("BGONE_SMTP_URL has a password but no user")
    if username is not None and security is Security.NONE and not _is_loopback(host):
        raise InvalidSmtpUrl(
            "BGONE_SMTP_URL sends credentials unencrypted (smtp+plain://) to a host other "
            "than this machine: use smtp:// (STARTTLS) or smtps:// (TLS)"
        )
    return SmtpTarget(host, port, security, username, password)


def deliver(
    target: SmtpTarget,
    message: EmailMessage,
    timeout: float = SMTP_TIMEOUT_SECONDS,
    context: ssl.SSLContext | None = None,
) -> None:
    """One message, now, on this thread (blocking). `context`: the certificate checks, by
    default the system's trust store, host names checked."""
    context = context or ssl.create_default_context()
    client: smtplib.SMTP
    if target.security is Security.TLS:
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout)
    with client:
        client.ehlo()
        if target.security is Security.STARTTLS:
            # starttls() raises SMTPNotSupportedError when the server does not offer it:
            # never fall back to sending the password in clear.
            client.starttls(context=context)
            client.ehlo()
        if target.username is not None:
            client.login(target.username, target.password or "")
        client.send_message(message)


class Mailer:
    """Composes and sends the server's messages. Absent (None) when BGONE_SMTP_URL is unset."""

    def __init__(
        self,
        target: SmtpTarget,
        sender: str,
        send: Callable[[SmtpTarget, EmailMessage], None] = deliver,
    ) -> None:
        self.target = target
        self.sender = sender
        self._send = send
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bgone-mail")

    @classmethod
    def from_url(cls, url: str, sender: str) -> Mailer | None:
        return cls(parse_smtp_url(url), sender) if url.strip() else None

    def compose(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(
            domain=self.sender.rpartition("@")[2].strip("> ") or None
        )
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        return message

    def send_later(self, to: str, subject: str, body: str) -> Future[None]:
        """Queues one message; returns at once. Delivery failures are logged, not raised."""
        message = self.compose(to, subject, body)
        # In a copy of the caller's context: the mail thread's lines carry its request id.
        return self._pool.submit(contextvars.copy_context().run, self._deliver_logged, message)

    def send_now(self, to: str, subject: str, body: str) -> None:
        """One message on the calling thread (from work already on the mail thread)."""
        self._deliver_logged(self.compose(to, subject, body))

    def defer(self, work: Callable[[], None]) -> Future[None]:
        """Runs `work` on the mail thread (work whose duration must not show in an answer);
        an exception is logged, not raised."""
        return self._pool.submit(contextvars.copy_context().run, self._run_logged, work)

    def _run_logged(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:  # logged whatever it is: nobody waits on this thread's result
            log.exception("mail work failed")

    def _deliver_logged(self, message: EmailMessage) -> None:
        try:
            self._send(self.target, message)
        except (OSError, smtplib.SMTPException) as error:
            log.error(
                "could not send mail to %s through %s:%d: %s",
                message["To"],
                self.target.host,
                self.target.port,
                error,
            )
        else:
            log.info("sent %r to %s", str(message["Subject"]), message["To"])

    def close(self) -> None:
        """Waits for the queued messages (each bounded by the SMTP timeout), then stops."""
        self._pool.shutdown(wait=True)
