"""`bgone serve` and `bgone db`."""

from __future__ import annotations

import os
import sys

import typer
import uvicorn
from fastapi import FastAPI

from bgone.cli.common import console
from bgone.db.migrate import current_revision, head_revision, upgrade
from bgone.server.http_timeouts import protocol_class
from bgone.settings import Settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def serve(
    host: str | None = typer.Option(None, help="Interface (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default 8000)."),
) -> None:
    """Run the API server (applies database migrations first)."""
    from bgone.infra import metrics
    from bgone.infra.malloc_arenas import limit_malloc_arenas
    from bgone.server.app import create_app
    from bgone.server.metrics_http import MetricsServer
    from bgone.server.request_log import configure_logging

    # Whatever the server writes into the data directory (the database and its log, the
    # secret, the usage journal) is the operator's alone: files 0600, directories 0700.
    os.umask(0o077)
    settings = Settings()
    limit_malloc_arenas(settings.malloc_arenas)  # before the model's threads start
    if settings.metrics_multiprocess_dir is not None:
        metrics.use_multiprocess(settings.metrics_multiprocess_dir)
    configure_logging(settings.log_format, settings.log_level)
    upgrade(settings.database_url)
    # Threads (model runs, the usage writer) hand the interpreter back to the event loop
    # after 1 ms instead of 5: short requests no longer queue behind long Python stretches.
    sys.setswitchinterval(0.001)
    metrics_server = None
    if settings.metrics_port is not None and settings.metrics_port == (port or settings.port):
        console.print("error: BGONE_METRICS_PORT must differ from the API's port")
        raise typer.Exit(2)
    if settings.metrics_port is not None:
        metrics_server = MetricsServer(
            host or settings.host, settings.metrics_port, settings.metrics_token
        ).start()
    try:
        _run(create_app(settings), settings, host, port)
    finally:
        if metrics_server is not None:
            metrics_server.stop()
        metrics.process_exiting()


def _run(app: FastAPI, settings: Settings, host: str | None, port: int | None) -> None:
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        timeout_graceful_shutdown=30,
        log_level="info",
        # Logging is configured above (one handler, the request id on every line); the
        # request line (BGONE_ACCESS_LOG, server/request_log.py) replaces the access log.
        log_config=None,
        access_log=False,
        # X-Forwarded-For and -Proto only from the proxies the operator names; uvicorn's own
        # default would believe them from 127.0.0.1, i.e. from anything on this host.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        # uvicorn's HTTP/1.1 with deadlines for a request's headers and body (slow clients).
        http=protocol_class(settings.header_timeout_seconds, settings.body_timeout_seconds),
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all pending migrations."""
    settings = Settings()
    upgrade(settings.database_url)
    console.print(f"database at revision {current_revision(settings.database_url)}")


@db_app.command("current")
def db_current() -> None:
    """Show the applied and the latest revision."""
    settings = Settings()
    console.print(f"applied: {current_revision(settings.database_url)}, latest: {head_revision()}")
