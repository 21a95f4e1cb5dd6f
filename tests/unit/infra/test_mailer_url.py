"""BGONE_SMTP_URL as the mailer reads it: STARTTLS, TLS or plain, credentials, refusals."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bgone.infra.mailer import InvalidSmtpUrl, Mailer, Security, SmtpTarget, parse_smtp_url


def test_smtp_means_starttls_on_587_with_credentials() -> None:
    target = parse_smtp_url("smtp://user:pass@mail.example.com")
    assert target == SmtpTarget("mail.example.com", 587, Security.STARTTLS, "user", "pass")


def test_smtps_means_tls_on_465_and_ports_are_kept() -> None:
    assert parse_smtp_url("smtps://mail.example.com").port == 465
    assert parse_smtp_url("smtps://mail.example.com").security is Security.TLS
    assert parse_smtp_url("smtps://mail.example.com:2465").port == 2465


def test_credentials_are_percent_decoded() -> None:
    target = parse_smtp_url("smtp://me%40example.com:p%40ss%3Aword@mail.example.com:587")
    assert (target.username, target.password) == ("me@example.com", "p@ss:word")


def test_the_password_stays_out_of_repr() -> None:
    assert "secret" not in repr(parse_smtp_url("smtp://user:secret@mail.example.com"))


def test_plain_smtp_is_allowed_without_credentials_anywhere_and_with_them_on_loopback() -> None:
    assert parse_smtp_url("smtp+plain://relay.internal").security is Security.NONE
    assert parse_smtp_url("smtp+plain://relay.internal").port == 25
    assert parse_smtp_url("smtp+plain://u:p@127.0.0.1:2525").username == "u"
    with pytest.raises(InvalidSmtpUrl, match="unencrypted"):
        parse_smtp_url("smtp+plain://u:p@relay.example.com")


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.com",
        "mail.example.com:587",
        "smtp://",
        "smtp://mail.example.com:notaport",
        "smtp://mail.example.com/path",
        "smtp://mail.example.com?starttls=off",
        "smtp://:pass@mail.example.com",
    ],
)
def test_unusable_urls_are_refused_with_a_reason(url: str) -> None:
    with pytest.raises(InvalidSmtpUrl):
        parse_smtp_url(url)


def test_no_url_means_no_mailer() -> None:
    assert Mailer.from_url("", "bgone@example.com") is None
    assert Mailer.from_url("  ", "bgone@example.com") is None


def test_messages_are_sent_off_the_callers_thread_and_failures_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import threading

    sent: list[tuple[str, EmailMessage]] = []

    def send(target: SmtpTarget, message: EmailMessage) -> None:
        sent.append((threading.current_thread().name, message))
        if message["To"] == "broken@example.com":
            raise OSError("connection refused")

    mailer = Mailer(parse_smtp_url("smtp+plain://127.0.0.1:1"), "bgone@example.com", send)
    mailer.send_later("owner@example.com", "Hello", "Body text").result(timeout=5)
    mailer.send_later("broken@example.com", "Hello", "Body").result(timeout=5)
    mailer.close()

    (thread, message), _ = sent
    assert thread.startswith("bgone-mail")
    assert (message["From"], message["To"], message["Subject"]) == (
        "bgone@example.com",
        "owner@example.com",
        "Hello",
    )
    assert message.get_content().strip() == "Body text"
    assert "could not send mail to broken@example.com" in caplog.text


def test_deferred_work_runs_on_the_mail_thread_and_its_failures_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import threading

    ran: list[str] = []

    def work() -> None:
        ran.append(threading.current_thread().name)
        raise RuntimeError("database gone")

    mailer = Mailer(parse_smtp_url("smtp+plain://127.0.0.1:1"), "bgone@example.com")
    mailer.defer(work).result(timeout=5)
    mailer.close()
    assert ran[0].startswith("bgone-mail")
    assert "mail work failed" in caplog.text
