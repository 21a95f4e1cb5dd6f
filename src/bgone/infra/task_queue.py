"""The task queue: a Huey instance on the storage the deployment already has.

Batch-job items and webhook deliveries are Huey tasks. The storage follows the database
and Redis settings, so no new server is needed: Redis when `BGONE_REDIS_URL` is set (its
blocking pop wakes a consumer at once), else PostgreSQL when the database is PostgreSQL
(Huey's SQL storage, through peewee), else a SQLite file beside the embedded database.

Huey does not redeliver a task whose consumer died mid-run; callers that need that keep
their own lease rows and re-enqueue (the jobs reaper). Periodic tasks are enqueued by every
consumer's scheduler; `bgone.domain.periodic_claims` makes each slot run once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from bgone.settings import Settings

QUEUE_NAME = "tasks"
OPEN_ATTEMPTS = 5


def storage_kind(settings: Settings) -> str:
    """ "redis", "postgresql" or "sqlite": where this deployment's tasks are kept."""
    if settings.redis_url:
        return "redis"
    if settings.database_url.startswith(("postgresql", "postgres")):
        return "postgresql"
    return "sqlite"


def peewee_database_url(database_url: str) -> str:
    """The SQLAlchemy PostgreSQL URL as peewee spells it (psycopg 3, the driver we ship)."""
    parts = urlsplit(database_url)
    return urlunsplit(("psycopg3", parts.netloc, parts.path, parts.query, parts.fragment))


def build_task_queue(settings: Settings, *, immediate: bool = False) -> Huey:
    """The deployment's Huey. `immediate` runs tasks in the caller (the fast unit tier)."""
    name = f"{settings.redis_key_prefix}-{QUEUE_NAME}"
    if immediate:
        return Huey(name, immediate=True)
    kind = storage_kind(settings)
    if kind == "redis":
        return RedisHuey(name, url=settings.redis_url, blocking=True, read_timeout=1)
    if kind == "postgresql":
        return _sql_huey(name, peewee_database_url(settings.database_url))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.data_dir / "queue.db"), timeout=10)


def _sql_huey(name: str, database_url: str) -> Huey:
    """Huey's SQL storage creates its tables as it opens (CREATE TABLE IF NOT EXISTS). Two
    processes doing it at once on an empty database: PostgreSQL lets one of them fail on
    its catalogue's unique index; the tables then exist, and opening again succeeds."""
    # Imported here: peewee is only needed by this storage.
    from huey.contrib.sql_huey import SqlHuey
    from peewee import IntegrityError

    for attempt in range(OPEN_ATTEMPTS):
        try:
            return SqlHuey(name, database=database_url)
        except IntegrityError:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class ConsumerPlan:
    """How a consumer runs: its worker threads and how fast an idle one polls."""

    workers: int = 1
    poll_seconds: float = 0.25
    periodic: bool = True


def build_consumer(queue: Huey, plan: ConsumerPlan) -> Consumer:
    """A consumer for `bgone worker` (run) or `bgone serve`'s own (start / stop).

    Threads, not processes: the work is ONNX and OpenCV, which release the GIL, and a
    thread shares the process's one loaded model.
    """
    return queue.create_consumer(
        workers=plan.workers,
        worker_type="thread",
        initial_delay=min(0.05, plan.poll_seconds),
        backoff=1.5,
        max_delay=plan.poll_seconds,
        periodic=plan.periodic,
        check_worker_health=True,
    )
