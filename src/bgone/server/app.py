"""The ASGI application. `create_app(settings)` builds it; nothing happens at import time."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from bgone import __version__
from bgone.api.browser import BrowserCorsMiddleware
from bgone.api.openapi import install_openapi
from bgone.api.routes import account, improve, jobs, keys, leaks, removal, usage, webhooks
from bgone.inference.protocols import RemoverProtocol
from bgone.infra.task_queue import storage_kind
from bgone.server.container import Services
from bgone.server.error_handlers import install_error_handlers
from bgone.server.middleware import RequestMiddleware
from bgone.server.security_headers import SecurityHeadersMiddleware
from bgone.settings import Settings
from bgone.web import install_web

log = logging.getLogger(__name__)

DESCRIPTION = """Self-hosted background removal. Send an image with your key in the `x-api-key`
header; get a transparent PNG back. Three request contracts are accepted unchanged:
BackgroundErase (`/v2`), ByByBG (`/v1/remove-bg`) and remove.bg (`/v1.0/removebg`)."""


def create_app(settings: Settings | None = None, remover: RemoverProtocol | None = None) -> FastAPI:
    chosen = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await run_in_threadpool(Services.open, chosen, remover=remover)
        app.state.services = services
        embedded = storage_kind(chosen) == "sqlite"
        if chosen.serve_jobs == "on" or (chosen.serve_jobs == "auto" and embedded):
            # The embedded default: batch jobs run in this process, with nothing else
            # started. Elsewhere `bgone worker` processes run them.
            services.job_consumer_for(asyncio.get_running_loop()).start()
        # Everything loaded so far lives as long as the process: keep it out of the cyclic
        # garbage collector's sweeps, which otherwise pause requests for milliseconds.
        gc.collect()
        gc.freeze()
        log.info(
            "bgone ready: model %s, database %s",
            chosen.default_model,
            services.engine.url.render_as_string(hide_password=True),
        )
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="bgone",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    # Added first, so it runs inside RequestMiddleware: preflights get a usage row too.
    app.add_middleware(BrowserCorsMiddleware)
    app.add_middleware(
        RequestMiddleware,
        max_upload_bytes=chosen.max_upload_bytes,
        job_max_bytes=chosen.job_max_bytes,
    )
    # Outermost, so that every answer has them, the middleware's own 413 included.
    app.add_middleware(SecurityHeadersMiddleware, https=chosen.secure_cookies)
    app.include_router(removal.router)
    app.include_router(account.router)
    app.include_router(account.health_router)
    app.include_router(keys.router)
    app.include_router(improve.router)
    app.include_router(leaks.router)
    app.include_router(usage.router)
    app.include_router(webhooks.router)
    app.include_router(webhooks.settings_router)
    app.include_router(jobs.router)
    install_web(app)
    install_openapi(app)
    return app
