"""Single-use tokens: stored hashed, used once, expired after their lifetime, one purpose."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import OneTimeTokenRow
from bgone.domain import one_time_tokens
from bgone.domain.accounts import Account
from bgone.domain.one_time_tokens import PASSWORD_RESET_LIFETIME, TokenPurpose, token_hash
from tests.unit.domain.support import NOW, MakeAccount, owner_id

RESET = TokenPurpose.PASSWORD_RESET


def issue(sessions: SessionFactory, account: Account, purpose: TokenPurpose = RESET) -> str:
    """A token for the account's owner (tokens are a person's)."""
    user_id = owner_id(sessions, account)
    with transaction(sessions) as session:
        return one_time_tokens.issue(
            session, user_id, "owner@example.com", purpose, PASSWORD_RESET_LIFETIME, now=NOW
        )


def test_only_the_hash_is_stored(sessions: SessionFactory, make_account: MakeAccount) -> None:
    token = issue(sessions, make_account())
    with transaction(sessions) as session:
        stored = session.scalars(select(OneTimeTokenRow.token_hash)).all()
    assert token_hash(token) in stored
    assert token not in stored
    assert len(token) >= 40


def test_a_token_is_redeemed_once(sessions: SessionFactory, make_account: MakeAccount) -> None:
    account = make_account()
    token = issue(sessions, account)
    with transaction(sessions) as session:
        assert one_time_tokens.peek(session, token, RESET, now=NOW) is not None
        grant = one_time_tokens.redeem(session, token, RESET, now=NOW)
    assert grant is not None
    assert (grant.user_id, grant.email, grant.purpose) == (
        owner_id(sessions, account),
        "owner@example.com",
        RESET,
    )
    with transaction(sessions) as session:
        assert one_time_tokens.redeem(session, token, RESET, now=NOW) is None
        assert one_time_tokens.peek(session, token, RESET, now=NOW) is None


def test_a_token_expires_after_its_lifetime(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    token = issue(sessions, make_account())
    later = NOW + PASSWORD_RESET_LIFETIME
    with transaction(sessions) as session:
        assert one_time_tokens.peek(session, token, RESET, now=later - timedelta(seconds=1))
        assert one_time_tokens.redeem(session, token, RESET, now=later) is None
        assert one_time_tokens.peek(session, token, RESET, now=later) is None


def test_a_token_serves_its_own_purpose_only(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    token = issue(sessions, make_account(), TokenPurpose.EMAIL_VERIFICATION)
    with transaction(sessions) as session:
        assert one_time_tokens.redeem(session, token, RESET, now=NOW) is None
        assert one_time_tokens.redeem(session, token, TokenPurpose.EMAIL_VERIFICATION, now=NOW)


def test_junk_tokens_are_refused(sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        for junk in (None, "", "x" * 5000, "not-a-token"):
            assert one_time_tokens.redeem(session, junk, RESET, now=NOW) is None
            assert one_time_tokens.peek(session, junk, RESET, now=NOW) is None


def test_withdrawing_ends_every_unused_token_of_that_purpose(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, other = make_account(), make_account()
    first, second = issue(sessions, account), issue(sessions, account)
    verification = issue(sessions, account, TokenPurpose.EMAIL_VERIFICATION)
    others = issue(sessions, other)
    me = owner_id(sessions, account)
    with transaction(sessions) as session:
        assert one_time_tokens.withdraw_all(session, me, RESET, now=NOW) == 2
    with transaction(sessions) as session:
        assert one_time_tokens.peek(session, first, RESET, now=NOW) is None
        assert one_time_tokens.peek(session, second, RESET, now=NOW) is None
        assert one_time_tokens.peek(session, others, RESET, now=NOW) is not None
        purpose = TokenPurpose.EMAIL_VERIFICATION
        assert one_time_tokens.peek(session, verification, purpose, now=NOW) is not None
