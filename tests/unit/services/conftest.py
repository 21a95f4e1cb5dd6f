"""Fixtures for the service tests: real SQLite (and, through tests/db_fixtures.py, PostgreSQL)
databases, a real rate limiter and journal, and the fake engine of tests/unit/fakes.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine

from bgone.db.engine import SessionFactory, make_engine, make_session_factory, transaction
from bgone.db.migrate import upgrade
from bgone.domain.accounts import Account, create_account, effective_limits
from bgone.domain.authentication import KeyContext
from bgone.infra.ratelimit import LimitsRateLimiter
from bgone.infra.url_fetch import UrlFetcher
from bgone.infra.usage_journal import Journal
from bgone.security.hashing import SecretRing
from bgone.security.keys import Environment
from bgone.services.removal import RemovalPools, RemovalService
from tests.unit.domain.support import NOW, MakeAccount
from tests.unit.fakes import CountingQueue, FakeRemover
from tests.unit.services.support import RecordingKeyCache

T = TypeVar("T")


@dataclass
class Parts:
    service: RemovalService
    remover: FakeRemover
    queue: CountingQueue
    sessions: SessionFactory
    charged: list[int]


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('unit-sqlite') / 'bgone.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_sessions(sqlite_engine: Engine) -> SessionFactory:
    return make_session_factory(sqlite_engine)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    journal = Journal(tmp_path / "journal")
    yield journal
    journal.close()


@pytest.fixture
def make_parts(sqlite_sessions: SessionFactory, journal: Journal) -> Callable[..., Parts]:
    def make(failure: Exception | None = None, **operator: Any) -> Parts:
        """`operator`: the service's operator settings (default_quality, best_quality_credits)."""
        remover, queue = FakeRemover(failure=failure), CountingQueue()
        charged: list[int] = []
        service = RemovalService(
            sessions=sqlite_sessions,
            journal=journal,
            limiter=LimitsRateLimiter("memory://"),
            fetcher=UrlFetcher.from_strings(1 << 20, 1.0, []),
            engine=remover,
            pools=RemovalPools(CountingQueue(), CountingQueue(), queue),
            on_charged=charged.append,
            **operator,
        )
        return Parts(service, remover, queue, sqlite_sessions, charged)

    return make


@pytest.fixture
def make_caller(sqlite_sessions: SessionFactory) -> Callable[..., KeyContext]:
    def make(
        environment: Environment = Environment.PRODUCTION,
        credits_milli: int | None = None,
        rate_per_minute: int | None = None,
        max_megapixels: float | None = None,
    ) -> KeyContext:
        with transaction(sqlite_sessions) as session:
            email = f"{uuid.uuid4().hex}@example.com"
            account = create_account(session, email, plan="business", now=NOW)
        limits = effective_limits(account)
        limits = replace(
            limits,
            monthly_credits_milli=_pick(credits_milli, limits.monthly_credits_milli),
            rate_per_minute=_pick(rate_per_minute, limits.rate_per_minute),
            staging_rate_per_minute=_pick(rate_per_minute, limits.staging_rate_per_minute),
            max_megapixels=_pick(max_megapixels, limits.max_megapixels),
        )
        return KeyContext(
            key_id=f"key_{uuid.uuid4().hex[:16]}",
            account_id=account.id,
            environment=environment,
            limits=limits,
            account_status=account.status,
        )

    return make


def _pick(value: T | None, default: T) -> T:
    return default if value is None else value


@pytest.fixture
def ring() -> SecretRing:
    return SecretRing.from_secrets("server-secret-for-tests")


@pytest.fixture
def key_cache() -> RecordingKeyCache:
    return RecordingKeyCache()


@pytest.fixture
def limiter() -> LimitsRateLimiter:
    return LimitsRateLimiter("memory://")


@pytest.fixture
def make_account(sessions: SessionFactory) -> MakeAccount:
    counter = iter(range(1, 1_000))

    def make(plan: str = "business", email: str | None = None) -> Account:
        with transaction(sessions) as session:
            return create_account(
                session, email or f"user{next(counter)}@example.com", plan=plan, now=NOW
            )

    return make
