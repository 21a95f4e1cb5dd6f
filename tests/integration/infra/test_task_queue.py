"""The task queue runs real Huey consumers on each storage a deployment can have."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bgone.infra.task_queue import (
    ConsumerPlan,
    build_consumer,
    build_task_queue,
    peewee_database_url,
    storage_kind,
)
from bgone.settings import Settings
from tests.support.db_fixtures import scratch_postgres_database

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_the_storage_follows_the_deployment(tmp_path: Path) -> None:
    assert storage_kind(Settings(data_dir=tmp_path)) == "sqlite"
    postgres = "postgresql+psycopg://postgres@127.0.0.1:5432/bgone"
    assert storage_kind(Settings(data_dir=tmp_path, database_url=postgres)) == "postgresql"
    both = Settings(data_dir=tmp_path, database_url=postgres, redis_url=REDIS_URL)
    assert storage_kind(both) == "redis"
    assert peewee_database_url(postgres) == "psycopg3://postgres@127.0.0.1:5432/bgone"


def run_one_task(settings: Settings) -> str:
    queue = build_task_queue(settings)
    finished = threading.Event()
    seen: list[str] = []

    @queue.task(name="probe")
    def probe(text: str) -> None:
        seen.append(text)
        finished.set()

    consumer = build_consumer(queue, ConsumerPlan(workers=2, poll_seconds=0.1))
    consumer.start()
    try:
        probe("hello")
        assert finished.wait(10), "the consumer never ran the task"
    finally:
        consumer.stop(graceful=True)
        queue.flush()
    return seen[0]


def test_sqlite_storage_in_the_data_directory(tmp_path: Path) -> None:
    assert run_one_task(Settings(data_dir=tmp_path)) == "hello"
    assert (tmp_path / "queue.db").exists()


def test_redis_storage(tmp_path: Path, redis_url: str) -> None:
    prefix = f"bgone-test-{tmp_path.name}"
    settings = Settings(data_dir=tmp_path, redis_url=redis_url, redis_key_prefix=prefix)
    assert run_one_task(settings) == "hello"


@pytest.mark.postgres
def test_postgresql_storage(tmp_path: Path, postgres_admin: object) -> None:
    with scratch_postgres_database(postgres_admin) as url:  # type: ignore[arg-type]
        assert run_one_task(Settings(data_dir=tmp_path, database_url=url)) == "hello"


@pytest.mark.postgres
def test_processes_opening_the_postgresql_queue_at_once_all_succeed(
    tmp_path: Path, postgres_admin: object
) -> None:
    """Two replicas starting together on an empty database both create Huey's tables: one
    of the CREATE TABLEs loses a race in PostgreSQL's catalogue, and opening is retried."""
    with scratch_postgres_database(postgres_admin) as url:  # type: ignore[arg-type]
        settings = Settings(data_dir=tmp_path, database_url=url)
        barrier = threading.Barrier(8)
        failures: list[BaseException] = []

        def open_queue() -> None:
            barrier.wait()
            try:
                build_task_queue(settings).storage.close()
            except BaseException as error:  # collected: the assertion below names it
                failures.append(error)

        threads = [threading.Thread(target=open_queue) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
