"""Two-factor sign-in's rules and rows: the TOTP secret, recovery codes, the second step's
challenge, and the account's 'members must use two-factor' policy.

A secret is enrolled in two steps: `start_enrolment` stores it unconfirmed, and a correct
code confirms it (`confirm`). A code counts once: `accept_code` moves the row's
`last_used_step` forward in one conditional UPDATE, so the same code (or an older one) is
refused afterwards, even when two requests race with it. Recovery codes are spent the same
way. The second step's challenge is the half-signed-in state: a random cookie token, kept
here as its hash, valid a few minutes.

Keyed by account: today one account is one person. Once teams land these rows belong to the
person (users.id), and the policy stays the account's, checked for the account a session is
in (bgone.web.viewer), so switching into an account meets that account's policy.
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
    account_id: int
    next_path: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _row(session: Session, account_id: int) -> TwoFactorSecretRow | None:
    return session.get(TwoFactorSecretRow, account_id)


def is_enabled(session: Session, account_id: int) -> bool:
    row = _row(session, account_id)
    return row is not None and row.confirmed_at is not None


def is_required(session: Session, account_id: int) -> bool:
    return bool(
        session.scalar(select(AccountRow.require_two_factor).where(AccountRow.id == account_id))
    )


def must_enrol(session: Session, account_id: int) -> bool:
    """The account requires two-factor and this person has none yet."""
    return is_required(session, account_id) and not is_enabled(session, account_id)


def set_required(session: Session, account_id: int, required: bool) -> bool:
    """True when the policy changed."""
    if is_required(session, account_id) == required:
        return False
    session.execute(
        update(AccountRow).where(AccountRow.id == account_id).values(require_two_factor=required)
    )
    return True


def state(session: Session, account_id: int) -> TwoFactorState:
    row = _row(session, account_id)
    left = session.scalar(
        select(func.count())
        .select_from(RecoveryCodeRow)
        .where(RecoveryCodeRow.account_id == account_id, RecoveryCodeRow.used_at.is_(None))
    )
    return TwoFactorState(
        enabled=row is not None and row.confirmed_at is not None,
        pending_secret=row.secret if row is not None and row.confirmed_at is None else None,
        recovery_codes_left=int(left or 0),
        required=is_required(session, account_id),
    )


def start_enrolment(session: Session, account_id: int, now: datetime | None = None) -> str:
    """A new unconfirmed secret (replacing an unconfirmed one); an enabled one stays."""
    row = _row(session, account_id)
    if row is not None and row.confirmed_at is not None:
        return row.secret
    secret = totp.new_secret()
    if row is None:
        session.add(
            TwoFactorSecretRow(account_id=account_id, secret=secret, created_at=now_or_default(now))
        )
    else:
        row.secret, row.created_at, row.last_used_step = secret, now_or_default(now), None
    session.flush()
    return secret


def accept_code(
    session: Session,
    account_id: int,
    code: str,
    now: datetime | None = None,
    confirmed: bool = True,
) -> bool:
    """True for a code of the (confirmed, or with `confirmed=False` pending) secret not used
    before: its step becomes the last used, in a single conditional UPDATE."""
    row = _row(session, account_id)
    if row is None or (row.confirmed_at is not None) != confirmed:
        return False
    step = totp.matching_step(row.secret, code, now_or_default(now))
    if step is None:
        return False
    result = session.execute(
        update(TwoFactorSecretRow)
        .where(
            TwoFactorSecretRow.account_id == account_id,
            (TwoFactorSecretRow.last_used_step.is_(None))
            | (TwoFactorSecretRow.last_used_step < step),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    session.expire(row)
    return bool(getattr(result, "rowcount", 0) == 1)


def confirm(session: Session, account_id: int, code: str, now: datetime | None = None) -> bool:
    """Confirms the pending secret with a code of it; False for a wrong code."""
    moment = now_or_default(now)
    if not accept_code(session, account_id, code, moment, confirmed=False):
        return False
    session.execute(
        update(TwoFactorSecretRow)
        .where(TwoFactorSecretRow.account_id == account_id)
        .values(confirmed_at=moment)
    )
    return True


def replace_recovery_codes(
    session: Session, account_id: int, now: datetime | None = None
) -> list[str]:
    """New codes, shown once; the old ones stop working."""
    session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.account_id == account_id))
    codes = totp.new_recovery_codes()
    moment = now_or_default(now)
    for code in codes:
        session.add(
            RecoveryCodeRow(
                account_id=account_id, code_hash=totp.recovery_code_hash(code), created_at=moment
            )
        )
    session.flush()
    return codes


def use_recovery_code(
    session: Session, account_id: int, code: str, now: datetime | None = None
) -> bool:
    """Spends an unused recovery code of the account; False for anything else."""
    if not is_enabled(session, account_id) or not totp.normalize_code(code):
        return False
    result = session.execute(
        update(RecoveryCodeRow)
        .where(
            RecoveryCodeRow.account_id == account_id,
            RecoveryCodeRow.code_hash == totp.recovery_code_hash(code),
            RecoveryCodeRow.used_at.is_(None),
        )
        .values(used_at=now_or_default(now))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def remove(session: Session, account_id: int) -> bool:
    """Turns two-factor off: the secret, the recovery codes and pending challenges go.
    True when there was a secret (confirmed or pending)."""
    session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.account_id == account_id))
    session.execute(
        delete(TwoFactorChallengeRow).where(TwoFactorChallengeRow.account_id == account_id)
    )
    result = session.execute(
        delete(TwoFactorSecretRow).where(TwoFactorSecretRow.account_id == account_id)
    )
    return bool(getattr(result, "rowcount", 0))


# -- the second step's challenge ----------------------------------------------------------
def start_challenge(
    session: Session, account_id: int, next_path: str, now: datetime | None = None
) -> str:
    """The cookie token of a new challenge; expired ones of the account are swept."""
    moment = now_or_default(now)
    session.execute(
        delete(TwoFactorChallengeRow).where(
            TwoFactorChallengeRow.account_id == account_id,
            TwoFactorChallengeRow.expires_at <= moment,
        )
    )
    token = secrets.token_urlsafe(CHALLENGE_TOKEN_BYTES)
    session.add(
        TwoFactorChallengeRow(
            token_hash=_token_hash(token),
            account_id=account_id,
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
    return Challenge(row.account_id, row.next_path)


def end_challenge(session: Session, token: str | None) -> None:
    if token:
        session.execute(
            delete(TwoFactorChallengeRow).where(
                TwoFactorChallengeRow.token_hash == _token_hash(token)
            )
        )
