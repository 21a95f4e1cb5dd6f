"""Idempotency keys: an account's key, the request it first came with, and that request's answer.

One row per (account, key), in one of three states:

- `running`: a request holds the key; another request with it is told to wait (409);
- `answered`: the answer is kept, and a request with the key and the same fingerprint gets it
  again instead of running (and being charged) a second time;
- `too_large`: the request was answered, but its answer exceeded the size cap, so it was not
  kept; a retry is told so (409) rather than run again, which would charge it twice.

A key with another fingerprint is refused (422), whatever its state: Stripe's semantics. A row
lives `KEEP` from its first request; after that the key is free again. A `running` row whose
request has not finished in `ABANDONED_AFTER` belonged to a process that died: it is freed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bgone.db.tables import IdempotencyKeyRow
from bgone.errors import IdempotencyAnswerTooLarge, IdempotencyKeyInUse, IdempotencyKeyReused

KEEP = timedelta(hours=24)
# Longer than any request can take (downloads, queueing and the model all have deadlines
# well under this), so that only a request whose process died is ever taken for abandoned.
ABANDONED_AFTER = timedelta(minutes=10)
# A duplicate that finds the key running is told to come back after this many seconds.
RETRY_IN_USE_AFTER = 1


class State(StrEnum):
    RUNNING = "running"
    ANSWERED = "answered"
    TOO_LARGE = "too_large"


@dataclass(frozen=True)
class KeyScope:
    """Where a key is unique: each account has its own keys."""

    account_id: int
    key_hash: str  # sha256 of the key as sent: any length the front end allows fits

    @classmethod
    def of(cls, account_id: int, key: str) -> KeyScope:
        return cls(account_id, hashlib.sha256(key.encode()).hexdigest())


@dataclass(frozen=True)
class StoredAnswer:
    """An answer as kept: its status, the headers a replay repeats, its body's bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """The key is this request's to run: `token` proves it when the answer is stored."""

    scope: KeyScope
    token: str


def begin(
    session: Session, scope: KeyScope, fingerprint: str, now: datetime
) -> Claim | StoredAnswer:
    """Claim the key for a new request, or return the answer kept for it.

    Raises `IdempotencyKeyReused` (another fingerprint), `IdempotencyKeyInUse` (still
    running) or `IdempotencyAnswerTooLarge` (answered, not kept).
    """
    _free_if_stale(session, scope, now)
    token = secrets.token_hex(16)
    try:
        with session.begin_nested():
            session.add(
                IdempotencyKeyRow(
                    account_id=scope.account_id,
                    key_hash=scope.key_hash,
                    fingerprint=fingerprint,
                    state=State.RUNNING.value,
                    owner=token,
                    started_at=now,
                    expires_at=now + KEEP,
                )
            )
    except IntegrityError:
        return _existing(session, scope, fingerprint)
    return Claim(scope, token)


def _free_if_stale(session: Session, scope: KeyScope, now: datetime) -> None:
    """Delete the key's row if it expired, or if its request was abandoned."""
    session.execute(
        delete(IdempotencyKeyRow).where(
            IdempotencyKeyRow.account_id == scope.account_id,
            IdempotencyKeyRow.key_hash == scope.key_hash,
            (IdempotencyKeyRow.expires_at <= now)
            | (
                (IdempotencyKeyRow.state == State.RUNNING.value)
                & (IdempotencyKeyRow.started_at <= now - ABANDONED_AFTER)
            ),
        )
    )


def _existing(session: Session, scope: KeyScope, fingerprint: str) -> StoredAnswer:
    row = session.execute(
        select(IdempotencyKeyRow).where(
            IdempotencyKeyRow.account_id == scope.account_id,
            IdempotencyKeyRow.key_hash == scope.key_hash,
        )
    ).scalar_one_or_none()
    if row is None:  # freed between our insert and this read: the holder is just finishing
        raise IdempotencyKeyInUse(_IN_USE, RETRY_IN_USE_AFTER)
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was first sent with another request (other fields, files "
            "or endpoint). Send a new key for a new request."
        )
    if row.state == State.RUNNING.value:
        raise IdempotencyKeyInUse(_IN_USE, RETRY_IN_USE_AFTER)
    if row.state == State.TOO_LARGE.value or row.status is None or row.body is None:
        raise IdempotencyAnswerTooLarge(
            "The request with this Idempotency-Key was answered, but its answer was larger "
            "than the server keeps, so it cannot be sent again; it is not run twice."
        )
    headers = tuple((str(name), str(value)) for name, value in json.loads(row.headers or "[]"))
    return StoredAnswer(row.status, headers, row.body)


_IN_USE = (
    "A request with this Idempotency-Key is still running; retry after it has finished to "
    "get its answer."
)


def complete(session: Session, claim: Claim, answer: StoredAnswer | None) -> bool:
    """Keep the claimed request's answer (None: it was too large to keep). False when the
    claim was lost (taken for abandoned): nothing is written then."""
    values: dict[str, object] = {"state": State.TOO_LARGE.value}
    if answer is not None:
        values = {
            "state": State.ANSWERED.value,
            "status": answer.status,
            "headers": json.dumps([list(pair) for pair in answer.headers]),
            "body": answer.body,
        }
    result = session.execute(
        update(IdempotencyKeyRow).where(*_owned(claim)).values(**values),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))


def release(session: Session, claim: Claim) -> None:
    """Free the key: the claimed request ended without an answer worth keeping (a 429, a
    503, a crash), so the next request with the key runs afresh."""
    session.execute(
        delete(IdempotencyKeyRow).where(*_owned(claim)),
        execution_options={"synchronize_session": False},
    )


def _owned(claim: Claim) -> tuple[ColumnElement[bool], ...]:
    return (
        IdempotencyKeyRow.account_id == claim.scope.account_id,
        IdempotencyKeyRow.key_hash == claim.scope.key_hash,
        IdempotencyKeyRow.owner == claim.token,
        IdempotencyKeyRow.state == State.RUNNING.value,
    )


def purge_expired(session: Session, now: datetime) -> int:
    """Delete every expired row (their keys are free anyway); returns how many."""
    result = session.execute(
        delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at <= now),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0))
