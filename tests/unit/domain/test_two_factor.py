"""Two-factor rows: enrolment in two steps, a code counted once, recovery codes spent once,
the policy, and the second step's short-lived challenge."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlalchemy import select

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import RecoveryCodeRow, TwoFactorChallengeRow
from bgone.domain import two_factor
from bgone.domain.two_factor import CHALLENGE_LIFETIME
from tests.unit.domain.support import NOW, MakeAccount, owner_id


def enrol(sessions: SessionFactory, user_id: int) -> tuple[str, list[str]]:
    with transaction(sessions) as session:
        secret = two_factor.start_enrolment(session, user_id, now=NOW)
    with transaction(sessions) as session:
        assert two_factor.confirm(session, user_id, pyotp.TOTP(secret).at(NOW), now=NOW)
        codes = two_factor.replace_recovery_codes(session, user_id, now=NOW)
    return secret, codes


def test_enrolment_needs_a_code_of_the_new_secret(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    me = owner_id(sessions, account)
    with transaction(sessions) as session:
        secret = two_factor.start_enrolment(session, me, now=NOW)
        assert two_factor.state(session, me, account.id).pending_secret == secret
        assert not two_factor.is_enabled(session, me)
        # A pending secret does not sign anyone in.
        assert not two_factor.accept_code(session, me, pyotp.TOTP(secret).at(NOW), NOW)
        wrong = "000000" if pyotp.TOTP(secret).at(NOW) != "000000" else "111111"
        assert not two_factor.confirm(session, me, wrong, now=NOW)
    with transaction(sessions) as session:
        assert two_factor.confirm(session, me, pyotp.TOTP(secret).at(NOW), now=NOW)
        state = two_factor.state(session, me, account.id)
    assert state.enabled and state.pending_secret is None


def test_a_code_is_accepted_once_and_never_an_older_one(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    me = owner_id(sessions, account)
    secret, _ = enrol(sessions, me)
    later = NOW + timedelta(seconds=60)
    code = pyotp.TOTP(secret).at(later)
    with transaction(sessions) as session:
        assert two_factor.accept_code(session, me, code, later)
        assert not two_factor.accept_code(session, me, code, later)
        # The previous step's code is still inside the window, but older than the used one.
        previous = pyotp.TOTP(secret).at(later - timedelta(seconds=30))
        assert not two_factor.accept_code(session, me, previous, later)
        following = pyotp.TOTP(secret).at(later + timedelta(seconds=30))
        assert two_factor.accept_code(session, me, following, later)


def test_the_enrolment_code_cannot_sign_in_again(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    me = owner_id(sessions, account)
    secret, _ = enrol(sessions, me)
    with transaction(sessions) as session:
        assert not two_factor.accept_code(session, me, pyotp.TOTP(secret).at(NOW), NOW)


def test_recovery_codes_are_stored_hashed_and_work_once(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, other = make_account(), make_account()
    me, them = owner_id(sessions, account), owner_id(sessions, other)
    _, codes = enrol(sessions, me)
    with transaction(sessions) as session:
        stored = set(session.scalars(select(RecoveryCodeRow.code_hash)))
        assert not stored & set(codes)
        assert not two_factor.use_recovery_code(session, them, codes[0], NOW)
        assert two_factor.use_recovery_code(session, me, codes[0].upper(), NOW)
        assert not two_factor.use_recovery_code(session, me, codes[0], NOW)
        assert not two_factor.use_recovery_code(session, me, "", NOW)
        assert two_factor.state(session, me, account.id).recovery_codes_left == 9


def test_new_recovery_codes_replace_the_old(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    me = owner_id(sessions, account)
    _, old = enrol(sessions, me)
    with transaction(sessions) as session:
        new = two_factor.replace_recovery_codes(session, me, NOW)
        assert not two_factor.use_recovery_code(session, me, old[1], NOW)
        assert two_factor.use_recovery_code(session, me, new[1], NOW)


def test_the_policy_and_who_must_enrol(sessions: SessionFactory, make_account: MakeAccount) -> None:
    account = make_account()
    me = owner_id(sessions, account)
    with transaction(sessions) as session:
        assert not two_factor.must_enrol(session, me, account.id)
        assert two_factor.set_required(session, account.id, True)
        assert not two_factor.set_required(session, account.id, True)
        assert two_factor.must_enrol(session, me, account.id)
    enrol(sessions, me)
    with transaction(sessions) as session:
        assert not two_factor.must_enrol(session, me, account.id)
        assert two_factor.state(session, me, account.id).required


def test_removing_takes_the_secret_codes_and_challenges(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    me = owner_id(sessions, account)
    _, codes = enrol(sessions, me)
    with transaction(sessions) as session:
        token = two_factor.start_challenge(session, me, "/account", NOW)
        assert two_factor.remove(session, me)
        assert not two_factor.is_enabled(session, me)
        assert two_factor.find_challenge(session, token, NOW) is None
        assert not two_factor.use_recovery_code(session, me, codes[0], NOW)
        assert not two_factor.remove(session, me)


def test_a_challenge_is_short_lived_and_stored_hashed(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    me = owner_id(sessions, account)
    with transaction(sessions) as session:
        token = two_factor.start_challenge(session, me, "/account#keys", NOW)
        assert token not in set(session.scalars(select(TwoFactorChallengeRow.token_hash)))
        found = two_factor.find_challenge(session, token, NOW + CHALLENGE_LIFETIME / 2)
        assert found is not None and found.next_path == "/account#keys"
        assert two_factor.find_challenge(session, token, NOW + CHALLENGE_LIFETIME) is None
        assert two_factor.find_challenge(session, "x" * 43, NOW) is None
        assert two_factor.find_challenge(session, None, NOW) is None
        two_factor.end_challenge(session, token)
        assert two_factor.find_challenge(session, token, NOW) is None
