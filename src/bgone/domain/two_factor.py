"""Two-factor sign-in's rules and rows: the TOTP secret, recovery codes, the second step's
challenge, and the account's 'members must use two-factor' policy.

A secret is enrolled in two steps: `start_enrolment` stores it unconfirmed, and a correct
code confirms it (`confirm`). A code counts once: `accept_code` moves the row's
`last_used_step` forward in one conditional UPDATE, so the same code (or an older one) is
refused afterwards, even when two requests race with it. Recovery codes are spent the same
way. The second step's challenge is the half-signed-in state: a random cookie token, kept
here as its hash, valid a few minutes.

The secret, the recovery codes and the challenge belong to the person (users.id): one second
factor for every account they are in. The policy is the account's, checked for the account a
session is in (bgone.web.viewer), so switching into an account meets that account's policy.
The TOTP secret is stored as is: there is no encryption key setting yet (BGONE_SECRET_KEY is
an HMAC key, rotated with a ring; encrypting under it would tie 2FA to its rotation).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bgone.db.tables import (
    AccountRow,
    MembershipRow,
    RecoveryCodeRow,
    TwoFactorChallengeRow,
    TwoFactorSecretRow,
)
from bgone.domain.clock import now_or_default
from bgone.security import totp

CHALLENGE_LIFETIME = timedelta(minutes=5)
CHALLENGE_TOKEN_BYTES = 32
NEXT_PATH_LENGTH = 255


@dataclass(frozen=True)
class TwoFactorState:
    enabled: bool  # a confirmed secret
    pending_secret: str | None  # enrolment started, not yet confirmed
    recovery_codes_left: int
    required: bool  # the account's policy


@dataclass(frozen=True)
class Challenge:
    user_id: int
    next_path: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _row(session: Session, user_id: int) -> TwoFactorSecretRow | None:
    return session.get(TwoFactorSecretRow, user_id)


def is_enabled(session: Session, user_id: int) -> bool:
    row = _row(session, user_id)
    return row is not None and row.confirmed_at is not None


def is_required(session: Session, account_id: int) -> bool:
    """The account's policy: its members must use two-factor."""
    return bool(
        session.scalar(select(AccountRow.require_two_factor).where(AccountRow.id == account_id))
    )


def required_by_any(session: Session, user_id: int) -> bool:
    """One of the person's accounts requires two-factor (so they may not turn it off)."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(MembershipRow)
            .join(AccountRow, AccountRow.id == MembershipRow.account_id)
            .where(MembershipRow.user_id == user_id, AccountRow.require_two_factor.is_(True))
        )
    )


def must_enrol(session: Session, user_id: int, account_id: int) -> bool:
    """The account requires two-factor and this person has none yet."""
    return is_required(session, account_id) and not is_enabled(session, user_id)


def set_required(session: Session, account_id: int, required: bool) -> bool:
    """True when the policy changed."""
    if is_required(session, account_id) == required:
        return False
    session.execute(
        update(AccountRow).where(AccountRow.id == account_id).values(require_two_factor=required)
    )
    return True


def state(session: Session, user_id: int, account_id: int) -> TwoFactorState:
    """The person's second factor, and the policy of the account they are in."""
    row = _row(session, user_id)
    left = session.scalar(
        select(func.count())
        .select_from(RecoveryCodeRow)
        .where(RecoveryCodeRow.user_id == user_id, RecoveryCodeRow.used_at.is_(None))
    )
    return TwoFactorState(
        enabled=row is not None and row.confirmed_at is not None,
        pending_secret=row.secret if row is not None and row.confirmed_at is None else None,
        recovery_codes_left=int(left or 0),
        required=is_required(session, account_id),
    )


def pending_secret(session: Session, user_id: int) -> str | None:
    row = _row(session, user_id)
    return row.secret if row is not None and row.confirmed_at is None else None


def recovery_codes_left(session: Session, user_id: int) -> int:
    left = session.scalar(
        select(func.count())
        .select_from(RecoveryCodeRow)
        .where(RecoveryCodeRow.user_id == user_id, RecoveryCodeRow.used_at.is_(None))
    )
    return int(left or 0)


def start_enrolment(session: Session, user_id: int, now: datetime | None = None) -> str:
    """A new unconfirmed secret (replacing an unconfirmed one); an enabled one stays."""
    row = _row(session, user_id)
    if row is not None and row.confirmed_at is not None:
        return row.secret
    secret = totp.new_secret()
    if row is None:
        session.add(
            TwoFactorSecretRow(user_id=user_id, secret=secret, created_at=now_or_default(now))
        )
    else:
        row.secret, row.created_at, row.last_used_step = secret, now_or_default(now), None
    session.flush()
    return secret


def accept_code(
    session: Session,
    user_id: int,
    code: str,
    now: datetime | None = None,
    confirmed: bool = True,
) -> bool:
    """True for a code of the (confirmed, or with `confirmed=False` pending) secret not used
    before: its step becomes the last used, in a single conditional UPDATE."""
    row = _row(session, user_id)
    if row is None or (row.confirmed_at is not None) != confirmed:
        return False
    step = totp.matching_step(row.secret, code, now_or_default(now))
    if step is None:
        return False
    result = session.execute(
        update(TwoFactorSecretRow)
        .where(
            TwoFactorSecretRow.user_id == user_id,
            (TwoFactorSecretRow.last_used_step.is_(None))
            | (TwoFactorSecretRow.last_used_step < step),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    session.expire(row)
    return bool(getattr(result, "rowcount", 0) == 1)


def confirm(session: Session, user_id: int, code: str, now: datetime | None = None) -> bool:
    """Confirms the pending secret with a code of it; False for a wrong code."""
    moment = now_or_default(now)
    if not accept_code(session, user_id, code, moment, confirmed=False):
        return False
    session.execute(
        update(TwoFactorSecretRow)
        .where(TwoFactorSecretRow.user_id == user_id)
        .values(confirmed_at=moment)
    )
    return True


def replace_recovery_codes(
    session: Session, user_id: int, now: datetime | None = None
) -> list[str]:
    """New codes, shown once; the old ones stop working."""
    session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))
    codes = totp.new_recovery_codes()
    moment = now_or_default(now)
    for code in codes:
        session.add(
            RecoveryCodeRow(
                user_id=user_id, code_hash=totp.recovery_code_hash(code), created_at=moment
            )
        )
    session.flush()
    return codes


def use_recovery_code(
    session: Session, user_id: int, code: str, now: datetime | None = None
) -> bool:
    """Spends an unused recovery code of the person; False for anything else."""
    if not is_enabled(session, user_id) or not totp.normalize_code(code):
        return False
    result = session.execute(
        update(RecoveryCodeRow)
        .where(
            RecoveryCodeRow.user_id == user_id,
            RecoveryCodeRow.code_hash == totp.recovery_code_hash(code),
            RecoveryCodeRow.used_at.is_(None),
        )
        .values(used_at=now_or_default(now))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def remove(session: Session, user_id: int) -> bool:
    """Turns two-factor off: the secret, the recovery codes and pending challenges go.
    True when there was a secret (confirmed or pending)."""
    session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))
    session.execute(delete(TwoFactorChallengeRow).where(TwoFactorChallengeRow.user_id == user_id))
    result = session.execute(
        delete(TwoFactorSecretRow).where(TwoFactorSecretRow.user_id == user_id)
    )
    return bool(getattr(result, "rowcount", 0))


# -- the second step's challenge ----------------------------------------------------------
def start_challenge(
    session: Session, user_id: int, next_path: str, now: datetime | None = None
) -> str:
    """The cookie token of a new challenge; expired ones of the person are swept."""
    moment = now_or_default(now)
    session.execute(
        delete(TwoFactorChallengeRow).where(
            TwoFactorChallengeRow.user_id == user_id,
            TwoFactorChallengeRow.expires_at <= moment,
        )
    )
    token = secrets.token_urlsafe(CHALLENGE_TOKEN_BYTES)
    session.add(
        TwoFactorChallengeRow(
            token_hash=_token_hash(token),
            user_id=user_id,
            next_path=next_path[:NEXT_PATH_LENGTH],
            created_at=moment,
            expires_at=moment + CHALLENGE_LIFETIME,
        )
    )
    session.flush()
    return token


def find_challenge(
    session: Session, token: str | None, now: datetime | None = None
) -> Challenge | None:
    if not token or len(token) > 200:
        return None
    row = session.get(TwoFactorChallengeRow, _token_hash(token))
    if row is None or row.expires_at <= now_or_default(now):
        return None
    return Challenge(row.user_id, row.next_path)


def end_challenge(session: Session, token: str | None) -> None:
    if token:
        session.execute(
            delete(TwoFactorChallengeRow).where(
                TwoFactorChallengeRow.token_hash == _token_hash(token)
            )
        )
