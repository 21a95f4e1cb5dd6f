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
from tests.unit.domain.support import NOW, MakeAccount


def enrol(sessions: SessionFactory, account_id: int) -> tuple[str, list[str]]:
    with transaction(sessions) as session:
        secret = two_factor.start_enrolment(session, account_id, now=NOW)
    with transaction(sessions) as session:
        assert two_factor.confirm(session, account_id, pyotp.TOTP(secret).at(NOW), now=NOW)
        codes = two_factor.replace_recovery_codes(session, account_id, now=NOW)
    return secret, codes


def test_enrolment_needs_a_code_of_the_new_secret(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        secret = two_factor.start_enrolment(session, account.id, now=NOW)
        assert two_factor.state(session, account.id).pending_secret == secret
        assert not two_factor.is_enabled(session, account.id)
        # A pending secret does not sign anyone in.
        assert not two_factor.accept_code(session, account.id, pyotp.TOTP(secret).at(NOW), NOW)
        wrong = "000000" if pyotp.TOTP(secret).at(NOW) != "000000" else "111111"
        assert not two_factor.confirm(session, account.id, wrong, now=NOW)
    with transaction(sessions) as session:
        assert two_factor.confirm(session, account.id, pyotp.TOTP(secret).at(NOW), now=NOW)
        state = two_factor.state(session, account.id)
    assert state.enabled and state.pending_secret is None


def test_a_code_is_accepted_once_and_never_an_older_one(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    secret, _ = enrol(sessions, account.id)
    later = NOW + timedelta(seconds=60)
    code = pyotp.TOTP(secret).at(later)
    with transaction(sessions) as session:
        assert two_factor.accept_code(session, account.id, code, later)
        assert not two_factor.accept_code(session, account.id, code, later)
        # The previous step's code is still inside the window, but older than the used one.
        previous = pyotp.TOTP(secret).at(later - timedelta(seconds=30))
        assert not two_factor.accept_code(session, account.id, previous, later)
        following = pyotp.TOTP(secret).at(later + timedelta(seconds=30))
        assert two_factor.accept_code(session, account.id, following, later)


def test_the_enrolment_code_cannot_sign_in_again(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    secret, _ = enrol(sessions, account.id)
    with transaction(sessions) as session:
        assert not two_factor.accept_code(session, account.id, pyotp.TOTP(secret).at(NOW), NOW)


def test_recovery_codes_are_stored_hashed_and_work_once(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account, other = make_account(), make_account()
    _, codes = enrol(sessions, account.id)
    with transaction(sessions) as session:
        stored = set(session.scalars(select(RecoveryCodeRow.code_hash)))
        assert not stored & set(codes)
        assert not two_factor.use_recovery_code(session, other.id, codes[0], NOW)
        assert two_factor.use_recovery_code(session, account.id, codes[0].upper(), NOW)
        assert not two_factor.use_recovery_code(session, account.id, codes[0], NOW)
        assert not two_factor.use_recovery_code(session, account.id, "", NOW)
        assert two_factor.state(session, account.id).recovery_codes_left == 9


def test_new_recovery_codes_replace_the_old(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    _, old = enrol(sessions, account.id)
    with transaction(sessions) as session:
        new = two_factor.replace_recovery_codes(session, account.id, NOW)
        assert not two_factor.use_recovery_code(session, account.id, old[1], NOW)
        assert two_factor.use_recovery_code(session, account.id, new[1], NOW)


def test_the_policy_and_who_must_enrol(sessions: SessionFactory, make_account: MakeAccount) -> None:
    account = make_account()
    with transaction(sessions) as session:
        assert not two_factor.must_enrol(session, account.id)
        assert two_factor.set_required(session, account.id, True)
        assert not two_factor.set_required(session, account.id, True)
        assert two_factor.must_enrol(session, account.id)
    enrol(sessions, account.id)
    with transaction(sessions) as session:
        assert not two_factor.must_enrol(session, account.id)
        assert two_factor.state(session, account.id).required


def test_removing_takes_the_secret_codes_and_challenges(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    _, codes = enrol(sessions, account.id)
    with transaction(sessions) as session:
        token = two_factor.start_challenge(session, account.id, "/account", NOW)
        assert two_factor.remove(session, account.id)
        assert not two_factor.is_enabled(session, account.id)
        assert two_factor.find_challenge(session, token, NOW) is None
        assert not two_factor.use_recovery_code(session, account.id, codes[0], NOW)
        assert not two_factor.remove(session, account.id)


def test_a_challenge_is_short_lived_and_stored_hashed(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    with transaction(sessions) as session:
        token = two_factor.start_challenge(session, account.id, "/account#keys", NOW)
        assert token not in set(session.scalars(select(TwoFactorChallengeRow.token_hash)))
        found = two_factor.find_challenge(session, token, NOW + CHALLENGE_LIFETIME / 2)
        assert found is not None and found.next_path == "/account#keys"
        assert two_factor.find_challenge(session, token, NOW + CHALLENGE_LIFETIME) is None
        assert two_factor.find_challenge(session, "x" * 43, NOW) is None
        assert two_factor.find_challenge(session, None, NOW) is None
        two_factor.end_challenge(session, token)
        assert two_factor.find_challenge(session, token, NOW) is None
