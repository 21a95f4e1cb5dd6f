"""Constants and types shared by the domain tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import users
from bgone.domain.accounts import Account

NOW = datetime(2025, 5, 14, 9, 30, tzinfo=UTC)

MakeAccount = Callable[..., Account]


def owner_id(sessions: SessionFactory, account: Account) -> int:
    """The id of the person who owns `account` (two-factor, tokens and sessions are theirs)."""
    with transaction(sessions) as session:
        person = users.get_by_email(session, account.email)
    assert person is not None
    return person.id
