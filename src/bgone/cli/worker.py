"""`bgone worker`: run batch-job items from the task queue, beside or apart from the API.

Run any number, on any machine that shares the database, Redis (when set) and
`BGONE_RESULT_DIR`. A worker is a replica without HTTP: the same container (model pool,
thread plan, pools, usage writer), so its memory is bounded like a replica's. With
`--processes N` it starts N worker processes that split the machine's cores between them,
unless `BGONE_INTRA_OP_THREADS` says otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

import typer

from bgone.settings import Settings

log = logging.getLogger("bgone.worker")


def worker(
    processes: int = typer.Option(
        1, min=1, help="Worker processes to start; the cores are split across them."
    ),
) -> None:
    """Run batch-job items from the task queue until SIGTERM (applies migrations first)."""
    if processes > 1:
        raise typer.Exit(_supervise(processes))
    _run_one()


def _run_one() -> None:
    from bgone.db.migrate import upgrade
    from bgone.infra import metrics
    from bgone.infra.malloc_arenas import limit_malloc_arenas
    from bgone.server.container import Services
    from bgone.server.request_log import configure_logging

    os.umask(0o077)
    settings = Settings()
    limit_malloc_arenas(settings.malloc_arenas)  # before the model's threads start
    lower_priority(settings.worker_nice)
    if settings.metrics_multiprocess_dir is not None:
        # A worker's charges and engine timings are scraped from the API replica that
        # shares the directory (a worker serves no HTTP, so no /metrics of its own).
        metrics.use_multiprocess(settings.metrics_multiprocess_dir)
    configure_logging(settings.log_format, settings.log_level)
    upgrade(settings.database_url)
    sys.setswitchinterval(0.001)  # as `bgone serve`: model threads hand back the GIL quickly
    # A worker's items need no answer at once: the model's side-by-side copy (for runs that
    # overlap) is loaded by the first run that needs it, not at start (a 12 MP item never).
    services = Services.open(settings, migrate=False, warm_side_by_side=False)
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, name="bgone-worker-loop", daemon=True)
    runner.start()

    async def build() -> None:
        services.job_consumer_for(asyncio.get_running_loop())

    asyncio.run_coroutine_threadsafe(build(), loop).result()
    consumer = services.job_consumer
    assert consumer is not None
    log.info(
        "bgone worker ready: %d threads, model %s, %s",
        settings.pipeline_workers,
        settings.default_model,
        services.engine.url.render_as_string(hide_password=True),
    )
    try:
        consumer.run()  # Huey's own loop: SIGTERM finishes the items in hand, then stops
    finally:
        services.job_consumer = None  # stopped by its run
        services.close()
        loop.call_soon_threadsafe(loop.stop)


def lower_priority(by: int) -> None:
    """Raise the nice value of every thread of this process by `by`. Linux keeps one per
    thread and a new thread inherits its starter's, so the threads started later (the
    model's) follow the main one; those already running (numpy's, started at import) are
    changed one by one."""
    if by <= 0:
        return
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():  # not Linux: the process's one value
        os.nice(by)
        return
    for task in tasks.iterdir():
        thread_id = int(task.name)
        try:
            niceness = os.getpriority(os.PRIO_PROCESS, thread_id)
            os.setpriority(os.PRIO_PROCESS, thread_id, min(19, niceness + by))
        except (ProcessLookupError, PermissionError):  # ended meanwhile, or not ours to lower
            continue


def _supervise(processes: int) -> int:
    """Start `processes` single workers, each with its share of the cores; forward SIGTERM
    and SIGINT; return once every one has ended."""
    env = dict(os.environ)
    if "BGONE_INTRA_OP_THREADS" not in env:
        env["BGONE_INTRA_OP_THREADS"] = str(max(1, (os.cpu_count() or 1) // processes))
    children = [
        subprocess.Popen([sys.executable, "-m", "bgone", "worker"], env=env)
        for _ in range(processes)
    ]

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    return max(codes, default=0)
