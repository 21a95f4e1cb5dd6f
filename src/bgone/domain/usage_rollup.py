"""The usage rollup: final usage rows summed per account, key, UTC day, endpoint and status.

Reports (`GET /v1/usage`, the account page's CSV and statement) read this table, never the
raw rows: a month of a busy account is a million rows but only a few thousand rollup rows.
The usage writer adds each batch's final rows here in the same transaction that writes them
(domain/metering.py), so the rollup is exact apart from requests still running, whose
pending rows count only once their final row settles them. Rows without an account (failed
authentications) belong to no one's report and are left out.

The deltas of one batch are summed in Python first and upserted in one statement, in the
order of the unique key, so that two writers (two replicas) never lock rows in opposite
orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from bgone.db.tables import UsageRollupRow
from bgone.db.upsert import dialect_insert

NO_KEY = ""  # the rollup's key_id for rows without a key (part of the unique key)

RollupKey = tuple[int, date, str, str, int]  # account_id, day, key_id, endpoint, status


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


@dataclass
class RollupDeltas:
    """What one transaction adds to the rollup."""

    totals: dict[RollupKey, list[float]] = field(default_factory=dict)

    def add(
        self,
        account_id: int | None,
        key_id: str | None,
        at: datetime,
        endpoint: str,
        status: int,
        credits_milli: int,
        megapixels: float,
    ) -> None:
        if account_id is None:
            return
        key = (account_id, utc_day(at), key_id or NO_KEY, endpoint, status)
        found = self.totals.get(key)
        if found is None:
            self.totals[key] = [1, credits_milli, megapixels]
        else:
            found[0] += 1
            found[1] += credits_milli
            found[2] += megapixels

    def apply(self, session: Session) -> None:
        """Upsert the deltas in one statement; nothing to do when there are none."""
        if not self.totals:
            return
        statement = dialect_insert(session, UsageRollupRow)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[
                UsageRollupRow.account_id,
                UsageRollupRow.day,
                UsageRollupRow.key_id,
                UsageRollupRow.endpoint,
                UsageRollupRow.status,
            ],
            set_={
                "requests": UsageRollupRow.requests + excluded.requests,
                "credits_milli": UsageRollupRow.credits_milli + excluded.credits_milli,
                "megapixels": UsageRollupRow.megapixels + excluded.megapixels,
            },
        )
        session.execute(
            statement,
            [
                {
                    "account_id": account_id,
                    "day": day,
                    "key_id": key_id,
                    "endpoint": endpoint,
                    "status": status,
                    "requests": int(requests),
                    "credits_milli": int(credits_milli),
                    "megapixels": float(megapixels),
                }
                for (account_id, day, key_id, endpoint, status), (
                    requests,
                    credits_milli,
                    megapixels,
                ) in sorted(self.totals.items())
            ],
        )
        self.totals.clear()
