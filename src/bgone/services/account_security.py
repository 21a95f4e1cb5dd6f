"""Signing in safely: password reset by emailed link, email verification, password change,
and the sessions list. Each use case runs in one transaction with its audit event.

They are the person's (users): their password, their address, their sessions, whatever
account they are in. A person's own change is audited in every account they belong to.

Reset requests get one answer whether or not the address has an account, and the look-up
and the mail happen on the mailer's thread after it, so the answer's timing does not tell.
Links are built from the configured public URL only, never from a request's Host header, so
nobody can have the server mail a victim a link to their own host. Without a mailer,
nothing is mailed: sign-up needs no verification and resets are the operator's (`bgone
accounts reset-password`). The methods block: async callers run them in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlencode

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import audit, email_verification, one_time_tokens, session_list, users
from bgone.domain.audit import AuditAction
from bgone.domain.clock import utc_now
from bgone.domain.one_time_tokens import (
    EMAIL_VERIFICATION_LIFETIME,
    PASSWORD_RESET_LIFETIME,
    TokenPurpose,
)
from bgone.domain.session_list import SessionEntry
from bgone.errors import NotFound
from bgone.infra.mailer import Mailer
from bgone.infra.ratelimit import RateLimiter
from bgone.security.passwords import dummy_verify, hash_password, verify_password

# Reset requests allowed per minute for one email address and for one client address.
RESET_REQUESTS_PER_EMAIL = 3
RESET_REQUESTS_PER_IP = 10
OPERATOR = "operator (cli)"
MIN_PASSWORD_LENGTH = 10  # as the dashboard's forms ask (bgone.web.pages)


class ResetRequest(StrEnum):
    ACCEPTED = "accepted"  # a link was mailed if the address has a login: say only that
    THROTTLED = "throttled"
    NO_MAIL = "no_mail"  # this server sends no mail: the operator resets passwords


@dataclass(frozen=True)
class SecurityOverview:
    """What the account page shows of it."""

    mail_enabled: bool
    unverified_email: str | None
    sessions: list[SessionEntry]


def reset_buckets(email: str, ip: str | None) -> list[tuple[str, int]]:
    return [
        (f"reset:email:{email.strip().lower()}", RESET_REQUESTS_PER_EMAIL),
        (f"reset:ip:{ip or 'unknown'}", RESET_REQUESTS_PER_IP),
    ]


class AccountSecurity:
    def __init__(
        self,
        sessions: SessionFactory,
        read_sessions: SessionFactory,
        limiter: RateLimiter,
        mailer: Mailer | None,
        public_url: str,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.limiter = limiter
        self.mailer = mailer
        self.public_url = public_url.rstrip("/")

    @property
    def mail_enabled(self) -> bool:
        return self.mailer is not None

    def link(self, path: str, token: str) -> str:
        return f"{self.public_url}{path}?{urlencode({'token': token})}"

    # -- password reset ----------------------------------------------------------------
    def request_password_reset(self, email: str, ip: str | None) -> ResetRequest:
        if self.mailer is None:
            return ResetRequest.NO_MAIL
        buckets = reset_buckets(email, ip)
        if any(self.limiter.peek(bucket, limit).remaining <= 0 for bucket, limit in buckets):
            return ResetRequest.THROTTLED
        for bucket, limit in buckets:
            self.limiter.hit(bucket, limit)
        # The look-up, the token and the mail happen on the mail thread, after the answer:
        # its timing is the same whether the address has an account or not.
        self.mailer.defer(lambda: self._mail_reset_link(email))
        return ResetRequest.ACCEPTED

    def _mail_reset_link(self, email: str) -> None:
        assert self.mailer is not None
        with transaction(self.sessions) as session:
            person = users.get_by_email(session, email)
            if person is None or not users.in_active_account(session, person.id):
                return
            token = one_time_tokens.issue(
                session,
                person.id,
                person.email,
                TokenPurpose.PASSWORD_RESET,
                PASSWORD_RESET_LIFETIME,
            )
            to = person.email
        self.mailer.send_now(to, "Reset your bgone password", self._reset_body(token))

    def _reset_body(self, token: str) -> str:
        minutes = int(PASSWORD_RESET_LIFETIME.total_seconds() // 60)
        return (
            "Someone (we hope you) asked to reset the password of your bgone account.\n\n"
            f"Choose a new password here (the link works once, for {minutes} minutes):\n\n"
            f"{self.link('/reset-password', token)}\n\n"
            "If you did not ask, ignore this message: your password stays as it is.\n"
        )

    def reset_link_usable(self, token: str | None) -> bool:
        with transaction(self.read_sessions) as session:
            return one_time_tokens.peek(session, token, TokenPurpose.PASSWORD_RESET) is not None

    def reset_password(self, token: str | None, new_password: str, ip: str | None) -> int | None:
        """Sets the person's password and ends every session of theirs; their id, or None for
        a link that is unknown, used or expired. Their other reset links stop working."""
        password_hash = hash_password(new_password)
        with transaction(self.sessions) as session:
            grant = one_time_tokens.redeem(session, token, TokenPurpose.PASSWORD_RESET)
            if grant is None:
                return None
            users.set_password_hash(session, grant.user_id, password_hash)
            one_time_tokens.withdraw_all(session, grant.user_id, TokenPurpose.PASSWORD_RESET)
            ended = session_list.end_sessions(session, grant.user_id)
            # The link reached the inbox: the address is proven too.
            email_verification.mark_verified(session, grant.user_id, grant.email)
            audit.record_for_user(
                session,
                grant.user_id,
                AuditAction.PASSWORD_RESET,
                f"email:{grant.email}",
                ip,
                detail=f"by emailed link; {ended} session(s) ended",
            )
            return grant.user_id

    # -- password change -----------------------------------------------------------------
    def change_password(
        self, user_id: int, current: str, new_password: str, keep_token: str, ip: str | None
    ) -> bool:
        """False when `current` is wrong. Ends every other session of the person (in any of
        their accounts)."""
        with transaction(self.read_sessions) as session:
            person = users.get_by_id(session, user_id)
        if person.password_hash is None:
            dummy_verify(current)
            return False
        if not verify_password(person.password_hash, current):
            return False
        password_hash = hash_password(new_password)
        with transaction(self.sessions) as session:
            users.set_password_hash(session, user_id, password_hash)
            one_time_tokens.withdraw_all(session, user_id, TokenPurpose.PASSWORD_RESET)
            ended = session_list.end_sessions(session, user_id, keep_token=keep_token)
            audit.record_for_user(
                session,
                user_id,
                AuditAction.PASSWORD_CHANGED,
                f"dashboard:{person.email}",
                ip,
                detail=f"{ended} other session(s) ended",
            )
        return True

    # -- email verification ----------------------------------------------------------------
    def after_sign_up(self, user_id: int) -> None:
        """With a mailer, the new person must prove their address before creating keys."""
        if self.mailer is None:
            return
        with transaction(self.sessions) as session:
            email = users.get_by_id(session, user_id).email
            email_verification.require_verification(session, user_id, email)
            token = one_time_tokens.issue(
                session,
                user_id,
                email,
                TokenPurpose.EMAIL_VERIFICATION,
                EMAIL_VERIFICATION_LIFETIME,
            )
        self._send_verification(email, token)

    def resend_verification(self, user_id: int) -> bool:
        if self.mailer is None:
            return False
        with transaction(self.sessions) as session:
            email = email_verification.unverified_email(session, user_id)
            if email is None:
                return False
            token = one_time_tokens.issue(
                session,
                user_id,
                email,
                TokenPurpose.EMAIL_VERIFICATION,
                EMAIL_VERIFICATION_LIFETIME,
            )
        self._send_verification(email, token)
        return True

    def _send_verification(self, email: str, token: str) -> None:
        assert self.mailer is not None
        days = EMAIL_VERIFICATION_LIFETIME.days
        self.mailer.send_later(
            email,
            "Confirm your email for bgone",
            "Welcome to bgone. Confirm that this address is yours to create API keys:\n\n"
            f"{self.link('/verify-email', token)}\n\n"
            f"The link works once, for {days} days. If you did not sign up, ignore this "
            "message.\n",
        )

    def verify_email(self, token: str | None) -> bool:
        with transaction(self.sessions) as session:
            grant = one_time_tokens.redeem(session, token, TokenPurpose.EMAIL_VERIFICATION)
            if grant is None:
                return False
            if email_verification.mark_verified(session, grant.user_id, grant.email):
                audit.record_for_user(
                    session,
                    grant.user_id,
                    AuditAction.EMAIL_VERIFIED,
                    f"email:{grant.email}",
                )
            return True

    def unverified_email(self, user_id: int) -> str | None:
        """The person's address still to prove (they may sign in, not create keys)."""
        with transaction(self.read_sessions) as session:
            return email_verification.unverified_email(session, user_id)

    # -- sessions ----------------------------------------------------------------------------
    def overview(self, user_id: int, current_token: str) -> SecurityOverview:
        """The signed-in person's: their address to prove, their sessions."""
        with transaction(self.read_sessions) as session:
            return SecurityOverview(
                mail_enabled=self.mail_enabled,
                unverified_email=email_verification.unverified_email(session, user_id),
                sessions=session_list.list_sessions(session, user_id, current_token),
            )

    def end_session(
        self, user_id: int, session_id: str, ip: str | None, actor: str = "dashboard"
    ) -> bool:
        with transaction(self.sessions) as session:
            ended = session_list.end_session_by_id(session, user_id, session_id)
            if ended:
                audit.record_for_user(
                    session,
                    user_id,
                    AuditAction.SESSIONS_ENDED,
                    actor,
                    ip,
                    detail=f"session {session_id}",
                )
            return ended

    def end_all_sessions(self, user_id: int, ip: str | None, actor: str = "dashboard") -> int:
        with transaction(self.sessions) as session:
            ended = session_list.end_sessions(session, user_id)
            audit.record_for_user(
                session,
                user_id,
                AuditAction.SESSIONS_ENDED,
                actor,
                ip,
                detail=f"signed out everywhere: {ended} session(s)",
            )
            return ended

    def seen(self, cookie_token: str, last_seen_at: datetime | None) -> None:
        """Records that the session was used now, at most every few minutes."""
        now = utc_now()
        if session_list.last_seen_is_stale(last_seen_at, now):
            with transaction(self.sessions) as session:
                session_list.touch(session, cookie_token, now)

    # -- the operator's recovery ---------------------------------------------------------------
    def operator_reset_link(self, email: str) -> str:
        """A reset link for the person with this email (printed, not mailed); raises
        NotFound."""
        with transaction(self.sessions) as session:
            person = users.get_by_email(session, email)
            if person is None:
                raise NotFound(f"no person with the email {email.strip().lower()}")
            token = one_time_tokens.issue(
                session,
                person.id,
                person.email,
                TokenPurpose.PASSWORD_RESET,
                PASSWORD_RESET_LIFETIME,
            )
            audit.record_for_user(
                session,
                person.id,
                AuditAction.PASSWORD_RESET_LINK,
                OPERATOR,
                detail="reset link printed by the operator",
            )
        return self.link("/reset-password", token)

    def operator_set_password(self, email: str, password: str) -> int:
        """Sets the person's password, ends every session of theirs; the number ended.
        Raises NotFound."""
        password_hash = hash_password(password)
        with transaction(self.sessions) as session:
            person = users.get_by_email(session, email)
            if person is None:
                raise NotFound(f"no person with the email {email.strip().lower()}")
            users.set_password_hash(session, person.id, password_hash)
            one_time_tokens.withdraw_all(session, person.id, TokenPurpose.PASSWORD_RESET)
            ended = session_list.end_sessions(session, person.id)
            audit.record_for_user(
                session,
                person.id,
                AuditAction.PASSWORD_RESET,
                OPERATOR,
                detail=f"set by the operator; {ended} session(s) ended",
            )
            return ended
