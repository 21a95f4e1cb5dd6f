"""The four invariants of the hardening issue, checked against what clients saw and the database.

Tests record every response they got in a `Ledger`; `check_invariants` then compares it with
the usage rows and credit periods of the accounts involved:

1. no 5xx other than 503, and every 429 and 503 carries Retry-After;
2. credits charged == delivered results x their cost == charged usage rows, nothing reserved
   (an answer replayed for its `Idempotency-Key` repeats what its first answer cost, which was
   charged once: it is delivered, and costs nothing more);
3. every response that reached the client has exactly one usage row (by request id);
4. (isolation) is asserted where it is exercised, through `Ledger.forbidden_successes`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from sqlalchemy import func, select

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import CreditPeriodRow, UsageRecordRow
from bgone.server.middleware import is_metered


@dataclass(frozen=True)
class Seen:
    """One response as the client saw it."""

    method: str
    path: str
    status: int
    request_id: str | None
    retry_after: str | None
    credits_charged_milli: int  # what this answer was charged (0 for a replay)
    delivered: bool  # a result image (or JSON with a result) came back
    replayed: bool = False  # `Idempotent-Replayed: true`: the first answer, sent again


@dataclass
class Ledger:
    seen: list[Seen] = field(default_factory=list)
    # Responses that should have been refused (another account's data, say) but were not.
    forbidden_successes: list[str] = field(default_factory=list)

    def record(self, response: httpx.Response) -> httpx.Response:
        charged = response.headers.get("x-credits-charged")
        replayed = response.headers.get("idempotent-replayed") == "true"
        milli = int(Decimal(charged) * 1000) if charged and not replayed else 0
        delivered = response.status_code == 200 and charged is not None
        self.seen.append(
            Seen(
                method=response.request.method,
                path=response.request.url.path,
                status=response.status_code,
                request_id=response.headers.get("x-request-id"),
                retry_after=response.headers.get("retry-after"),
                credits_charged_milli=milli,
                delivered=delivered,
                replayed=replayed,
            )
        )
        return response

    def statuses(self) -> Counter[int]:
        return Counter(entry.status for entry in self.seen)


@dataclass
class InvariantReport:
    checked: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return self.checked - len(self.failures)

    def expect(self, ok: bool, failure: str) -> None:
        self.checked += 1
        if not ok:
            self.failures.append(failure)


def check_invariants(
    ledger: Ledger, sessions: SessionFactory, account_ids: list[int], in_doubt_milli: int = 0
) -> InvariantReport:
    """Checks invariants 1-3 (and 4 as recorded); returns the report instead of raising.

    `in_doubt_milli`: credits of attempts that no replica answered because it was killed
    (SIGKILL) while working on them. A replica commits a request's charge, then sends its
    first byte; killed in the milliseconds between the two, the charge stands while the
    client sees the proxy's 503 and retries (README, Security and reliability). Such
    charges may exceed what was delivered by at most this much; nothing else may.
    """
    report = InvariantReport()
    bad_5xx = [e for e in ledger.seen if e.status >= 500 and e.status != 503]
    report.expect(not bad_5xx, f"5xx other than 503: {Counter(e.status for e in bad_5xx)}")
    no_retry_after = [e for e in ledger.seen if e.status in (429, 503) and not e.retry_after]
    report.expect(not no_retry_after, f"{len(no_retry_after)} 429/503 without Retry-After")

    metered = [e for e in ledger.seen if is_metered(e.path)]
    missing_id = [e for e in metered if not e.request_id]
    report.expect(not missing_id, f"{len(missing_id)} metered responses without X-Request-Id")
    request_ids = [e.request_id for e in metered if e.request_id]
    with transaction(sessions) as session:
        rows: dict[str, int] = {}
        for chunk_start in range(0, len(request_ids), 500):
            chunk = request_ids[chunk_start : chunk_start + 500]
            statement = select(UsageRecordRow.request_id, UsageRecordRow.credits_milli).where(
                UsageRecordRow.request_id.in_(chunk)
            )
            rows.update({request_id: milli for request_id, milli in session.execute(statement)})
        if account_ids:
            used, reserved = session.execute(
                select(
                    func.coalesce(func.sum(CreditPeriodRow.used_milli), 0),
                    func.coalesce(func.sum(CreditPeriodRow.reserved_milli), 0),
                ).where(CreditPeriodRow.account_id.in_(account_ids))
            ).one()
            charged_rows = session.execute(
                select(func.coalesce(func.sum(UsageRecordRow.credits_milli), 0)).where(
                    UsageRecordRow.account_id.in_(account_ids)
                )
            ).scalar_one()
        else:
            used = reserved = charged_rows = 0

    without_row = [rid for rid in request_ids if rid not in rows]
    report.expect(not without_row, f"{len(without_row)} responses without a usage row")
    duplicates = [rid for rid, count in Counter(request_ids).items() if count > 1]
    report.expect(not duplicates, f"request ids answered twice: {duplicates[:3]}")

    delivered_milli = sum(e.credits_charged_milli for e in ledger.seen if e.delivered)
    charged_without_result = [
        e for e in metered if e.request_id and rows.get(e.request_id, 0) > 0 and not e.delivered
    ]
    report.expect(
        not charged_without_result,
        f"{len(charged_without_result)} usage rows charge a request that delivered nothing",
    )
    if account_ids:
        report.expect(
            int(used) == int(charged_rows)
            and delivered_milli <= int(used) <= delivered_milli + in_doubt_milli,
            f"credits: used {used} vs delivered {delivered_milli} vs rows {charged_rows} (milli)"
            + (f", at most {in_doubt_milli} in doubt" if in_doubt_milli else ""),
        )
        report.expect(int(reserved) == 0, f"{reserved} milli-credits left reserved")
    report.expect(
        not ledger.forbidden_successes,
        f"cross-account accesses succeeded: {ledger.forbidden_successes[:3]}",
    )
    return report


def assert_invariants(ledger: Ledger, sessions: SessionFactory, account_ids: list[int]) -> None:
    report = check_invariants(ledger, sessions, account_ids)
    assert not report.failures, "\n".join(report.failures)
