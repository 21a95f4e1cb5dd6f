"""The longest valid email (320 characters) manages keys from the dashboard on real
`bgone serve`, on SQLite and on PostgreSQL, whose VARCHAR(320) once refused
"dashboard:" + that email as a key's creator and an audit event's actor (a 503)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from bgone.db.engine import transaction
from bgone.db.tables import AuditEventRow
from bgone.domain.accounts import create_account
from bgone.domain.web_sessions import COOKIE_NAME, start_session
from tests.support.servers import POSTGRES_REDIS, SQLITE, server_fixtures
from tests.support.stack import Server, Stack

LONGEST_EMAIL = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 63, "e" * 59]) + ".com"

long_email_stack, long_email_server = server_fixtures("long_email", kinds=(SQLITE, POSTGRES_REDIS))


def test_the_longest_email_creates_and_rotates_keys_from_the_dashboard(
    long_email_stack: Stack, long_email_server: Server
) -> None:
    stack, server = long_email_stack, long_email_server
    assert len(LONGEST_EMAIL) == 320
    with transaction(stack.sessions) as session:
        account = create_account(session, LONGEST_EMAIL, plan="business")
        token, web_session = start_session(session, account.id, None)
    form = {"csrf_token": web_session.csrf_token}

    with httpx.Client(base_url=server.base_url, cookies={COOKIE_NAME: token}) as client:
        created = client.post("/account/keys", data={**form, "name": "shop"})
        assert created.status_code == 303, created.text
        key_id = re.search(r"key_[0-9A-Za-z]{16}", client.get("/account").text)
        assert key_id is not None
        rotated = client.post(f"/account/keys/{key_id[0]}/rotate", data={**form, "grace": "1h"})
        assert rotated.status_code == 303, rotated.text

    with stack.sessions() as session:
        actors = set(
            session.scalars(
                select(AuditEventRow.actor).where(AuditEventRow.account_id == account.id)
            )
        )
    assert actors == {f"dashboard:{LONGEST_EMAIL}"}
