"""The account page's leaked-key parts: the banner's dismiss button and the 'warn only' choice.

The banner itself is rendered by the account page (bgone.web.account) from the account's
undismissed reports; reports arrive through `POST /v1/keys/leaked`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.leaks import LeakedKeyAction
from bgone.domain.roles import Permission
from bgone.errors import NotFound
from bgone.server.deps import ServicesDep, Viewer, client_ip
from bgone.web.viewer import check_csrf, needs

router = APIRouter(include_in_schema=False)

# The 'warn only' choice is the owners'; the banner (and dismissing it) owners' and admins'.
SetsLeakActionDep = Annotated[
    Viewer, Depends(needs(Permission.SET_LEAK_ACTION, "changing what happens to leaked keys"))
]
SeesLeaksDep = Annotated[
    Viewer, Depends(needs(Permission.VIEW_LEAK_REPORTS, "dismissing leaked-key reports"))
]


@router.post("/account/leaked-keys")
async def save_leak_setting(
    request: Request,
    services: ServicesDep,
    viewer: SetsLeakActionDep,
    warn_only: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    action = LeakedKeyAction.WARN if warn_only else LeakedKeyAction.REVOKE
    actor = viewer.actor
    await run_in_threadpool(
        services.leaks.set_action, viewer.account.id, action, actor, client_ip(request)
    )
    return RedirectResponse("/account?leaked_keys=saved#leaked-keys", status_code=303)


@router.post("/account/leak-reports/{report_id}/dismiss")
async def dismiss_report(
    report_id: int,
    services: ServicesDep,
    viewer: SeesLeaksDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    if not await run_in_threadpool(services.leaks.dismiss, viewer.account.id, report_id):
        # Another account's report (or a dismissed one): as if there were none.
        raise NotFound(f"no leak report {report_id} to dismiss")
    return RedirectResponse("/account#leaked-keys", status_code=303)
