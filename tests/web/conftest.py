"""The API tests' real servers, reused: `stack` (SQLite; PostgreSQL + Redis) and `server`."""

from __future__ import annotations

from tests.api.conftest import redis_url, server, stack  # noqa: F401
