"""The one way tests get a running `bgone serve`: fixtures made by `server_fixtures`.

    battery_stack, battery_server = server_fixtures("battery", **SERVER_SETTINGS)

defines the module-scoped fixtures `battery_stack` (a `Stack`: a fresh, migrated database
and data directory) and `battery_server` (one `bgone serve` on it with those BGONE_
settings), stopped and cleaned up at the end of the scope. Several kinds parametrise the
stack: each test using it runs once per storage set-up, marked with the real parts it uses.
A stack fixed to "postgres+redis" cannot mark its tests: mark the module
(`pytestmark = [pytest.mark.postgres, pytest.mark.redis]`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Literal

import pytest
import redis
from sqlalchemy import Engine

from bgone.db.migrate import upgrade
from tests.support.db_fixtures import scratch_postgres_database
from tests.support.environment import require
from tests.support.stack import Server, Stack

REDIS_URL = "redis://127.0.0.1:6379/0"
SQLITE = "sqlite"
POSTGRES_REDIS = "postgres+redis"
KIND_MARKS = {SQLITE: (), POSTGRES_REDIS: (pytest.mark.postgres, pytest.mark.redis)}
Scope = Literal["session", "package", "module", "class", "function"]


def reachable_redis() -> str:
    """The shared Redis at REDIS_URL: skipped locally when it is down, a failure in CI."""
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
    """A migrated `Stack` of `kind`, its databases and Redis keys removed afterwards."""
    with ExitStack() as cleanup:
        data_dir = tmp_path_factory.mktemp(f"stack-{kind.replace('+', '-')}")
        if kind == SQLITE:
            built = Stack(kind, data_dir, model_dir, f"sqlite:///{data_dir / 'bgone.db'}")
        else:
            admin: Engine = request.getfixturevalue("postgres_admin")
            url = cleanup.enter_context(scratch_postgres_database(admin))
            built = Stack(kind, data_dir, model_dir, url, request.getfixturevalue("redis_url"))
            cleanup.callback(built.cleanup_redis)
        upgrade(built.database_url)
        cleanup.callback(lambda: built.sessions.kw["bind"].dispose())
        yield built


def stack_fixture(
    name: str, kinds: Sequence[str] = (SQLITE,), scope: Scope = "module"
) -> Callable[..., Any]:
    """A fixture `name` yielding a `Stack`, parametrised when there are several kinds."""
    params = [pytest.param(kind, marks=KIND_MARKS[kind]) for kind in kinds]

    @pytest.fixture(scope=scope, name=name, params=params if len(kinds) > 1 else None)
    def stack(
        request: pytest.FixtureRequest, model_dir: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Stack]:
        kind = request.param if len(kinds) > 1 else kinds[0]
        with built_stack(kind, request, model_dir, tmp_path_factory) as built:
            yield built

    return stack


def server_fixture(
    name: str, stack_name: str, scope: Scope = "module", **settings: str
) -> Callable[..., Any]:
    """A fixture `name` yielding one `bgone serve` on the stack fixture `stack_name`."""

    def server(model_dir: Path, **stack: Stack) -> Iterator[Server]:
        running = stack[stack_name].start_server(**settings)
        try:
            yield running
        finally:
            running.stop()

    # The stack is a named argument, not a run-time lookup, so that its parameters (the
    # storage kinds) and marks reach every test that uses only the server; model_dir is
    # declared so that the collection hook sees the real model in use.
    server.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(argument, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for argument in ("model_dir", stack_name)
        ]
    )
    return pytest.fixture(scope=scope, name=name)(server)


def server_fixtures(
    prefix: str, kinds: Sequence[str] = (SQLITE,), scope: Scope = "module", **settings: str
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """`<prefix>_stack` and `<prefix>_server` (just `stack` and `server` for prefix "")."""
    stack_name = f"{prefix}_stack" if prefix else "stack"
    server_name = f"{prefix}_server" if prefix else "server"
    return (
        stack_fixture(stack_name, kinds, scope),
        server_fixture(server_name, stack_name, scope, **settings),
    )
