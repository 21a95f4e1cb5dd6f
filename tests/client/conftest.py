"""The real-server fixtures of tests/api (`stack`, `server`), re-exported for the SDK tests."""

from tests.api.conftest import redis_url, server, stack  # noqa: F401
