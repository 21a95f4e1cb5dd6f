"""The account page's members section, and switching between one's accounts.

Roles are checked twice over: `needs` refuses a viewer without MANAGE_MEMBERS, and the
domain refuses what the table cannot say (owners are the owners' business, one owner always
remains). A member of another account is not found, as if there were none.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.members import MemberChange
from bgone.domain.roles import Permission, parse_role
from bgone.errors import BgoneError, NotFound
from bgone.server.deps import ServicesDep, Viewer, client_ip
from bgone.web.account import _page, key_actor
from bgone.web.viewer import EnrollingDep, check_csrf, needs

router = APIRouter(include_in_schema=False)

ManagesMembersDep = Annotated[Viewer, Depends(needs(Permission.MANAGE_MEMBERS, "managing members"))]


def member_change(request: Request, viewer: Viewer) -> MemberChange:
    return MemberChange(viewer.account.id, viewer.granted, viewer.actor, client_ip(request))


@router.post("/account/members/{user_id}/role")
async def change_role(
    user_id: int,
    request: Request,
    services: ServicesDep,
    viewer: ManagesMembersDep,
    role: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        member = await run_in_threadpool(
            services.members.change_role, member_change(request, viewer), user_id, parse_role(role)
        )
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, members_error=error.detail
        )
    return RedirectResponse(
        f"/account?member={member.user_id}&role={member.role.value}#members", status_code=303
    )


@router.post("/account/members/{user_id}/remove")
async def remove_member(
    user_id: int,
    request: Request,
    services: ServicesDep,
    viewer: ManagesMembersDep,
    revoke_keys: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        removed = await run_in_threadpool(
            services.members.remove,
            member_change(request, viewer),
            user_id,
            revoke_keys == "yes",
            key_actor(request, viewer),
        )
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, members_error=error.detail
        )
    if removed.member.user_id == viewer.user.id:  # they left: this session is over
        return RedirectResponse("/account", status_code=303)
    revoked = len(removed.revoked_keys)
    return RedirectResponse(f"/account?removed={user_id}&revoked_keys={revoked}#members", 303)


# Signed in, whatever the current account's two-factor policy: a person who has not enrolled
# may still leave an account that requires it; the account switched into checks its own.
@router.post("/account/switch")
async def switch_account(
    request: Request,
    services: ServicesDep,
    viewer: EnrollingDep,
    account_id: Annotated[int, Form()] = 0,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        await run_in_threadpool(
            services.login.switch_account, viewer.token, viewer.user.id, account_id
        )
    except NotFound as error:
        return await _page(request, services, viewer, status_code=404, members_error=error.detail)
    return RedirectResponse("/account", status_code=303)


ResetsTwoFactorDep = Annotated[
    Viewer,
    Depends(needs(Permission.RESET_MEMBER_TWO_FACTOR, "resetting a member's two-factor")),
]


@router.post("/account/members/{user_id}/reset-two-factor")
async def reset_two_factor(
    user_id: int,
    request: Request,
    services: ServicesDep,
    viewer: ResetsTwoFactorDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """An owner removes a member's second factor (lost phone and recovery codes): they sign
    in with their password, and enrol again where an account requires it."""
    check_csrf(viewer, csrf_token)
    team = await run_in_threadpool(services.members.list_members, viewer.account.id)
    member = next((m for m in team if m.user_id == user_id), None)
    if member is None:
        return await _page(
            request, services, viewer, status_code=404, members_error=f"no member {user_id}"
        )
    await run_in_threadpool(
        services.two_factor.reset,
        viewer.account.id,
        member.email,
        viewer.actor,
        client_ip(request),
    )
    return RedirectResponse(f"/account?two_factor_reset={user_id}#members", status_code=303)
