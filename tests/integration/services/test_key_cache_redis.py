"""A revocation through the CLI's publish-only key cache reaches a running server's cache over a
real Redis: the operator's `bgone keys revoke` stops a key on every replica at once."""

from __future__ import annotations

import secrets

import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.domain.accounts import create_account
from bgone.security.hashing import SecretRing
from bgone.services.keys import KeyActor
from tests.unit.domain.support import NOW

pytestmark = pytest.mark.redis


@pytest.fixture
def ring() -> SecretRing:
    return SecretRing.from_secrets("server-secret-for-tests")


def owner(sessions: SessionFactory) -> KeyActor:
    with transaction(sessions) as session:
        account = create_account(
            session, f"{secrets.token_hex(6)}@example.com", plan="business", now=NOW
        )
    return KeyActor(account.id, f"dashboard:{account.email}", "192.0.2.7")
