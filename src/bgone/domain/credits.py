"""Monthly credits, spent in two steps so that concurrent requests never overspend.

A request first *reserves* its cost with one conditional UPDATE, which the database applies
atomically (PostgreSQL re-checks the condition after waiting for a concurrent writer; SQLite
has a single writer). After processing, the request *commits* the reservation (reserved ->
used) or *releases* it on failure. Call `reserve` in its own short transaction, not around
the inference: the credit row stays locked until that transaction ends.

Only production keys spend credits; for staging keys (`KeyContext.spends_credits` false)
callers skip this module entirely.

Periods are calendar months in UTC. The current month's allowance follows the account's
limits (a plan change applies at once, used credits stay used); past months are frozen.
A process that dies between reserve and commit leaves its reservation in place until the
month ends, erring on the side of never giving away free work.

Pay-as-you-go credits (bgone.domain.payg) come after the month's: a reservation the month
cannot cover takes what the month has left and the rest from the account's payg balance,
and remembers that part (`Reservation.payg_milli`, and the pending usage row's column) so
that settling charges the month first and gives the unspent payg part back. Locks are taken
in one order, the month's row and then the account's, by reservations and settlements alike.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Update, select, update
from sqlalchemy.orm import Session

from bgone.db.tables import CreditPeriodRow
from bgone.db.upsert import dialect_insert
from bgone.domain import payg
from bgone.domain.clock import now_or_default
from bgone.domain.plan_limits import Limits
from bgone.errors import InsufficientCredits

MILLI_PER_CREDIT = 1000


@dataclass(frozen=True)
class Reservation:
    account_id: int
    period: str
    milli: int
    # The part taken from pay-as-you-go credits; the rest is the month's.
    payg_milli: int = 0

    @property
    def month_milli(self) -> int:
        return self.milli - self.payg_milli


@dataclass(frozen=True)
class Balance:
    period: str
    included_milli: int
    used_milli: int
    reserved_milli: int
    payg_milli: int = 0  # pay-as-you-go credits left, whatever the month

    @property
    def remaining_milli(self) -> int:
        """This month's credits left (remove.bg's `subscription`)."""
        # Below zero only after a downgrade mid-month; nobody owes credits back.
        return max(0, self.included_milli - self.used_milli - self.reserved_milli)

    @property
    def total_milli(self) -> int:
        return self.remaining_milli + self.payg_milli

    @property
    def payg(self) -> float:
        return milli_to_credits(self.payg_milli)

    @property
    def total(self) -> float:
        return milli_to_credits(self.total_milli)

    @property
    def included(self) -> float:
        return milli_to_credits(self.included_milli)

    @property
    def used(self) -> float:
        return milli_to_credits(self.used_milli)

    @property
    def reserved(self) -> float:
        return milli_to_credits(self.reserved_milli)

    @property
    def remaining(self) -> float:
        return milli_to_credits(self.remaining_milli)


def credits_to_milli(credits: Decimal | int | str) -> int:
    """Exact conversion; refuses finer than a thousandth of a credit rather than rounding."""
    milli = Decimal(credits) * MILLI_PER_CREDIT
    if milli != milli.to_integral_value():
        raise ValueError(f"{credits} credits is finer than a thousandth of a credit")
    return int(milli)


def milli_to_credits(milli: int) -> float:
    return milli / MILLI_PER_CREDIT


def period_key(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m}"


def ensure_period(
    session: Session, account_id: int, limits: Limits, now: datetime | None = None
) -> str:
    """Create this month's row if missing and align its allowance with `limits`.

    One INSERT ... ON CONFLICT statement, so concurrent first requests of a month cannot
    both insert, on SQLite as on PostgreSQL.
    """
    period = period_key(now_or_default(now))
    values = {
        "account_id": account_id,
        "period": period,
        "included_milli": limits.monthly_credits_milli,
        "used_milli": 0,
        "reserved_milli": 0,
    }
    insert = dialect_insert(session, CreditPeriodRow).values(values)
    statement = insert.on_conflict_do_update(
        index_elements=[CreditPeriodRow.account_id, CreditPeriodRow.period],
        set_={"included_milli": insert.excluded.included_milli},
        where=CreditPeriodRow.included_milli != insert.excluded.included_milli,
    )
    session.execute(statement)
    return period


def reserve(
    session: Session, account_id: int, milli: int, limits: Limits, now: datetime | None = None
) -> Reservation:
    """Set aside `milli` credits this month, or raise InsufficientCredits."""
    if milli < 0:
        raise ValueError("cannot reserve a negative amount")
    moment = now_or_default(now)
    period = ensure_period(session, account_id, limits, moment)
    if milli == 0:
        return Reservation(account_id=account_id, period=period, milli=0)
    changed = _rows_changed(
        session,
        update(CreditPeriodRow)
        .where(
            _row_of(account_id, period),
            CreditPeriodRow.included_milli
            - CreditPeriodRow.used_milli
            - CreditPeriodRow.reserved_milli
            >= milli,
        )
        .values(reserved_milli=CreditPeriodRow.reserved_milli + milli),
    )
    if changed == 1:
        return Reservation(account_id=account_id, period=period, milli=milli)
    return _reserve_with_payg(session, account_id, period, milli, limits, moment)


def _reserve_with_payg(
    session: Session, account_id: int, period: str, milli: int, limits: Limits, moment: datetime
) -> Reservation:
    """What the month has left, locked, and the rest from pay-as-you-go, or raise."""
    row = session.execute(
        select(
            CreditPeriodRow.included_milli,
            CreditPeriodRow.used_milli,
            CreditPeriodRow.reserved_milli,
        )
        .where(_row_of(account_id, period))
        .with_for_update()
    ).one()
    month_milli = min(milli, max(0, row.included_milli - row.used_milli - row.reserved_milli))
    payg_milli = milli - month_milli
    if not payg.take(session, account_id, payg_milli):
        left = balance(session, account_id, limits, moment)
        detail = f"this request needs {milli_to_credits(milli):g} credits and {left.remaining:g}"
        if left.payg_milli:
            detail += f" remain this month, plus {left.payg:g} pay-as-you-go"
        else:
            detail += " remain this month"
        raise InsufficientCredits(detail)
    if month_milli:
        # The row is locked by this transaction: nobody can have taken it meanwhile.
        _rows_changed(
            session,
            update(CreditPeriodRow)
            .where(_row_of(account_id, period))
            .values(reserved_milli=CreditPeriodRow.reserved_milli + month_milli),
        )
    return Reservation(account_id=account_id, period=period, milli=milli, payg_milli=payg_milli)


def commit(session: Session, reservation: Reservation, actual_milli: int) -> None:
    """Turn a reservation into spending; `actual_milli` may be less than was reserved."""
    settlements = Settlements()
    settlements.add(reservation, actual_milli)
    settlements.apply(session)


def release(session: Session, reservation: Reservation) -> None:
    """Give a reservation back, for a request that failed before costing anything."""
    commit(session, reservation, 0)


class Settlements:
    """Reservations ended together: changes summed per credit row, applied in one order.

    A group commit settles several accounts' reservations at once; taking the row locks in
    the same (sorted) order on every replica rules out deadlocks between them.
    """

    def __init__(self) -> None:
        self._changes: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
        self._payg_back: dict[int, int] = defaultdict(int)

    def add(self, reservation: Reservation, used_milli: int) -> None:
        if not 0 <= used_milli <= reservation.milli:
            raise ValueError(f"actual cost {used_milli} outside 0..{reservation.milli} reserved")
        if not 0 <= reservation.payg_milli <= reservation.milli:
            raise ValueError(f"payg part {reservation.payg_milli} outside the reservation")
        # The month's part is charged first; what the payg part did not pay for goes back.
        month_used = min(used_milli, reservation.month_milli)
        change = self._changes[(reservation.account_id, reservation.period)]
        change[0] += reservation.month_milli
        change[1] += month_used
        self._payg_back[reservation.account_id] += reservation.payg_milli - (
            used_milli - month_used
        )

    def apply(self, session: Session) -> None:
        for (account_id, period), (released, used) in sorted(self._changes.items()):
            if released == 0:
                continue
            changed = _rows_changed(
                session,
                update(CreditPeriodRow)
                .where(_row_of(account_id, period))
                .values(
                    reserved_milli=CreditPeriodRow.reserved_milli - released,
                    used_milli=CreditPeriodRow.used_milli + used,
                ),
            )
            if changed != 1:
                raise RuntimeError(f"no credit period {period} for account {account_id}")
        for account_id, back in sorted(self._payg_back.items()):
            payg.give_back(session, account_id, back)


def balance(
    session: Session, account_id: int, limits: Limits, now: datetime | None = None
) -> Balance:
    """This month's figures. Reads only: a month with no requests yet has no row."""
    period = period_key(now_or_default(now))
    row = session.get(CreditPeriodRow, (account_id, period), populate_existing=True)
    return Balance(
        period=period,
        # The allowance follows the limits, as the next reservation will make it.
        included_milli=limits.monthly_credits_milli,
        used_milli=row.used_milli if row else 0,
        reserved_milli=row.reserved_milli if row else 0,
        payg_milli=payg.payg_balance(session, account_id),
    )


def _row_of(account_id: int, period: str) -> ColumnElement[bool]:
    return (CreditPeriodRow.account_id == account_id) & (CreditPeriodRow.period == period)


def _rows_changed(session: Session, statement: Update) -> int:
    # No ORM objects to keep in sync: this module never loads credit rows for writing.
    result = session.execute(statement.execution_options(synchronize_session=False))
    return cast("CursorResult[Any]", result).rowcount
