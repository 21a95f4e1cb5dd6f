"""The removal use case's parts: a real SQLite database, journal and rate limiter, and a fake
engine with the real `Remover.remove` signature, so no model and no subprocess is needed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import pytest
from PIL import Image
from sqlalchemy import Engine

from bgone.db.engine import SessionFactory, make_engine, make_session_factory, transaction
from bgone.db.migrate import upgrade
from bgone.domain.accounts import create_account, effective_limits
from bgone.domain.authentication import KeyContext
from bgone.domain.credits import Reservation
from bgone.inference.compose import Box
from bgone.inference.imageio import DecodeLimits
from bgone.inference.options import RemovalOptions
from bgone.inference.pipeline import RemovalResult
from bgone.infra.ratelimit import Decision, LimitsRateLimiter
from bgone.infra.url_fetch import UrlFetcher
from bgone.infra.usage_journal import Journal
from bgone.security.keys import Environment
from bgone.services.removal import RemovalService
from tests.domain.support import NOW

T = TypeVar("T")

RESULT = RemovalResult(
    data=b"a fixed result",
    format="png",
    width=64,
    height=48,
    foreground=Box(left=4, top=2, width=50, height=40),
    input_width=64,
    input_height=48,
)


class FakeRemover:
    """Stands in for `bgone.inference.pipeline.Remover`: records each call, returns RESULT."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.limits = DecodeLimits()
        self.calls: list[RemovalOptions] = []
        self.failure = failure

    def remove(
        self, source: bytes | Image.Image, options: RemovalOptions | None = None
    ) -> RemovalResult:
        self.calls.append(options or RemovalOptions())
        if self.failure is not None:
            raise self.failure
        return RESULT


class CountingQueue:
    """A work queue that runs inline and counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, function: Callable[[], T]) -> T:
        self.runs += 1
        return function()


@dataclass
class Ledger:
    """What the HTTP middleware's RequestRecord holds for the use case."""

    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    megapixels: float = 0.0
    rate: Decision | None = None
    reservation: Reservation | None = None
    credits_milli: int = 0


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
    def make(failure: Exception | None = None) -> Parts:
        remover, queue = FakeRemover(failure), CountingQueue()
        charged: list[int] = []
        service = RemovalService(
            sessions=sqlite_sessions,
            journal=journal,
            limiter=LimitsRateLimiter("memory://"),
            fetcher=UrlFetcher.from_strings(1 << 20, 1.0, []),
            engine=remover,
            work_queue=queue,
            on_charged=charged.append,
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
