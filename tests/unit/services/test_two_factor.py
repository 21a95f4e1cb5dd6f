"""TwoFactorService: enrolment with its audit, the second step (a code once, a recovery code
once), code attempts throttled like passwords (counted before checking), the policy, and an
owner's or the operator's reset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import pytest

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import accounts, audit, two_factor
from bgone.domain.audit import AuditAction
from bgone.domain.clock import utc_now
from bgone.errors import NotFound
from bgone.infra.ratelimit import LimitsRateLimiter
from bgone.services.two_factor import CODE_FAILURES_PER_MINUTE, CodeOutcome, TwoFactorService
from tests.unit.domain.support import MakeAccount, owner_id

IP = "203.0.113.9"


@pytest.fixture
def service(sessions: SessionFactory, limiter: LimitsRateLimiter) -> TwoFactorService:
    return TwoFactorService(sessions, sessions, limiter)


def actions(sessions: SessionFactory, account_id: int) -> list[AuditAction]:
    with transaction(sessions) as session:
        return [event.action for event in audit.list_for_account(session, account_id)]


def wrong_code(secret: str) -> str:
    right = {pyotp.TOTP(secret).at(utc_now() + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in right)


@dataclass(frozen=True)
class Me:
    """The owner of a new account: the second factor is the person's, the policy the account's."""

    account: int
    user: int


Enrolled = Callable[[], tuple[Me, str, list[str]]]


@pytest.fixture
def enrolled(
    service: TwoFactorService, sessions: SessionFactory, make_account: MakeAccount
) -> Enrolled:
    def make() -> tuple[Me, str, list[str]]:
        account = make_account()
        me = Me(account.id, owner_id(sessions, account))
        secret = service.start_enrolment(me.user).secret
        # The code of the previous step, so that the test's own "now" code is still unused.
        code = pyotp.TOTP(secret).at(utc_now() - timedelta(seconds=30))
        confirmation = service.confirm(me.user, code, IP, f"dashboard:{account.email}")
        assert confirmation.outcome is CodeOutcome.OK
        return me, secret, confirmation.recovery_codes

    return make


def test_enrolment_shows_ten_codes_and_is_audited(
    service: TwoFactorService,
    sessions: SessionFactory,
    enrolled: Enrolled,
) -> None:
    me, _, codes = enrolled()
    assert len(codes) == 10
    assert service.state(me.user, me.account).enabled
    assert service.pending_enrolment(me.user) is None
    assert AuditAction.TWO_FACTOR_ENABLED in actions(sessions, me.account)


def test_a_wrong_confirmation_code_leaves_it_off(
    service: TwoFactorService, sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    user_id = owner_id(sessions, account)
    enrolment = service.start_enrolment(user_id)
    assert enrolment.uri.startswith("otpauth://totp/")
    outcome = service.confirm(user_id, wrong_code(enrolment.secret), IP, "dashboard")
    assert outcome.outcome is CodeOutcome.WRONG
    assert not service.state(user_id, account.id).enabled
    assert service.begin(user_id, "/account") is None  # no second step without it


def test_the_second_step_takes_a_code_once(service: TwoFactorService, enrolled: Enrolled) -> None:
    me, secret, _ = enrolled()
    token = service.begin(me.user, "/account#keys")
    assert token is not None
    code = pyotp.TOTP(secret).now()
    result = service.verify(token, code, IP)
    assert result.outcome is CodeOutcome.OK
    assert (result.user_id, result.next_path) == (me.user, "/account#keys")
    # The challenge is spent, and so is the code, even in a new challenge.
    assert service.verify(token, code, IP).outcome is CodeOutcome.EXPIRED
    again = service.begin(me.user, "/account")
    assert service.verify(again, code, IP).outcome is CodeOutcome.WRONG


def test_a_recovery_code_signs_in_once_and_is_audited(
    service: TwoFactorService,
    sessions: SessionFactory,
    enrolled: Enrolled,
) -> None:
    me, _, codes = enrolled()
    result = service.verify(service.begin(me.user, "/account"), codes[3], IP)
    assert result.outcome is CodeOutcome.OK and result.recovery_code_used
    assert service.verify(service.begin(me.user, "/"), codes[3], IP).outcome is (CodeOutcome.WRONG)
    assert service.state(me.user, me.account).recovery_codes_left == 9
    assert AuditAction.RECOVERY_CODE_USED in actions(sessions, me.account)


def test_code_attempts_are_throttled_before_checking(
    service: TwoFactorService, enrolled: Enrolled
) -> None:
    me, secret, _ = enrolled()
    token = service.begin(me.user, "/account")
    for _ in range(CODE_FAILURES_PER_MINUTE):
        assert service.verify(token, wrong_code(secret), "198.51.100.1").outcome is (
            CodeOutcome.WRONG
        )
    # Even the right code is not checked now: the attempt is counted first, and refused.
    right = pyotp.TOTP(secret).now()
    assert service.verify(token, right, "198.51.100.2").outcome is CodeOutcome.THROTTLED


def test_right_codes_are_refunded(service: TwoFactorService, enrolled: Enrolled) -> None:
    me, _, codes = enrolled()
    for code in codes[: CODE_FAILURES_PER_MINUTE + 2]:
        result = service.verify(service.begin(me.user, "/account"), code, IP)
        assert result.outcome is CodeOutcome.OK


def test_disabling_needs_a_code_or_the_password(
    service: TwoFactorService,
    sessions: SessionFactory,
    enrolled: Enrolled,
) -> None:
    me, secret, _ = enrolled()
    assert service.disable(me.user, "not my password", IP, "dashboard") is CodeOutcome.WRONG
    assert service.disable(me.user, pyotp.TOTP(secret).now(), IP, "dashboard") is (CodeOutcome.OK)
    assert not service.state(me.user, me.account).enabled
    assert AuditAction.TWO_FACTOR_DISABLED in actions(sessions, me.account)


def test_the_policy_needs_the_changer_enrolled_and_blocks_disabling(
    service: TwoFactorService,
    sessions: SessionFactory,
    make_account: MakeAccount,
    enrolled: Enrolled,
) -> None:
    bare = make_account()
    assert not service.set_required(bare.id, owner_id(sessions, bare), True, IP, "dashboard")
    me, secret, _ = enrolled()
    assert service.set_required(me.account, me.user, True, IP, "dashboard")
    assert AuditAction.TWO_FACTOR_POLICY in actions(sessions, me.account)
    assert service.disable(me.user, pyotp.TOTP(secret).now(), IP, "dashboard") is (
        CodeOutcome.REQUIRED
    )
    with transaction(sessions) as session:
        two_factor.remove(session, me.user)
    assert service.must_enrol(me.user, me.account)


def test_reset_by_owner_and_operator(
    service: TwoFactorService,
    sessions: SessionFactory,
    make_account: MakeAccount,
    enrolled: Enrolled,
) -> None:
    me, _, _ = enrolled()
    stranger = make_account()
    with transaction(sessions) as session:
        email = accounts.get_by_id(session, me.account).email
    with pytest.raises(NotFound):
        service.reset(stranger.id, email, f"dashboard:{stranger.email}")
    assert service.reset(me.account, email, "dashboard:owner@example.com")
    assert not service.state(me.user, me.account).enabled
    assert not service.operator_reset(email)  # nothing left to reset
    with pytest.raises(NotFound):
        service.operator_reset("nobody@example.com")
    with transaction(sessions) as session:
        events = audit.list_for_account(session, me.account)
    reset = [event for event in events if event.action is AuditAction.TWO_FACTOR_RESET]
    # Newest first: the operator's (nothing left to remove, still recorded), then the owner's.
    assert [event.actor for event in reset] == ["operator (cli)", "dashboard:owner@example.com"]
    assert reset[0].detail.endswith("reset (there was none)")
