"""Two-factor sign-in's use cases: enrolment, the second step after the password, turning it
off, the account's policy, and an owner's (or the operator's) reset; each in one transaction
with its audit event.

The second factor is the person's (users.id), the same in every account they are in; their
own changes to it are audited in each of those accounts. The policy is the account's.

Code attempts are throttled like passwords (bgone.services.login): counted per person and per
client address before the code is checked, and refunded when it was right, so a burst of
parallel guesses cannot all pass the check before any is counted. Blocking (the database):
async callers run these methods in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import audit, members, two_factor, users
from bgone.domain.audit import AuditAction
from bgone.domain.two_factor import Challenge, TwoFactorState
from bgone.errors import NotFound
from bgone.infra.ratelimit import RateLimiter
from bgone.security import totp
from bgone.security.passwords import dummy_verify, verify_password

CODE_FAILURES_PER_MINUTE = 5
OPERATOR = "operator (cli)"


class CodeOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"
    EXPIRED = "expired"  # the second step's challenge is unknown or has expired
    REQUIRED = "required"  # the account's policy forbids turning it off


@dataclass(frozen=True)
class StepResult:
    outcome: CodeOutcome
    user_id: int | None = None
    next_path: str = "/account"
    recovery_code_used: bool = False


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str  # otpauth://, for the QR code


@dataclass(frozen=True)
class Confirmation:
    outcome: CodeOutcome
    recovery_codes: list[str] = field(default_factory=list)


def code_buckets(user_id: int, ip: str | None) -> list[str]:
    return [f"2fa:user:{user_id}", f"2fa:ip:{ip or 'unknown'}"]


class TwoFactorService:
    def __init__(
        self, sessions: SessionFactory, read_sessions: SessionFactory, limiter: RateLimiter
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.limiter = limiter

    # -- throttling ------------------------------------------------------------------------
    def _count(self, user_id: int, ip: str | None) -> list[str] | None:
        """Counts one attempt in every bucket; None (nothing left counted) when throttled."""
        counted: list[str] = []
        for bucket in code_buckets(user_id, ip):
            if not self.limiter.hit(bucket, CODE_FAILURES_PER_MINUTE).allowed:
                self._refund(counted)
                return None
            counted.append(bucket)
        return counted

    def _refund(self, buckets: list[str]) -> None:
        for bucket in buckets:
            self.limiter.refund(bucket, CODE_FAILURES_PER_MINUTE)

    # -- reading -----------------------------------------------------------------------------
    def state(self, user_id: int, account_id: int) -> TwoFactorState:
        """The person's second factor and the policy of the account they are in."""
        with transaction(self.read_sessions) as session:
            return two_factor.state(session, user_id, account_id)

    def must_enrol(self, user_id: int, account_id: int) -> bool:
        with transaction(self.read_sessions) as session:
            return two_factor.must_enrol(session, user_id, account_id)

    # -- enrolment ---------------------------------------------------------------------------
    def start_enrolment(self, user_id: int) -> Enrolment:
        with transaction(self.sessions) as session:
            email = users.get_by_id(session, user_id).email
            secret = two_factor.start_enrolment(session, user_id)
        return Enrolment(secret, totp.provisioning_uri(secret, email))

    def pending_enrolment(self, user_id: int) -> Enrolment | None:
        with transaction(self.read_sessions) as session:
            row = two_factor.pending_secret(session, user_id)
            email = users.get_by_id(session, user_id).email
        if row is None:
            return None
        return Enrolment(row, totp.provisioning_uri(row, email))

    def confirm(self, user_id: int, code: str, ip: str | None, actor: str) -> Confirmation:
        """Turns two-factor on with a code of the pending secret; the recovery codes, once."""
        counted = self._count(user_id, ip)
        if counted is None:
            return Confirmation(CodeOutcome.THROTTLED)
        with transaction(self.sessions) as session:
            if not two_factor.confirm(session, user_id, code):
                return Confirmation(CodeOutcome.WRONG)
            codes = two_factor.replace_recovery_codes(session, user_id)
            audit.record_for_user(
                session,
                user_id,
                AuditAction.TWO_FACTOR_ENABLED,
                actor,
                ip,
                detail=f"authenticator app; {len(codes)} recovery codes",
            )
        self._refund(counted)
        return Confirmation(CodeOutcome.OK, codes)

    def new_recovery_codes(self, user_id: int, ip: str | None, actor: str) -> list[str]:
        with transaction(self.sessions) as session:
            if not two_factor.is_enabled(session, user_id):
                return []
            codes = two_factor.replace_recovery_codes(session, user_id)
            audit.record_for_user(
                session,
                user_id,
                AuditAction.TWO_FACTOR_ENABLED,
                actor,
                ip,
                detail="new recovery codes; the old ones no longer work",
            )
        return codes

    def disable(self, user_id: int, proof: str, ip: str | None, actor: str) -> CodeOutcome:
        """Turns two-factor off, given a current code, a recovery code or the password; not
        while one of the person's accounts requires it."""
        with transaction(self.read_sessions) as session:
            if two_factor.required_by_any(session, user_id):
                return CodeOutcome.REQUIRED
            password_hash = users.get_by_id(session, user_id).password_hash
        counted = self._count(user_id, ip)
        if counted is None:
            return CodeOutcome.THROTTLED
        with transaction(self.sessions) as session:
            proven = two_factor.accept_code(session, user_id, proof) or (
                two_factor.use_recovery_code(session, user_id, proof)
            )
            if not proven and not totp.looks_like_totp(proof):
                if password_hash is None:
                    dummy_verify(proof)
                else:
                    proven = verify_password(password_hash, proof)
            if not proven:
                return CodeOutcome.WRONG
            two_factor.remove(session, user_id)
            audit.record_for_user(session, user_id, AuditAction.TWO_FACTOR_DISABLED, actor, ip)
        self._refund(counted)
        return CodeOutcome.OK

    # -- the policy ----------------------------------------------------------------------------
    def set_required(
        self, account_id: int, user_id: int, required: bool, ip: str | None, actor: str
    ) -> bool:
        """The account's policy, set by `user_id` (an owner: the route checks the role);
        False when turning it on while they have no two-factor yet."""
        with transaction(self.sessions) as session:
            if required and not two_factor.is_enabled(session, user_id):
                return False
            if two_factor.set_required(session, account_id, required):
                audit.record(
                    session,
                    account_id,
                    AuditAction.TWO_FACTOR_POLICY,
                    actor,
                    ip,
                    detail="members must use two-factor" if required else "two-factor optional",
                )
        return True

    # -- the second step of signing in ---------------------------------------------------------
    def begin(self, user_id: int, next_path: str) -> str | None:
        """After a right password: the challenge's cookie token, or None when the person has
        no two-factor (the session starts at once)."""
        with transaction(self.sessions) as session:
            if not two_factor.is_enabled(session, user_id):
                return None
            return two_factor.start_challenge(session, user_id, next_path)

    def challenge(self, token: str | None) -> Challenge | None:
        with transaction(self.read_sessions) as session:
            return two_factor.find_challenge(session, token)

    def verify(self, token: str | None, code: str, ip: str | None) -> StepResult:
        """The second step: a TOTP code or a recovery code. On success the challenge ends
        (the caller starts the session of `user_id`)."""
        found = self.challenge(token)
        if found is None:
            return StepResult(CodeOutcome.EXPIRED)
        counted = self._count(found.user_id, ip)
        if counted is None:
            return StepResult(CodeOutcome.THROTTLED)
        recovery = False
        with transaction(self.sessions) as session:
            ok = two_factor.accept_code(session, found.user_id, code)
            if not ok and not totp.looks_like_totp(code):
                ok = recovery = two_factor.use_recovery_code(session, found.user_id, code)
                if recovery:
                    left = two_factor.recovery_codes_left(session, found.user_id)
                    audit.record_for_user(
                        session,
                        found.user_id,
                        AuditAction.RECOVERY_CODE_USED,
                        f"account:{users.get_by_id(session, found.user_id).email}",
                        ip,
                        detail=f"signed in with a recovery code; {left} left",
                    )
            if not ok:
                return StepResult(CodeOutcome.WRONG)
            two_factor.end_challenge(session, token)
        self._refund(counted)
        return StepResult(CodeOutcome.OK, found.user_id, found.next_path, recovery)

    def cancel(self, token: str | None) -> None:
        with transaction(self.sessions) as session:
            two_factor.end_challenge(session, token)

    # -- resets ----------------------------------------------------------------------------------
    def reset(self, account_id: int, target_email: str, actor: str, ip: str | None = None) -> bool:
        """An owner takes a member's second factor away (they enrol again, at their next
        sign-in where an account requires it); the caller checks the owner's role
        (Permission.RESET_MEMBER_TWO_FACTOR). Raises NotFound when the target is not a member
        of the account; False when they had none."""
        with transaction(self.sessions) as session:
            target = users.get_by_email(session, target_email)
            if target is None or members.role_of(session, account_id, target.id) is None:
                raise NotFound(f"no member {target_email.strip().lower()} in this account")
            removed = two_factor.remove(session, target.id)
            audit.record(
                session,
                account_id,
                AuditAction.TWO_FACTOR_RESET,
                actor,
                ip,
                detail=f"second factor of {target.email} "
                + ("removed" if removed else "reset (there was none)"),
            )
            return removed

    def operator_reset(self, email: str) -> bool:
        """`bgone accounts reset-2fa EMAIL`: the operator's recovery for a person who lost
        their phone and their recovery codes; audited in each of their accounts. Raises
        NotFound."""
        with transaction(self.sessions) as session:
            target = users.get_by_email(session, email)
            if target is None:
                raise NotFound(f"no person with the email {email.strip().lower()}")
            removed = two_factor.remove(session, target.id)
            audit.record_for_user(
                session,
                target.id,
                AuditAction.TWO_FACTOR_RESET,
                OPERATOR,
                detail=f"second factor of {target.email} "
                + ("removed" if removed else "reset (there was none)"),
            )
            return removed
