"""The account page's "Browser origins" form: where the account's keys may be sent from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.roles import Permission
from bgone.errors import InvalidOrigin
from bgone.server.deps import ServicesDep, Viewer
from bgone.web.account import _page, key_actor
from bgone.web.viewer import check_csrf, needs

router = APIRouter(include_in_schema=False)


@router.post("/account/origins")
async def save_origins(
    request: Request,
    services: ServicesDep,
    viewer: Annotated[Viewer, Depends(needs(Permission.SET_ORIGINS, "changing browser origins"))],
    origins: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        await run_in_threadpool(
            services.keys.set_allowed_origins,
            viewer.account.id,
            origins.split(),
            key_actor(request, viewer),
        )
    except InvalidOrigin as error:
        return await _page(
            request, services, viewer, status_code=error.status, origins_error=error.detail
        )
    return RedirectResponse("/account?origins=saved#browser-origins", status_code=303)
