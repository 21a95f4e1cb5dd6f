"""Pay-as-you-go credits: a balance per account that never expires or resets monthly.

The balance (`accounts.payg_milli`) is what is left to spend; every credit put into it has a
row in `credit_grants` (the operator's grants, and the trial of `BGONE_TRIAL_CREDITS`, which
a unique index lets happen once per account). Reservations (bgone.domain.credits) take what
the month's credits cannot cover from here with one conditional UPDATE, so that concurrent
requests never overdraw it, and give back what they did not spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bgone.db.tables import AccountRow, CreditGrantRow
from bgone.domain.clock import now_or_default
from bgone.errors import InvalidLimit, NotFound


class GrantKind(StrEnum):
    GRANT = "grant"
    TRIAL = "trial"


@dataclass(frozen=True)
class Grant:
    id: int
    account_id: int
    at: datetime
    kind: GrantKind
    milli: int
    actor: str
    reason: str


def payg_balance(session: Session, account_id: int) -> int:
    balance = session.scalar(select(AccountRow.payg_milli).where(AccountRow.id == account_id))
    if balance is None:
        raise NotFound(f"no account with id {account_id}")
    return balance


def grant(
    session: Session,
    account_id: int,
    milli: int,
    actor: str,
    reason: str = "",
    now: datetime | None = None,
) -> int:
    """Add `milli` pay-as-you-go credits; the new balance."""
    if milli <= 0:
        raise InvalidLimit(f"a grant must be more than zero credits, got {milli / 1000:g}")
    _add_grant(session, account_id, GrantKind.GRANT, milli, actor, reason, now)
    return payg_balance(session, account_id)


def grant_trial(session: Session, account_id: int, milli: int, now: datetime | None = None) -> bool:
    """The trial credits, once per account: False when it already had them (or milli is 0)."""
    if milli <= 0:
        return False
    try:
        with session.begin_nested():
            _add_grant(session, account_id, GrantKind.TRIAL, milli, "system", "trial", now)
    except IntegrityError:
        return False
    return True


def list_grants(session: Session, account_id: int) -> list[Grant]:
    rows = session.scalars(
        select(CreditGrantRow)
        .where(CreditGrantRow.account_id == account_id)
        .order_by(CreditGrantRow.at, CreditGrantRow.id)
    )
    return [
        Grant(row.id, row.account_id, row.at, GrantKind(row.kind), row.milli, row.actor, row.reason)
        for row in rows
    ]


def take(session: Session, account_id: int, milli: int) -> bool:
    """Take `milli` from the balance if that much is left (atomic); whether it was."""
    if milli == 0:
        return True
    return (
        _rows_changed(
            session,
            update(AccountRow)
            .where(AccountRow.id == account_id, AccountRow.payg_milli >= milli)
            .values(payg_milli=AccountRow.payg_milli + (-milli)),
        )
        == 1
    )


def give_back(session: Session, account_id: int, milli: int) -> None:
    if milli == 0:
        return
    _rows_changed(
        session,
        update(AccountRow)
        .where(AccountRow.id == account_id)
        .values(payg_milli=AccountRow.payg_milli + milli),
    )


def _add_grant(
    session: Session,
    account_id: int,
    kind: GrantKind,
    milli: int,
    actor: str,
    reason: str,
    now: datetime | None,
) -> None:
    session.add(
        CreditGrantRow(
            account_id=account_id,
            at=now_or_default(now),
            kind=kind.value,
            milli=milli,
            actor=actor,
            reason=reason,
        )
    )
    session.flush()
    give_back(session, account_id, milli)


def _rows_changed(session: Session, statement: Any) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return cast("CursorResult[Any]", result).rowcount
