"""Fixtures every integration and hardening test may use (a plugin of tests/conftest.py).

`stack` and `server`: each API test runs once on SQLite alone and once on PostgreSQL +
Redis, sharing one `bgone serve` per set-up for the whole session.
"""

from __future__ import annotations

import pytest

from tests.support.servers import POSTGRES_REDIS, SQLITE, reachable_redis, server_fixtures


@pytest.fixture(scope="session")
def redis_url() -> str:
    return reachable_redis()


stack, server = server_fixtures("", kinds=(SQLITE, POSTGRES_REDIS), scope="session")
