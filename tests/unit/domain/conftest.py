"""Helpers for the business-rule tests; the databases come from tests/db_fixtures.py."""

from __future__ import annotations

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.domain.accounts import Account, create_account
from bgone.security.hashing import SecretRing
from tests.unit.domain.support import NOW, MakeAccount


@pytest.fixture
def ring() -> SecretRing:
    return SecretRing.from_secrets("server-secret-for-tests")


@pytest.fixture
def make_account(sessions: SessionFactory) -> MakeAccount:
    counter = iter(range(1, 1_000))

    def make(plan: str = "business", email: str | None = None) -> Account:
        with transaction(sessions) as session:
            return create_account(
                session, email or f"user{next(counter)}@example.com", plan=plan, now=NOW
            )

    return make
