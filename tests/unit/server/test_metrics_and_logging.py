"""The pieces of metrics and logs, without a server: the scrape app's token, the pool's
gauges and rejections, the Redis fallback count, the request id in the formatters."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bgone.domain.metering import FinalRow
from bgone.domain.usage import UsageEntry
from bgone.errors import ServerBusy
from bgone.infra import metrics
from bgone.infra.ratelimit import Decision, FailoverRateLimiter, LimitsRateLimiter
from bgone.infra.shared_pool import AccountSharedPool, PoolOptions
from bgone.infra.usage_journal import Journal
from bgone.server import request_log
from bgone.server.metrics_http import metrics_app


def sample(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return value or 0.0


def call(app: Any, headers: dict[str, str] | None = None, path: str = "/metrics") -> str:
    seen: list[str] = []
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", **(headers or {})}
    body = b"".join(app(environ, lambda status, _headers: seen.append(status)))
    return seen[0] + "\n" + body.decode()


def test_the_scrape_app_wants_the_token_and_serves_parseable_text() -> None:
    app = metrics_app("s3cret")
    assert call(app).startswith("401")
    assert call(app, {"HTTP_AUTHORIZATION": "Bearer other"}).startswith("401")
    assert call(app, {"HTTP_AUTHORIZATION": "Bearer s3cret"}, path="/other").startswith("404")
    answered = call(app, {"HTTP_AUTHORIZATION": "Bearer s3cret"})
    assert answered.startswith("200")
    names = {family.name for family in text_string_to_metric_families(answered.split("\n", 1)[1])}
    assert {"bgone_requests", "bgone_stage_seconds", "bgone_usage_spool_rows"} <= names
    assert call(metrics_app("")).startswith("200")  # no token set: none asked for


def test_a_full_pool_counts_its_rejection_and_shows_its_depth() -> None:
    gate = AccountSharedPool(PoolOptions("inference", workers=1, queue_size=1, account_fraction=1))
    release = threading.Event()
    rejected = sample("bgone_pool_rejections_total", pool="inference", reason="full")

    async def scenario() -> None:
        first = asyncio.ensure_future(gate.run("one", release.wait))
        second = asyncio.ensure_future(gate.run("two", release.wait))
        await asyncio.sleep(0.05)
        assert sample("bgone_pool_in_use", pool="inference") == 2
        assert sample("bgone_queue_depth", pool="inference") == 1
        with pytest.raises(ServerBusy):
            await gate.run("three", release.wait)
        release.set()
        await asyncio.gather(first, second)

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        gate.shutdown()
    assert sample("bgone_pool_rejections_total", pool="inference", reason="full") == (rejected + 1)
    assert sample("bgone_pool_in_use", pool="inference") == 0


class _Down:
    blocking = True

    def hit(self, bucket: str, per_minute: int, cost: float = 1.0) -> Decision:
        raise ConnectionError("redis is away")


def test_rate_limits_count_redis_errors_and_fallbacks() -> None:
    errors = sample("bgone_redis_errors_total", component="ratelimit")
    fallbacks = sample("bgone_redis_fallbacks_total", component="ratelimit")
    limiter = FailoverRateLimiter(_Down(), LimitsRateLimiter("memory://"))  # type: ignore[arg-type]
    assert limiter.hit("bucket", 10).allowed
    assert limiter.hit("bucket", 10).allowed  # degraded: straight to the fallback
    assert sample("bgone_redis_errors_total", component="ratelimit") == errors + 1
    assert sample("bgone_redis_fallbacks_total", component="ratelimit") == fallbacks + 2


def _handler(formatter: logging.Formatter) -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(request_log.RequestIdFilter())
    handler.setFormatter(formatter)
    return handler, stream


@pytest.mark.parametrize("json_format", [True, False])
def test_every_line_carries_the_request_id_of_its_context(json_format: bool) -> None:
    formatter = (
        request_log.JsonFormatter() if json_format else logging.Formatter(request_log.TEXT_FORMAT)
    )
    handler, stream = _handler(formatter)
    logger = logging.getLogger("bgone.tests.request_id")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("outside")
        begun = request_log.begin("abc123")
        logger.info("inside")
        request_log.REQUEST_ID.reset(begun.request_id)
        metrics.request_timings.reset(begun.timings)
        logger.info("after")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    if json_format:
        ids = [json.loads(line)["request_id"] for line in lines]
    else:
        ids = [line.split("[", 1)[1].split("]", 1)[0] for line in lines]
    assert ids == ["-", "abc123", "-"]


def test_the_spool_gauge_follows_the_journal(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal")
    entry = UsageEntry(request_id="r1", at=datetime.now(UTC), endpoint="POST /v2", status=200)
    try:
        journal.spool([FinalRow(entry, None), FinalRow(replace(entry, request_id="r2"), None)])
        assert sample("bgone_usage_spool_rows") == 2
        journal.clear_spool()
        assert sample("bgone_usage_spool_rows") == 0
    finally:
        journal.close()
