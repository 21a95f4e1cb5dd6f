"""Usage reports on real SQLite and PostgreSQL: rows written through the real usage writer
(group commit, pending rows settled, retried rows, released rows), then every grouping of
the report compared with a brute-force aggregation of the raw usage rows; one SQL statement
per report whatever the number of keys."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bgone.db.engine import SessionFactory, make_read_session_factory, transaction
from bgone.db.tables import ApiKeyRow, UsageRecordRow
from bgone.domain import metering
from bgone.domain.accounts import Account, create_account, effective_limits
from bgone.domain.credits import milli_to_credits
from bgone.domain.usage import PENDING_STATUS, UsageEntry
from bgone.infra.usage_journal import Journal
from bgone.infra.usage_writer import UsageWriter
from bgone.services.usage_report import UsageReports
from tests.unit.domain.support import NOW

START, END = date(2025, 4, 28), date(2025, 5, 20)
ENDPOINTS = ("POST /v2", "POST /v1.0/removebg", "GET /v1/account")
STATUSES = (200, 200, 200, 400, 402, 503)
GROUPINGS = [
    ",".join(period + rest)
    for period in ((), ("day",), ("month",))
    for size in range(4)
    for rest in combinations(("key", "endpoint", "status"), size)
]


def make_keys(sessions: SessionFactory, account_id: int, count: int) -> list[str]:
    ids = [f"key_{account_id:04d}{index:012d}" for index in range(count)]
    with transaction(sessions) as session:
        for key_id in ids:
            session.add(
                ApiKeyRow(
                    id=key_id,
                    account_id=account_id,
                    name=f"key {key_id[-3:]}",
                    environment="production",
                    display=key_id,
                    hash=key_id,
                    hash_version=1,
                    created_by="tests",
                    created_at=NOW,
                )
            )
    return ids


def account(sessions: SessionFactory, email: str) -> Account:
    with transaction(sessions) as session:
        return create_account(session, email, plan="enterprise", now=NOW)


def write_through_the_writer(
    sessions: SessionFactory, tmp_path: Path, owner: Account, keys: list[str], count: int
) -> None:
    """`count` requests of `owner` (and noise: another account, failed authentications),
    some settling a reservation, some written twice, one left running."""
    chance = random.Random(16)
    other = account(sessions, "other@example.com")
    writer = UsageWriter(sessions, Journal(tmp_path / "journal"))
    try:

        async def run() -> None:
            writes = []
            for index in range(count):
                at = NOW.replace(day=1, hour=0) + timedelta(
                    days=chance.randrange(-5, 21), seconds=chance.randrange(86_400)
                )
                entry = UsageEntry(
                    request_id=f"req-{index}",
                    at=at,
                    endpoint=chance.choice(ENDPOINTS),
                    status=chance.choice(STATUSES),
                    account_id=(owner.id, owner.id, owner.id, other.id, None)[index % 5],
                    key_id=chance.choice([*keys, None]),
                    credits_milli=chance.choice((0, 250, 1000)),
                    megapixels=chance.choice((0.0, 0.5, 1.25)),
                )
                reservation = None
                if index % 7 == 0 and entry.account_id is not None:
                    with transaction(sessions) as session:
                        limits = effective_limits_of(session, entry.account_id)
                        reservation = metering.reserve_with_pending_row(
                            session, entry, 1000, limits
                        )
                writes.append(writer.write(entry, None, False, reservation))
                if index % 11 == 0:  # a retried write: counted once
                    writes.append(writer.write(entry, None, False, reservation))
            await asyncio.gather(*writes)

        asyncio.run(run())
        # One request still running: its pending row is not in any report.
        running = UsageEntry("running", NOW, "POST /v2", 200, owner.id, keys[0])
        with transaction(sessions) as session:
            limits = effective_limits_of(session, owner.id)
            metering.reserve_with_pending_row(session, running, 1000, limits)
        # And one whose replica died: released, it counts as the 503 it became.
        lost = UsageEntry("lost", NOW, "POST /v2", 200, owner.id, keys[-1], megapixels=2.0)
        with transaction(sessions) as session:
            metering.reserve_with_pending_row(session, lost, 1000, limits)
        with transaction(sessions) as session:
            assert metering.release_pending(session, ["lost"]) == 1
    finally:
        writer.close()


def effective_limits_of(session: Any, account_id: int) -> Any:
    from bgone.domain.accounts import get_by_id

    return effective_limits(get_by_id(session, account_id))


def brute_force(
    sessions: SessionFactory, account_id: int, group_by: str, names: dict[str, str]
) -> list[dict[str, Any]]:
    groups = [name for name in group_by.split(",") if name]
    with transaction(sessions) as session:
        raw = session.execute(
            select(UsageRecordRow).where(
                UsageRecordRow.account_id == account_id,
                UsageRecordRow.status != PENDING_STATUS,
            )
        ).scalars()
        totals: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
        for row in raw:
            day = row.at.date()
            if not START <= day < END:
                continue
            key: list[Any] = []
            for group in groups:
                key += {
                    "day": [day.isoformat()],
                    "month": [day.strftime("%Y-%m")],
                    "key": [row.key_id, names.get(row.key_id or "")],
                    "endpoint": [row.endpoint],
                    "status": [row.status],
                }[group]
            found = totals[tuple(key)]
            found[0] += 1
            found[1] += 1 if row.status >= 400 else 0
            found[2] += row.credits_milli
            found[3] += row.megapixels
    columns = [
        column
        for group in groups
        for column in {
            "day": ["day"],
            "month": ["month"],
            "key": ["key_id", "key_name"],
            "endpoint": ["endpoint"],
            "status": ["status"],
        }[group]
    ]
    rows = []
    for key, (requests, failed, milli, megapixels) in totals.items():
        rows.append(
            {
                **dict(zip(columns, key, strict=True)),
                "requests": requests,
                "failed_requests": failed,
                "credits": milli_to_credits(int(milli)),
                "megapixels": round(megapixels, 3),
            }
        )
    return sorted(rows, key=sort_key)


def sort_key(row: dict[str, Any]) -> str:
    return repr(sorted((name, str(value)) for name, value in row.items()))


@contextmanager
def counting_statements(sessions: SessionFactory) -> Iterator[list[str]]:
    engine = sessions.kw["bind"]
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_every_grouping_matches_the_raw_rows(sessions: SessionFactory, tmp_path: Path) -> None:
    owner = account(sessions, "owner@example.com")
    keys = make_keys(sessions, owner.id, 4)
    write_through_the_writer(sessions, tmp_path, owner, keys, 400)
    names = {key_id: f"key {key_id[-3:]}" for key_id in keys}
    reports = UsageReports(sessions)

    for group_by in GROUPINGS:
        report = reports.report(owner.id, START.isoformat(), END.isoformat(), group_by)
        got = sorted(report.rows, key=sort_key)
        assert got == brute_force(sessions, owner.id, group_by, names), group_by
    everything = reports.report(owner.id, START.isoformat(), END.isoformat(), "")
    assert everything.rows[0]["requests"] > 200
    assert "running" not in {row.get("key_id") for row in everything.rows}


@pytest.mark.parametrize("key_count", [1, 50])
def test_one_statement_per_report_whatever_the_number_of_keys(
    sessions: SessionFactory, key_count: int, tmp_path: Path
) -> None:
    owner = account(sessions, f"keys{key_count}@example.com")
    keys = make_keys(sessions, owner.id, key_count)
    rows = [
        metering.FinalRow(
            UsageEntry(f"r{key_count}-{index}", NOW, "POST /v2", 200, owner.id, key_id, None, 1000)
        )
        for index, key_id in enumerate(keys * 2)
    ]
    with transaction(sessions) as session:
        metering.write_final_rows(session, rows)
    reports = UsageReports(make_read_session_factory(sessions.kw["bind"]))

    with counting_statements(sessions) as seen:
        report = reports.report(owner.id, "2025-05-01", "2025-06-01", "day,key")
    assert len(report.rows) == key_count
    assert {row["requests"] for row in report.rows} == {2}
    # One statement, whatever the number of keys (SQLite's BEGIN aside: a transaction).
    queries = [text for text in seen if not text.upper().startswith(("BEGIN", "COMMIT"))]
    assert len(queries) == 1, seen
    assert queries[0].lstrip().upper().startswith("SELECT")
