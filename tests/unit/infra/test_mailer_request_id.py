"""A message queued while a request is served is logged, on the mail thread, with that
request's id: the mail thread runs each job in a copy of the caller's context."""

from __future__ import annotations

import logging

import pytest

from bgone.infra.mailer import Mailer, parse_smtp_url
from bgone.server.request_log import REQUEST_ID, RequestIdFilter


def test_the_mail_threads_lines_carry_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    mailer = Mailer(
        parse_smtp_url("smtp+plain://127.0.0.1:25"), "bgone@example.test", lambda *_: None
    )
    caplog.handler.addFilter(RequestIdFilter())
    token = REQUEST_ID.set("req-mail-1")
    try:
        with caplog.at_level(logging.INFO, logger="bgone.infra.mailer"):
            mailer.send_later("owner@example.com", "hello", "body").result(timeout=10)
            mailer.defer(lambda: logging.getLogger("bgone.infra.mailer").info("deferred")).result(
                timeout=10
            )
    finally:
        REQUEST_ID.reset(token)
        mailer.close()
    lines = [(record.getMessage(), record.request_id) for record in caplog.records]  # type: ignore[attr-defined]
    assert ("sent 'hello' to owner@example.com", "req-mail-1") in lines
    assert ("deferred", "req-mail-1") in lines
