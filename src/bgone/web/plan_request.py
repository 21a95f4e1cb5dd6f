"""The account page's "Request API access": an owner or admin picks a plan and says what
for; a self-serve plan (BGONE_SELF_SERVE_PLANS) is switched to at once, any other waits for
the operator's answer, which the API Access card then shows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.roles import Permission
from bgone.errors import BgoneError
from bgone.server.deps import ServicesDep, Viewer
from bgone.web.account import _page, key_actor
from bgone.web.viewer import check_csrf, needs

router = APIRouter(include_in_schema=False)
RequestsPlanDep = Annotated[Viewer, Depends(needs(Permission.REQUEST_PLAN, "requesting a plan"))]


@router.post("/account/plan-request")
async def request_plan(
    request: Request,
    services: ServicesDep,
    viewer: RequestsPlanDep,
    plan: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        asked = await run_in_threadpool(
            services.plan_requests.ask, key_actor(request, viewer), plan, purpose
        )
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, plan_request_error=error.detail
        )
    outcome = "switched" if asked.switched is not None else "requested"
    return RedirectResponse(f"/account?plan={outcome}#api-access", status_code=303)
