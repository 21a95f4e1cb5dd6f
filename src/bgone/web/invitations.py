"""Invitations on the dashboard: owners and admins invite (the link is emailed, or else shown
once after the form's redirect, from server-side state: bgone.domain.shown_once), withdraw,
and the invited person follows the link, signs up or logs in as the invited email, and joins.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.roles import parse_role
from bgone.domain.shown_once import InvitationLink
from bgone.errors import BgoneError, NotFound
from bgone.server.deps import ServicesDep, ViewerDep, client_ip
from bgone.services.login import LoginOutcome
from bgone.web.account import _page
from bgone.web.members import ManagesMembersDep, member_change
from bgone.web.pages import (
    MIN_PASSWORD_LENGTH,
    _check_form_token,
    _form_token,
    _signed_in,
    _with_form_cookie,
)
from bgone.web.templating import render
from bgone.web.two_factor_step import to_second_step
from bgone.web.viewer import check_csrf

router = APIRouter(include_in_schema=False)


@router.post("/account/invitations")
async def invite(
    request: Request,
    services: ServicesDep,
    viewer: ManagesMembersDep,
    email: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "developer",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        invited = await run_in_threadpool(
            services.invitations.invite,
            member_change(request, viewer),
            email,
            parse_role(role),
            str(request.base_url),
        )
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, members_error=error.detail
        )
    # Redirected, so that a reload resubmits nothing; the link waits for one display.
    invitation = invited.invitation
    if invited.link is None:
        return RedirectResponse(f"/account?invited={invitation.id}#members", status_code=303)
    shown = InvitationLink(invited.link, invitation.id, invitation.role.value)
    await run_in_threadpool(services.shown_once.keep, viewer.token, shown)
    return RedirectResponse("/account#members", status_code=303)


@router.post("/account/invitations/{invitation_id}/withdraw")
async def withdraw(
    invitation_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ManagesMembersDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        await run_in_threadpool(
            services.invitations.withdraw, member_change(request, viewer), invitation_id
        )
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, members_error=error.detail
        )
    return RedirectResponse("/account?withdrawn=1#members", status_code=303)


def _invite_page(
    request: Request, services: ServicesDep, viewer: ViewerDep, token: str, status: int = 200,
    **extra: object,
) -> Response:  # fmt: skip
    try:
        invitation, known = services.invitations.look_up(token)
    except NotFound as error:
        return render(
            request, "error.html", viewer, status_code=404, title="Invitation", message=error.detail
        )
    form_token = _form_token(request)
    page = render(
        request,
        "invite.html",
        viewer,
        status_code=status,
        invitation=invitation,
        known=known,
        token=token,
        form_token=form_token,
        min_password=MIN_PASSWORD_LENGTH,
        **extra,
    )
    return _with_form_cookie(page, form_token, services)


@router.get("/invite/{token}")
async def invitation_page(
    token: str, request: Request, services: ServicesDep, viewer: ViewerDep
) -> Response:
    return await run_in_threadpool(_invite_page, request, services, viewer, token)


@router.post("/invite/{token}")
async def accept(
    token: str,
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    ip = client_ip(request)
    try:
        if viewer is not None:
            check_csrf(viewer, csrf_token)
            account_id = await run_in_threadpool(
                services.invitations.accept_as, token, viewer.user.id, viewer.user.email, ip
            )
            await run_in_threadpool(
                services.login.switch_account, viewer.token, viewer.user.id, account_id
            )
            return RedirectResponse("/account", status_code=303)
        _check_form_token(request, form_token)
        _, known = await run_in_threadpool(services.invitations.look_up, token)
        if not known and len(password) < MIN_PASSWORD_LENGTH:
            return await run_in_threadpool(
                _invite_page, request, services, viewer, token, 400,
                error=f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.",
            )  # fmt: skip
        accepted = await run_in_threadpool(
            services.invitations.accept_with_password, token, password, ip
        )
    except NotFound as error:
        return render(
            request, "error.html", viewer, status_code=404, title="Invitation", message=error.detail
        )
    if accepted.user_id is None:
        throttled = accepted.outcome is LoginOutcome.THROTTLED
        return await run_in_threadpool(
            _invite_page, request, services, viewer, token, 429 if throttled else 401,
            error="Too many attempts; wait a minute." if throttled else "Wrong password.",
        )  # fmt: skip
    # With two-factor on, the password is only the first step, here as on the log-in form;
    # the invitation is accepted already, so the second step leads to the account page.
    challenge = await run_in_threadpool(services.two_factor.begin, accepted.user_id, "/account")
    if challenge is not None:
        return to_second_step(challenge, services.settings.secure_cookies)
    return await run_in_threadpool(
        _signed_in, services, accepted.user_id, ip, "/account", accepted.account_id
    )
