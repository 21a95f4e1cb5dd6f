"""The balance under which an account is told `credits.low` (its own setting; none: never)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bgone.db.tables import CreditsLowThresholdRow
from bgone.errors import InvalidThreshold

# Credits are stored in milli-credits; a threshold above this is surely a typo.
MAX_THRESHOLD_MILLI = 10**12


def threshold_of(session: Session, account_id: int) -> int | None:
    row = session.get(CreditsLowThresholdRow, account_id)
    return row.threshold_milli if row else None


def set_threshold(session: Session, account_id: int, milli: int | None) -> None:
    """Set (or with None, clear) the account's threshold."""
    if milli is None:
        session.execute(
            delete(CreditsLowThresholdRow).where(CreditsLowThresholdRow.account_id == account_id)
        )
        return
    if not 0 < milli <= MAX_THRESHOLD_MILLI:
        raise InvalidThreshold("the threshold must be a positive number of credits")
    row = session.get(CreditsLowThresholdRow, account_id)
    if row is None:
        session.add(CreditsLowThresholdRow(account_id=account_id, threshold_milli=milli))
    else:
        row.threshold_milli = milli
