"""Operators on a test stack: a person with the operator flag and a confirmed second factor
(through the domain layer, as `bgone operators add` and an enrolment would leave them), and
signed-in sessions for people (cookie token and CSRF token)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp

from bgone.db.engine import transaction
from bgone.domain import accounts, operators, two_factor, users, web_sessions
from bgone.domain.clock import utc_now
from tests.support.stack import Stack


@dataclass(frozen=True)
class Person:
    user_id: int
    account_id: int
    email: str


@dataclass(frozen=True)
class SignedIn:
    token: str
    csrf: str


def person(stack: Stack, plan: str = "starter", tag: str = "person") -> Person:
    """A new account and its owner."""
    email = f"{tag}-{secrets.token_hex(4)}@example.com"
    with transaction(stack.sessions) as session:
        account = accounts.create_account(session, email, plan)
        found = users.get_by_email(session, email)
        assert found is not None
    return Person(found.id, account.id, email)


def make_operator(stack: Stack, who: Person, with_two_factor: bool = True) -> None:
    with transaction(stack.sessions) as session:
        operators.add(session, who.email, "tests")
        if with_two_factor:
            secret = two_factor.start_enrolment(session, who.user_id)
            code = pyotp.TOTP(secret).at(utc_now() - timedelta(seconds=30))
            assert two_factor.confirm(session, who.user_id, code)


def sign_in(stack: Stack, who: Person) -> SignedIn:
    with transaction(stack.sessions) as session:
        token, started = web_sessions.start_session(
            session, who.account_id, None, user_id=who.user_id
        )
    return SignedIn(token, started.csrf_token)
