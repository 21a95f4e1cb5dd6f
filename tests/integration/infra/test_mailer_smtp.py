"""The mailer against a real SMTP server on loopback (aiosmtpd): authentication, STARTTLS
required when the URL says smtp://, failures logged rather than raised."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from bgone.infra.mailer import Mailer, deliver, parse_smtp_url
from tests.support.smtp import self_signed_context, smtp_server


def test_a_message_arrives_authenticated() -> None:
    with smtp_server(user="bgone", password="p@ss word") as mailbox:
        url = mailbox.url.replace("p@ss word", "p%40ss%20word")
        mailer = Mailer.from_url(url, "bgone <bgone@example.com>")
        assert mailer is not None
        mailer.send_later("owner@example.com", "Hello", "See https://example.com/x?token=1")
        mailer.close()
        mail = mailbox.wait_for("owner@example.com")
    assert mail.authenticated_as == "bgone"
    assert mail.message["Subject"] == "Hello"
    assert mail.message["From"] == "bgone <bgone@example.com>"
    assert mail.links == ["https://example.com/x?token=1"]


def test_a_wrong_password_is_logged_and_nothing_is_sent(caplog: pytest.LogCaptureFixture) -> None:
    with smtp_server(user="bgone", password="right") as mailbox:
        mailer = Mailer.from_url(f"smtp+plain://bgone:wrong@127.0.0.1:{mailbox.port}", "b@x.io")
        assert mailer is not None
        mailer.send_later("owner@example.com", "Hello", "Body").result(timeout=20)
        mailer.close()
        assert mailbox.messages_to("owner@example.com") == []
    assert "could not send mail to owner@example.com" in caplog.text


def test_smtp_urls_never_fall_back_to_plain_text_when_starttls_is_missing() -> None:
    with smtp_server() as mailbox:
        target = parse_smtp_url(f"smtp://user:secret@127.0.0.1:{mailbox.port}")
        mailer = Mailer(target, "b@x.io")
        message = mailer.compose("owner@example.com", "Hello", "Body")
        with pytest.raises(Exception, match="STARTTLS"):
            deliver(target, message, timeout=10)
        mailer.close()
        assert mailbox.messages_to("owner@example.com") == []


def test_starttls_then_authentication(tmp_path: Path) -> None:
    server_context, client_context = self_signed_context(tmp_path)
    with smtp_server(user="bgone", password="secret", starttls=server_context) as mailbox:
        target = parse_smtp_url(f"smtp://bgone:secret@127.0.0.1:{mailbox.port}")
        message = Mailer(target, "b@x.io").compose("owner@example.com", "Over TLS", "Body")
        deliver(target, message, timeout=10, context=client_context)
        mail = mailbox.wait_for("owner@example.com")
    assert (mail.authenticated_as, mail.message["Subject"]) == ("bgone", "Over TLS")


def test_smtps_is_tls_from_the_first_byte(tmp_path: Path) -> None:
    server_context, client_context = self_signed_context(tmp_path)
    with smtp_server(user="bgone", password="secret", implicit_tls=server_context) as mailbox:
        target = parse_smtp_url(f"smtps://bgone:secret@127.0.0.1:{mailbox.port}")
        message = Mailer(target, "b@x.io").compose("owner@example.com", "Over smtps", "Body")
        deliver(target, message, timeout=10, context=client_context)
        assert mailbox.wait_for("owner@example.com").authenticated_as == "bgone"


def test_an_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    server_context, _ = self_signed_context(tmp_path)
    with smtp_server(user="bgone", password="secret", starttls=server_context) as mailbox:
        target = parse_smtp_url(f"smtp://bgone:secret@127.0.0.1:{mailbox.port}")
        message = Mailer(target, "b@x.io").compose("owner@example.com", "Hello", "Body")
        with pytest.raises(ssl.SSLCertVerificationError):
            deliver(target, message, timeout=10)  # the system's trust store
        assert mailbox.messages_to("owner@example.com") == []
