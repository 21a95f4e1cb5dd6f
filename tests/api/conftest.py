"""Fixtures: one `bgone serve` per storage stack (SQLite; PostgreSQL + Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from bgone.db.migrate import upgrade
from tests.api.stack import Server, Stack
from tests.conftest import require
from tests.db_fixtures import scratch_postgres_database

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        reachable = True
    except redis.RedisError:
        reachable = False
    require(reachable, f"Redis not reachable at {REDIS_URL}")
    return REDIS_URL


@contextmanager
def built_stack(
    kind: str,
    request: pytest.FixtureRequest,
    model_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    with ExitStack() as cleanup:
        data_dir = tmp_path_factory.mktemp(f"stack-{kind.replace('+', '-')}")
        if kind == "sqlite":
            built = Stack(kind, data_dir, model_dir, f"sqlite:///{data_dir / 'bgone.db'}")
        else:
            admin: Engine = request.getfixturevalue("postgres_admin")
            url = cleanup.enter_context(scratch_postgres_database(admin))
            built = Stack(kind, data_dir, model_dir, url, request.getfixturevalue("redis_url"))
            cleanup.callback(built.cleanup_redis)
        upgrade(built.database_url)
        cleanup.callback(lambda: built.sessions.kw["bind"].dispose())
        yield built


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres+redis", marks=pytest.mark.postgres)],
)
def stack(
    request: pytest.FixtureRequest, model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Each API test runs once on SQLite alone and once on PostgreSQL + Redis."""
    with built_stack(request.param, request, model_dir, tmp_path_factory) as built:
        yield built


@pytest.fixture(scope="session")
def server(stack: Stack) -> Iterator[Server]:
    running = stack.start_server()
    yield running
    running.stop()
