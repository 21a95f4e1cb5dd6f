"""The process's Prometheus metrics: one registry, the metric objects, small observe helpers.

Everything is named `bgone_*` (the README lists them). The helpers never raise: a metric is
never a reason for a request to fail. Labelled series that a dashboard reads are created at
import (with their known label values), so a scrape shows them at 0 before the first event.

Gauges say how several processes add up (`multiprocess_mode`), for prometheus_client's
multiprocess mode, which `use_multiprocess` switches on (BGONE_METRICS_MULTIPROCESS_DIR):
processes of one server share a directory and a scrape sums them; replicas on other hosts
are each scraped on their own.

Per-request stage timings also go to the request in progress (`request_timings`), for its
log line; the request's context variable is set by the HTTP middleware and travels into
worker threads with the context (anyio copies it, the work queue copies it).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

REGISTRY = CollectorRegistry(auto_describe=True)

# Seconds, from a small upload's few milliseconds to a 50 MP photo's best quality.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
STAGES = ("queue_wait", "download", "decode", "resize", "inference", "refine", "compose", "encode")
POOLS = ("download", "decode", "inference")
# "full": the pool was full (503 server_busy); "account_share": the account's share of it
# was (429 concurrency_limit_exceeded).
REJECTIONS = tuple((pool, reason) for pool in POOLS for reason in ("full", "account_share"))
DATABASE_OPERATIONS = ("usage_write", "usage_recovery", "readiness")
REDIS_COMPONENTS = ("ratelimit", "keycache")

REQUESTS = Counter(
    "bgone_requests",
    "HTTP requests answered, by endpoint (method and route), status and error code.",
    ["endpoint", "status", "code"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "bgone_request_seconds",
    "Time from a request's first byte to its answer's last, by endpoint.",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
STAGE_SECONDS = Histogram(
    "bgone_stage_seconds",
    "Time spent in one stage of a removal (queue_wait, download, decode, resize, inference, "
    "refine, compose, encode), by model where the stage runs one.",
    ["stage", "model"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
POOL_IN_USE = Gauge(
    "bgone_pool_in_use",
    "Slots of a bounded pool in use (running or waiting).",
    ["pool"],
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "bgone_pool_size",
    "Slots a bounded pool has (running and waiting together).",
    ["pool"],
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
QUEUE_DEPTH = Gauge(
    "bgone_queue_depth",
    "Requests waiting for a pool's worker (in use beyond its workers).",
    ["pool"],
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
POOL_REJECTIONS = Counter(
    "bgone_pool_rejections",
    "Requests a bounded pool refused (e.g. 503 server_busy), by pool and reason.",
    ["pool", "reason"],
    registry=REGISTRY,
)
PACED_REFUSALS = Counter(
    "bgone_paced_refusals",
    "Refusals answered after a delay: the account kept resending faster than it was told.",
    registry=REGISTRY,
)
CREDITS_CHARGED = Counter(
    "bgone_credits_charged",
    "Credits charged by requests whose usage row was written.",
    registry=REGISTRY,
)
DATABASE_ERRORS = Counter(
    "bgone_database_errors",
    "Database failures by operation (usage rows spooled, replays postponed, readiness).",
    ["operation"],
    registry=REGISTRY,
)
REDIS_ERRORS = Counter(
    "bgone_redis_errors",
    "Redis failures by component (rate limits, key cache invalidation).",
    ["component"],
    registry=REGISTRY,
)
REDIS_FALLBACKS = Counter(
    "bgone_redis_fallbacks",
    "Operations served by the per-replica fallback while Redis was unreachable.",
    ["component"],
    registry=REGISTRY,
)


def _spool_gauge() -> Gauge:
    return Gauge(
        "bgone_usage_spool_rows",
        "Usage rows in this process's journal spool, waiting for the database.",
        registry=REGISTRY,
        multiprocess_mode="livesum",
    )


USAGE_SPOOL_ROWS = _spool_gauge()
# Series without labels hold their one value from their creation: remade on the switch.
UNLABELLED = (CREDITS_CHARGED, PACED_REFUSALS)
LABELLED = (
    REQUESTS,
    REQUEST_SECONDS,
    STAGE_SECONDS,
    POOL_IN_USE,
    POOL_SIZE,
    QUEUE_DEPTH,
    POOL_REJECTIONS,
    DATABASE_ERRORS,
    REDIS_ERRORS,
    REDIS_FALLBACKS,
)


def _known_series() -> None:
    for pool in POOLS:
        POOL_IN_USE.labels(pool)
        POOL_SIZE.labels(pool)
        QUEUE_DEPTH.labels(pool)
    for pool, reason in REJECTIONS:
        POOL_REJECTIONS.labels(pool, reason)
    for operation in DATABASE_OPERATIONS:
        DATABASE_ERRORS.labels(operation)
    for component in REDIS_COMPONENTS:
        REDIS_ERRORS.labels(component)
        REDIS_FALLBACKS.labels(component)


_known_series()
# Set by use_multiprocess: the directory every process of the server writes its values in.
_multiprocess_dir: Path | None = None


def use_multiprocess(directory: Path) -> None:
    """prometheus_client's multiprocess mode (BGONE_METRICS_MULTIPROCESS_DIR): each process
    keeps its values in memory-mapped files in `directory` and a scrape of any of them sums
    every process's. Called once at start-up, before any value is recorded.

    The library decides where values live when a series is made (its `values.ValueClass`,
    and the directory in its own PROMETHEUS_MULTIPROC_DIR variable): the series made at
    import are made again after the switch."""
    global USAGE_SPOOL_ROWS, _multiprocess_dir
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    for metric in LABELLED:
        metric.clear()
    for unlabelled in UNLABELLED:
        unlabelled._metric_init()  # its value, made again in the files
    REGISTRY.unregister(USAGE_SPOOL_ROWS)
    USAGE_SPOOL_ROWS = _spool_gauge()
    _known_series()
    _multiprocess_dir = directory


def process_exiting() -> None:
    """In multiprocess mode, this process's live gauges leave the sums (its files of
    counters and histograms stay: what it counted was counted)."""
    if _multiprocess_dir is not None:
        multiprocess.mark_process_dead(os.getpid(), str(_multiprocess_dir))  # type: ignore[no-untyped-call]


# The stage timings of the request in progress (seconds), for its log line.
request_timings: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar(
    "bgone_request_timings", default=None
)


def exposition() -> bytes:
    """The registry in Prometheus' text format; in multiprocess mode, every process's."""
    if _multiprocess_dir is None:
        return generate_latest(REGISTRY)
    summed = CollectorRegistry()
    multiprocess.MultiProcessCollector(summed, path=str(_multiprocess_dir))  # type: ignore[no-untyped-call]
    return generate_latest(summed)


def observe_request(endpoint: str, status: int, code: str, seconds: float) -> None:
    REQUESTS.labels(endpoint, str(status), code).inc()
    REQUEST_SECONDS.labels(endpoint).observe(seconds)


def observe_stage(stage: str, seconds: float, model: str = "") -> None:
    STAGE_SECONDS.labels(stage, model).observe(seconds)
    timings = request_timings.get()
    if timings is not None:
        timings[stage] = timings.get(stage, 0.0) + seconds


@contextmanager
def timed_stage(stage: str, model: str = "") -> Iterator[None]:
    started = perf_counter()
    try:
        yield
    finally:
        observe_stage(stage, perf_counter() - started, model)


def observe_engine_timings(timings: Mapping[str, float], models: tuple[str, ...]) -> None:
    """An engine result's stage timings; inference is labelled with the models that ran."""
    model = "+".join(models)
    for stage, seconds in timings.items():
        observe_stage(stage, seconds, model if stage == "inference" else "")


def observe_pool(name: str, in_use: int, size: int, workers: int | None = None) -> None:
    """A bounded pool's state: `in_use` of `size` slots; beyond `workers` they wait."""
    POOL_IN_USE.labels(name).set(in_use)
    POOL_SIZE.labels(name).set(size)
    if workers is not None:
        QUEUE_DEPTH.labels(name).set(max(0, in_use - workers))


def count_rejection(name: str, reason: str) -> None:
    POOL_REJECTIONS.labels(name, reason).inc()


def count_paced_refusal() -> None:
    PACED_REFUSALS.inc()


def count_credits_charged(milli: int) -> None:
    if milli > 0:
        CREDITS_CHARGED.inc(milli / 1000)


def count_database_error(operation: str) -> None:
    DATABASE_ERRORS.labels(operation).inc()


def count_redis_error(component: str) -> None:
    REDIS_ERRORS.labels(component).inc()


def count_redis_fallback(component: str) -> None:
    REDIS_FALLBACKS.labels(component).inc()


def set_usage_spool_rows(rows: int) -> None:
    USAGE_SPOOL_ROWS.set(rows)
