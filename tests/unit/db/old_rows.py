"""Rows written as an old revision's schema had them, without today's domain code (which
needs today's tables): for the tests of migrations over a database in use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection


def old_account(
    connection: Connection, email: str, at: datetime, password_hash: str | None = None
) -> int:
    connection.execute(
        text(
            "INSERT INTO accounts (email, password_hash, plan, status, created_at) "
            "VALUES (:email, :hash, 'business', 'active', :at)"
        ),
        {"email": email, "hash": password_hash, "at": at},
    )
    found = connection.scalar(text("SELECT id FROM accounts WHERE email = :e"), {"e": email})
    assert isinstance(found, int)
    return found


def old_key(
    connection: Connection,
    key_id: str,
    account_id: int,
    created_by: str,
    at: datetime,
    replaced_by: str | None = None,
) -> None:
    connection.execute(
        text(
            "INSERT INTO api_keys (id, account_id, name, environment, display, hash, "
            "hash_version, created_by, created_at, replaced_by) VALUES (:id, :account, 'app', "
            "'production', 'bgone_live_…', :hash, 1, :by, :at, :replaced_by)"
        ),
        {
            "id": key_id,
            "account": account_id,
            "hash": key_id.ljust(64, "0"),
            "by": created_by,
            "at": at,
            "replaced_by": replaced_by,
        },
    )


def old_event(connection: Connection, account_id: int, key_id: str, at: datetime) -> None:
    connection.execute(
        text(
            "INSERT INTO audit_events (account_id, at, action, key_id, actor, detail) "
            "VALUES (:account, :at, 'key_created', :key, 'key:x', '')"
        ),
        {"account": account_id, "at": at, "key": key_id},
    )
