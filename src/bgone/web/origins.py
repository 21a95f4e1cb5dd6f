"""The account page's "Browser origins" form: where the account's keys may be sent from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.db.engine import transaction
from bgone.domain import api_keys
from bgone.domain.origins import set_allowed_origins
from bgone.errors import InvalidOrigin
from bgone.server.deps import ServicesDep
from bgone.web.account import _page
from bgone.web.viewer import SignedInDep, check_csrf

router = APIRouter(include_in_schema=False)


@router.post("/account/origins")
async def save_origins(
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    origins: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)

    def save() -> list[str]:
        with transaction(services.sessions) as session:
            set_allowed_origins(session, viewer.account.id, origins.split())
            return [record.id for record in api_keys.list_keys(session, viewer.account.id)]

    try:
        key_ids = await run_in_threadpool(save)
    except InvalidOrigin as error:
        return await _page(
            request, services, viewer, status_code=error.status, origins_error=error.detail
        )

    def forget() -> None:
        # Cached key answers carry the old list: drop them here and on every other replica.
        for key_id in key_ids:
            services.key_cache.invalidate(key_id)

    await run_in_threadpool(forget)
    return RedirectResponse("/account?origins=saved#browser-origins", status_code=303)
