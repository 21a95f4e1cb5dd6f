"""Dashboard sign-in: sign-up, throttled password log-in, and the session that follows.

Failed log-ins count per email and per client address, so neither guessing one account's
password from many addresses nor trying many accounts from one address gets far. An
unknown email costs the same password verification as a wrong password, so neither the
answer nor its timing tells which accounts exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import accounts, members, users, web_sessions
from bgone.errors import AccountExists, NotFound
from bgone.infra.ratelimit import RateLimiter
from bgone.security.passwords import dummy_verify, hash_password, verify_password

LOGIN_FAILURES_PER_MINUTE = 5


class LoginOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # unknown email or wrong password: the caller cannot tell which
    THROTTLED = "throttled"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user_id: int | None = None  # set when the outcome is OK


def throttle_buckets(email: str, ip: str | None) -> list[str]:
    return [f"login:email:{email.strip().lower()}", f"login:ip:{ip or 'unknown'}"]


class DashboardLogin:
    """Blocking (password hashing, the database): async callers use a worker thread."""

    def __init__(
        self,
        sessions: SessionFactory,
        read_sessions: SessionFactory,
        limiter: RateLimiter,
        trial_milli: int = 0,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.limiter = limiter
        self.trial_milli = trial_milli  # BGONE_TRIAL_CREDITS, granted once per new account

    def log_in(self, email: str, password: str, ip: str | None) -> LoginResult:
        buckets = throttle_buckets(email, ip)
        # Each attempt is counted before its password is verified, and refunded if it was
        # right: counting after the verification let a burst of parallel guesses all pass
        # the check before any of them was counted.
        counted: list[str] = []
        for bucket in buckets:
            if not self.limiter.hit(bucket, LOGIN_FAILURES_PER_MINUTE).allowed:
                self._refund(counted)
                return LoginResult(LoginOutcome.THROTTLED)
            counted.append(bucket)
        with transaction(self.read_sessions) as session:
            user = users.get_by_email(session, email)
        if user is None or user.password_hash is None:
            dummy_verify(password)  # same work, so timing does not reveal unknown emails
        elif verify_password(user.password_hash, password):
            self._refund(counted)
            return LoginResult(LoginOutcome.OK, user.id)
        return LoginResult(LoginOutcome.WRONG)

    def _refund(self, buckets: list[str]) -> None:
        for bucket in buckets:
            self.limiter.refund(bucket, LOGIN_FAILURES_PER_MINUTE)

    def sign_up(self, email: str, password: str, plan: str) -> int:
        """The new person's id (the owner of a new account); raises AccountExists or
        InvalidEmail (also when the person exists already: they log in instead)."""
        with transaction(self.sessions) as session:
            if users.get_by_email(session, email) is not None:
                raise AccountExists(f"an account for {email.strip().lower()} already exists")
            account = accounts.create_account(
                session, email, plan, hash_password(password), trial_milli=self.trial_milli
            )
            owner = users.get_by_email(session, account.email)
            assert owner is not None
            return owner.id

    def start_session(
        self,
        user_id: int,
        ip: str | None,
        account_id: int | None = None,
        user_agent: str | None = None,
    ) -> str:
        """The new session's cookie token, in `account_id` (one of the person's) or else
        their first account."""
        with transaction(self.sessions) as session:
            accounts_of = [m.account_id for m in members.memberships_of(session, user_id)]
            if not accounts_of:
                raise NotFound("this person belongs to no account")
            target = account_id if account_id in accounts_of else accounts_of[0]
            token, _ = web_sessions.start_session(
                session, target, ip, user_id=user_id, user_agent=user_agent
            )
        return token

    def switch_account(self, token: str, user_id: int, account_id: int) -> None:
        """Another account of the person's; one they do not belong to answers NotFound."""
        with transaction(self.sessions) as session:
            if members.role_of(session, account_id, user_id) is None:
                raise NotFound(f"no account {account_id}")
            web_sessions.switch_account(session, token, account_id)

    def end_session(self, token: str) -> None:
        with transaction(self.sessions) as session:
            web_sessions.end_session(session, token)
