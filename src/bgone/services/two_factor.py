"""Two-factor sign-in's use cases: enrolment, the second step after the password, turning it
off, the account's policy, and an owner's (or the operator's) reset; each in one transaction
with its audit event.

Code attempts are throttled like passwords (bgone.services.login): counted per person and per
client address before the code is checked, and refunded when it was right, so a burst of
parallel guesses cannot all pass the check before any is counted. Blocking (the database):
async callers run these methods in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import accounts, audit, two_factor
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
    account_id: int | None = None
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


def code_buckets(account_id: int, ip: str | None) -> list[str]:
    return [f"2fa:account:{account_id}", f"2fa:ip:{ip or 'unknown'}"]


class TwoFactorService:
    def __init__(
        self, sessions: SessionFactory, read_sessions: SessionFactory, limiter: RateLimiter
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.limiter = limiter

    # -- throttling ------------------------------------------------------------------------
    def _count(self, account_id: int, ip: str | None) -> list[str] | None:
        """Counts one attempt in every bucket; None (nothing left counted) when throttled."""
        counted: list[str] = []
        for bucket in code_buckets(account_id, ip):
            if not self.limiter.hit(bucket, CODE_FAILURES_PER_MINUTE).allowed:
                self._refund(counted)
                return None
            counted.append(bucket)
        return counted

    def _refund(self, buckets: list[str]) -> None:
        for bucket in buckets:
            self.limiter.refund(bucket, CODE_FAILURES_PER_MINUTE)

    # -- reading -----------------------------------------------------------------------------
    def state(self, account_id: int) -> TwoFactorState:
        with transaction(self.read_sessions) as session:
            return two_factor.state(session, account_id)

    def must_enrol(self, account_id: int) -> bool:
        with transaction(self.read_sessions) as session:
            return two_factor.must_enrol(session, account_id)

    # -- enrolment ---------------------------------------------------------------------------
    def start_enrolment(self, account_id: int) -> Enrolment:
        with transaction(self.sessions) as session:
            email = accounts.get_by_id(session, account_id).email
            secret = two_factor.start_enrolment(session, account_id)
        return Enrolment(secret, totp.provisioning_uri(secret, email))

    def pending_enrolment(self, account_id: int) -> Enrolment | None:
        with transaction(self.read_sessions) as session:
            pending = two_factor.state(session, account_id).pending_secret
            email = accounts.get_by_id(session, account_id).email
        if pending is None:
            return None
        return Enrolment(pending, totp.provisioning_uri(pending, email))

    def confirm(self, account_id: int, code: str, ip: str | None, actor: str) -> Confirmation:
        """Turns two-factor on with a code of the pending secret; the recovery codes, once."""
        counted = self._count(account_id, ip)
        if counted is None:
            return Confirmation(CodeOutcome.THROTTLED)
        with transaction(self.sessions) as session:
            if not two_factor.confirm(session, account_id, code):
                return Confirmation(CodeOutcome.WRONG)
            codes = two_factor.replace_recovery_codes(session, account_id)
            audit.record(
                session,
                account_id,
                AuditAction.TWO_FACTOR_ENABLED,
                actor,
                ip,
                detail=f"authenticator app; {len(codes)} recovery codes",
            )
        self._refund(counted)
        return Confirmation(CodeOutcome.OK, codes)

    def new_recovery_codes(self, account_id: int, ip: str | None, actor: str) -> list[str]:
        with transaction(self.sessions) as session:
            if not two_factor.is_enabled(session, account_id):
                return []
            codes = two_factor.replace_recovery_codes(session, account_id)
            audit.record(
                session,
                account_id,
                AuditAction.TWO_FACTOR_ENABLED,
                actor,
                ip,
                detail="new recovery codes; the old ones no longer work",
            )
        return codes

    def disable(self, account_id: int, proof: str, ip: str | None, actor: str) -> CodeOutcome:
        """Turns two-factor off, given a current code, a recovery code or the password."""
        with transaction(self.read_sessions) as session:
            if two_factor.is_required(session, account_id):
                return CodeOutcome.REQUIRED
            password_hash = accounts.get_by_id(session, account_id).password_hash
        counted = self._count(account_id, ip)
        if counted is None:
            return CodeOutcome.THROTTLED
        with transaction(self.sessions) as session:
            proven = two_factor.accept_code(session, account_id, proof) or (
                two_factor.use_recovery_code(session, account_id, proof)
            )
            if not proven and not totp.looks_like_totp(proof):
                if password_hash is None:
                    dummy_verify(proof)
                else:
                    proven = verify_password(password_hash, proof)
            if not proven:
                return CodeOutcome.WRONG
            two_factor.remove(session, account_id)
            audit.record(session, account_id, AuditAction.TWO_FACTOR_DISABLED, actor, ip)
        self._refund(counted)
        return CodeOutcome.OK

    # -- the policy ----------------------------------------------------------------------------
    def set_required(self, account_id: int, required: bool, ip: str | None, actor: str) -> bool:
        """False when turning it on while the one changing it has no two-factor yet."""
        with transaction(self.sessions) as session:
            if required and not two_factor.is_enabled(session, account_id):
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
    def begin(self, account_id: int, next_path: str) -> str | None:
        """After a right password: the challenge's cookie token, or None when the person has
        no two-factor (the session starts at once)."""
        with transaction(self.sessions) as session:
            if not two_factor.is_enabled(session, account_id):
                return None
            return two_factor.start_challenge(session, account_id, next_path)

    def challenge(self, token: str | None) -> Challenge | None:
        with transaction(self.read_sessions) as session:
            return two_factor.find_challenge(session, token)

    def verify(self, token: str | None, code: str, ip: str | None) -> StepResult:
        """The second step: a TOTP code or a recovery code. On success the challenge ends
        (the caller starts the session)."""
        found = self.challenge(token)
        if found is None:
            return StepResult(CodeOutcome.EXPIRED)
        counted = self._count(found.account_id, ip)
        if counted is None:
            return StepResult(CodeOutcome.THROTTLED)
        recovery = False
        with transaction(self.sessions) as session:
            ok = two_factor.accept_code(session, found.account_id, code)
            if not ok and not totp.looks_like_totp(code):
                ok = recovery = two_factor.use_recovery_code(session, found.account_id, code)
                if recovery:
                    left = two_factor.state(session, found.account_id).recovery_codes_left
                    audit.record(
                        session,
                        found.account_id,
                        AuditAction.RECOVERY_CODE_USED,
                        f"account:{accounts.get_by_id(session, found.account_id).email}",
                        ip,
                        detail=f"signed in with a recovery code; {left} left",
                    )
            if not ok:
                return StepResult(CodeOutcome.WRONG)
            two_factor.end_challenge(session, token)
        self._refund(counted)
        return StepResult(CodeOutcome.OK, found.account_id, found.next_path, recovery)

    def cancel(self, token: str | None) -> None:
        with transaction(self.sessions) as session:
            two_factor.end_challenge(session, token)

    # -- resets ----------------------------------------------------------------------------------
    def reset(self, account_id: int, target_email: str, actor: str, ip: str | None = None) -> bool:
        """An owner takes a member's second factor away (they enrol again, at their next
        sign-in when the account requires it). Raises NotFound when the target is not of the
        account; False when they had none."""
        with transaction(self.sessions) as session:
            target = accounts.get_by_email(session, target_email)
            # Once roles land: the target is a member of `account_id`, and the actor an owner.
            if target is None or target.id != account_id:
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
        """`bgone accounts reset-2fa EMAIL`: the operator's recovery for an owner who lost
        their phone and their recovery codes. Raises NotFound."""
        with transaction(self.read_sessions) as session:
            account = accounts.get_by_email(session, email)
        if account is None:
            raise NotFound(f"no account for {email.strip().lower()}")
        return self.reset(account.id, account.email, OPERATOR)
