"""Usage reports at speed: `group_by=day,key` over a full month of 1 M usage rows.

    python -m bench.usage                         # 5 M rows, 1 M of them the account's
    python -m bench.usage --rows 50000 --runs 5   # scaled down
    python -m bench.usage --backend sqlite        # one backend only

For each backend (a SQLite file in a scratch folder; a scratch database of the PostgreSQL at
127.0.0.1:5432, user postgres, trust, as the tests use it) the schema is migrated, then
`--rows` usage rows are bulk-inserted (executemany on SQLite, COPY on PostgreSQL): a fifth of
them the measured account's, spread over one month and 50 keys, three endpoints and eight
statuses; the rest other accounts' over other months. The rollup is then built from those rows
with one INSERT ... SELECT (what migration 0011's backfill does). The measure is the report as
`GET /v1/usage` makes it (bgone.services.usage_report, one SELECT and the rows' dicts), warm
(one run first), p50 of `--runs` runs, against the 200 ms target; one run of the same grouping
over the raw rows is shown beside it, for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, NullPool, create_engine, text
from tests.support.db_fixtures import POSTGRES_ADMIN_URL, scratch_postgres_database

from bgone.db.engine import make_engine, make_read_session_factory
from bgone.db.migrate import upgrade
from bgone.services.usage_report import UsageReports

TARGET_MS = 200.0
MONTH = date(2026, 11, 1)
MONTH_DAYS = 30
ACCOUNTS = 5  # the measured one and four others
KEYS = 50  # the measured account's
ENDPOINTS = ("POST /v2", "POST /v1.0/removebg", "POST /v1/remove-bg")
STATUSES = (200, 200, 200, 200, 200, 400, 402, 429)
CHUNK = 50_000
COLUMNS = (
    "request_id",
    "account_id",
    "key_id",
    "at",
    "endpoint",
    "status",
    "error_code",
    "credits_milli",
    "megapixels",
    "latency_ms",
)
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite
UTC_DAY = {"sqlite": "date(at)", "postgresql": "CAST(timezone('UTC', at) AS DATE)"}


def key_id(account: int, index: int) -> str:
    return f"key_bench{account:02d}{index:05d}"


def rows(total: int, sqlite: bool) -> Iterator[tuple[object, ...]]:
    """Deterministic rows: every fifth the measured account's (account 1) in MONTH."""
    start = datetime(MONTH.year, MONTH.month, 1, tzinfo=UTC)
    for i in range(total):
        account, j = 1 + i % ACCOUNTS, i // ACCOUNTS
        day = (j // KEYS) % MONTH_DAYS  # every (day, key) pair of the month, evenly
        moment = start + timedelta(days=day, seconds=(j * 104_729) % 86_400)
        if account != 1:  # other accounts, other months
            moment -= timedelta(days=31 * (1 + j % 6))
        status = STATUSES[(j // 11) % len(STATUSES)]
        yield (
            f"b{i}",
            account,
            key_id(account, j % KEYS),
            moment.strftime(SQLITE_TIME) if sqlite else moment,
            ENDPOINTS[(j // 7) % len(ENDPOINTS)],
            status,
            None if status < 400 else "bench",
            1000 if status < 400 else 0,
            1.0,
            120.0,
        )


def seed_accounts(engine: Engine) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for account in range(1, ACCOUNTS + 1):
            connection.execute(
                text(
                    "INSERT INTO accounts (id, email, plan, status, created_at) "
                    "VALUES (:id, :email, 'enterprise', 'active', :at)"
                ),
                {"id": account, "email": f"bench{account}@example.com", "at": now},
            )
        connection.execute(
            text(
                "INSERT INTO api_keys (id, account_id, name, environment, display, hash, "
                "hash_version, created_by, created_at) VALUES (:id, :account, :name, "
                "'production', :id, :id, 1, 'bench', :at)"
            ),
            [
                {"id": key_id(a, k), "account": a, "name": f"key {k}", "at": now}
                for a in range(1, ACCOUNTS + 1)
                for k in range(KEYS)
            ],
        )


def load_sqlite(engine: Engine, total: int) -> None:
    insert = (
        f"INSERT INTO usage_records ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in COLUMNS)})"
    )
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        chunk: list[tuple[object, ...]] = []
        for row in rows(total, sqlite=True):
            chunk.append(row)
            if len(chunk) == CHUNK:
                raw.executemany(insert, chunk)
                chunk.clear()
        if chunk:
            raw.executemany(insert, chunk)


def load_postgres(engine: Engine, total: int) -> None:
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            statement = f"COPY usage_records ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in rows(total, sqlite=False):
                    copy.write_row(row)


def build_rollup(engine: Engine) -> None:
    """Migration 0011's backfill: the rollup from the raw rows."""
    day = UTC_DAY[engine.dialect.name]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO usage_rollup (account_id, day, key_id, endpoint, status, requests, "
            f"credits_milli, megapixels) SELECT account_id, {day}, COALESCE(key_id, ''), "
            "endpoint, status, COUNT(*), SUM(credits_milli), SUM(megapixels) FROM usage_records "
            f"WHERE account_id IS NOT NULL AND status <> 0 GROUP BY account_id, {day}, "
            "COALESCE(key_id, ''), endpoint, status"
        )
        connection.exec_driver_sql("ANALYZE")  # fresh statistics, as a live database has


def raw_aggregation_ms(engine: Engine) -> float:
    """The same report from the raw rows, once: what the rollup saves."""
    day = UTC_DAY[engine.dialect.name]
    first, last = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    bounds: dict[str, object] = {"a": first, "b": last}
    if engine.dialect.name == "sqlite":
        bounds = {"a": first.strftime(SQLITE_TIME), "b": last.strftime(SQLITE_TIME)}
    query = text(
        f"SELECT {day}, key_id, COUNT(*), SUM(credits_milli), SUM(megapixels) "
        "FROM usage_records WHERE account_id = 1 AND status <> 0 AND at >= :a AND at < :b "
        f"GROUP BY {day}, key_id"
    )
    with engine.connect() as connection:
        began = time.perf_counter()
        connection.execute(query, bounds).all()
        return (time.perf_counter() - began) * 1000


@dataclass(frozen=True)
class Figures:
    seed_s: float
    account_rows: int
    rollup_rows: int
    groups: int
    p50_ms: float
    max_ms: float
    raw_ms: float


def measure(url: str, total: int, runs: int) -> Figures:
    upgrade(url)
    engine = make_engine(url)
    try:
        began = time.perf_counter()
        seed_accounts(engine)
        (load_sqlite if engine.dialect.name == "sqlite" else load_postgres)(engine, total)
        build_rollup(engine)
        seed_seconds = time.perf_counter() - began
        with engine.connect() as connection:
            rollup_rows = connection.exec_driver_sql(
                "SELECT COUNT(*) FROM usage_rollup WHERE account_id = 1"
            ).scalar_one()
        reports = UsageReports(make_read_session_factory(engine))
        today = MONTH + timedelta(days=10)
        first = reports.report(1, None, None, "day,key", today=today)  # warm-up
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            report = reports.report(1, None, None, "day,key", today=today)
            times.append((time.perf_counter() - began) * 1000)
        assert report.rows == first.rows
        counted = sum(int(row["requests"]) for row in report.rows)
        return Figures(
            seed_s=seed_seconds,
            account_rows=counted,
            rollup_rows=int(rollup_rows),
            groups=len(report.rows),
            p50_ms=statistics.median(times),
            max_ms=max(times),
            raw_ms=raw_aggregation_ms(engine),
        )
    finally:
        engine.dispose()


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'bench-usage.db'}"
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with scratch_postgres_database(admin) as url:
            yield url
    finally:
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="usage rows in all")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    options = parser.parse_args()
    backends = ("sqlite", "postgresql") if options.backend == "both" else (options.backend,)
    print(
        f"usage report: group_by=day,key over {MONTH:%Y-%m}, {options.rows:,} usage rows "
        f"({options.rows // ACCOUNTS:,} the account's, {KEYS} keys), "
        f"p50 of {options.runs} warm runs"
    )
    print()
    print(
        "| backend | seed s | account rows | rollup rows | groups | p50 ms | max ms "
        "| raw rows ms (1 run) | target | ok |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    failed = False
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-usage-")))
        for backend in backends:
            with database(backend, folder) as url:
                found = measure(url, options.rows, options.runs)
            ok = found.p50_ms <= TARGET_MS
            failed |= not ok
            print(
                f"| {backend} | {found.seed_s:.1f} | {found.account_rows:,} "
                f"| {found.rollup_rows:,} | {found.groups:,} | {found.p50_ms:.1f} "
                f"| {found.max_ms:.1f} | {found.raw_ms:.0f} | <= {TARGET_MS:.0f} ms "
                f"| {'yes' if ok else 'NO'} |",
                flush=True,
            )
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
