"""The owners' part of the account page: hand ownership over, and delete the account
(bgone.services.account_closing). Both need the owner's role (`needs`), and deleting needs
the account's email typed in: a forged or stray form post closes nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.roles import Permission
from bgone.errors import BgoneError
from bgone.server.deps import ServicesDep, Viewer, ViewerDep
from bgone.web.account import _page
from bgone.web.members import member_change
from bgone.web.templating import render
from bgone.web.viewer import check_csrf, needs

router = APIRouter(include_in_schema=False)

DeletesAccountDep = Annotated[
    Viewer, Depends(needs(Permission.DELETE_ACCOUNT, "deleting the account"))
]
TransfersOwnershipDep = Annotated[
    Viewer, Depends(needs(Permission.MANAGE_OWNERS, "transferring ownership"))
]


@router.post("/account/transfer-ownership")
async def transfer_ownership(
    request: Request,
    services: ServicesDep,
    viewer: TransfersOwnershipDep,
    user_id: Annotated[int, Form()] = 0,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        await run_in_threadpool(
            services.account_closing.transfer_ownership,
            member_change(request, viewer),
            viewer.user.id,
            user_id,
        )
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, owner_error=error.detail
        )
    return RedirectResponse(f"/account?member={user_id}&role=owner#members", status_code=303)


@router.post("/account/delete")
async def delete_account(
    request: Request,
    services: ServicesDep,
    viewer: DeletesAccountDep,
    confirm_email: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        await run_in_threadpool(
            services.account_closing.close, member_change(request, viewer), confirm_email
        )
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, owner_error=error.detail
        )
    # This session ended with the account's: the answer page is for anyone.
    return RedirectResponse("/account-deleted", status_code=303)


@router.get("/account-deleted")
async def account_deleted(request: Request, viewer: ViewerDep) -> Response:
    return render(
        request,
        "message.html",
        viewer,
        title="Account deleted",
        ok=True,
        message=(
            "The account is deleted: its keys are revoked and its members signed out. "
            "Its usage records stay with the operator of this server."
        ),
        link="/",
        link_text="Back to the home page",
    )
