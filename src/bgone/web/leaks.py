"""The account page's leaked-key parts: the banner's dismiss button and the 'warn only' choice.

The banner itself is rendered by the account page (bgone.web.account) from the account's
undismissed reports; reports arrive through `POST /v1/keys/leaked`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.leaks import LeakedKeyAction
from bgone.server.deps import ServicesDep, client_ip
from bgone.web.viewer import SignedInDep, check_csrf

router = APIRouter(include_in_schema=False)


@router.post("/account/leaked-keys")
async def save_leak_setting(
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    warn_only: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    # owners only once roles land: for now the account's signed-in user decides.
    action = LeakedKeyAction.WARN if warn_only else LeakedKeyAction.REVOKE
    actor = f"dashboard:{viewer.account.email}"
    await run_in_threadpool(
        services.leaks.set_action, viewer.account.id, action, actor, client_ip(request)
    )
    return RedirectResponse("/account?leaked_keys=saved#leaked-keys", status_code=303)


@router.post("/account/leak-reports/{report_id}/dismiss")
async def dismiss_report(
    report_id: int,
    services: ServicesDep,
    viewer: SignedInDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    # owners and admins only once roles land.
    await run_in_threadpool(services.leaks.dismiss, viewer.account.id, report_id)
    return RedirectResponse("/account#leaked-keys", status_code=303)
