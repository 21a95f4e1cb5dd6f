"""Signing in safely: forgotten passwords, email verification, password change and the
sessions list (the use cases are bgone.services.account_security).

Forms before a session exists use the log-in form's double-submit cookie; signed-in forms
the session's CSRF token. No page reads the request's Host header: links come from
BGONE_PUBLIC_URL.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.web_sessions import COOKIE_NAME
from bgone.server.deps import ServicesDep, ViewerDep, client_ip
from bgone.services.account_security import ResetRequest
from bgone.web.pages import (
    MIN_PASSWORD_LENGTH,
    _check_form_token,
    _form_token,
    _with_form_cookie,
)
from bgone.web.templating import render
from bgone.web.viewer import SignedInDep, check_csrf

router = APIRouter(include_in_schema=False)

THROTTLED = "Too many reset requests. Wait a minute before asking again."


def _to_security(code: str) -> Response:
    return RedirectResponse(f"/account?security={code}#security", status_code=303)


@router.get("/forgot-password")
async def forgot_password_form(request: Request, services: ServicesDep) -> Response:
    token = _form_token(request)
    page = render(
        request,
        "forgot_password.html",
        None,
        form_token=token,
        mail_enabled=services.account_security.mail_enabled,
    )
    return _with_form_cookie(page, token, services)


@router.post("/forgot-password")
async def forgot_password(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form()],
    form_token: Annotated[str, Form()] = "",
) -> Response:
    _check_form_token(request, form_token)
    outcome = await run_in_threadpool(
        services.account_security.request_password_reset, email, client_ip(request)
    )
    token = _form_token(request)
    status_code = 429 if outcome is ResetRequest.THROTTLED else 200
    page = render(
        request,
        "forgot_password.html",
        None,
        status_code=status_code,
        form_token=token,
        mail_enabled=outcome is not ResetRequest.NO_MAIL,
        sent=outcome is ResetRequest.ACCEPTED,
        error=THROTTLED if outcome is ResetRequest.THROTTLED else None,
        email=email,
    )
    if outcome is ResetRequest.THROTTLED:
        page.headers["Retry-After"] = "60"
    return _with_form_cookie(page, token, services)


@router.get("/reset-password")
async def reset_password_form(request: Request, services: ServicesDep, token: str = "") -> Response:
    usable = await run_in_threadpool(services.account_security.reset_link_usable, token)
    form_token = _form_token(request)
    page = render(
        request,
        "reset_password.html",
        None,
        status_code=200 if usable else 400,
        form_token=form_token,
        token=token,
        usable=usable,
        min_length=MIN_PASSWORD_LENGTH,
    )
    # The token stays out of other sites' Referer headers.
    page.headers["Referrer-Policy"] = "no-referrer"
    return _with_form_cookie(page, form_token, services)


@router.post("/reset-password")
async def reset_password(
    request: Request,
    services: ServicesDep,
    token: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    _check_form_token(request, form_token)
    if len(password) < MIN_PASSWORD_LENGTH:
        usable = await run_in_threadpool(services.account_security.reset_link_usable, token)
        page = render(
            request,
            "reset_password.html",
            None,
            status_code=400,
            form_token=form_token,
            token=token,
            usable=usable,
            min_length=MIN_PASSWORD_LENGTH,
            error=f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.",
        )
        page.headers["Referrer-Policy"] = "no-referrer"
        return page
    user_id = await run_in_threadpool(
        services.account_security.reset_password, token, password, client_ip(request)
    )
    if user_id is None:
        page = render(
            request,
            "reset_password.html",
            None,
            status_code=400,
            form_token=form_token,
            token="",
            usable=False,
            min_length=MIN_PASSWORD_LENGTH,
        )
        return page
    response = RedirectResponse("/login?reset=done", status_code=303)
    response.delete_cookie(COOKIE_NAME)
    return response


@router.get("/verify-email")
async def verify_email(
    request: Request, services: ServicesDep, viewer: ViewerDep, token: str = ""
) -> Response:
    verified = await run_in_threadpool(services.account_security.verify_email, token)
    page = render(
        request,
        "message.html",
        viewer,
        status_code=200 if verified else 400,
        ok=verified,
        title="Email confirmed" if verified else "Link not valid",
        message=(
            "Thank you: your email address is confirmed, and you can create API keys."
            if verified
            else "This confirmation link is invalid, has expired or has been used already. "
            "Log in and ask for a new one from your account page."
        ),
        link="/account" if viewer else "/login",
        link_text="Go to my account" if viewer else "Log in",
    )
    page.headers["Referrer-Policy"] = "no-referrer"
    return page


@router.post("/account/verify-email/resend")
async def resend_verification(
    services: ServicesDep, viewer: SignedInDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(viewer, csrf_token)
    await run_in_threadpool(services.account_security.resend_verification, viewer.user.id)
    return _to_security("verification-sent")


@router.post("/account/password")
async def change_password(
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    if len(new_password) < MIN_PASSWORD_LENGTH:
        return _to_security("short-password")
    changed = await run_in_threadpool(
        services.account_security.change_password,
        viewer.user.id,
        current_password,
        new_password,
        viewer.token,
        client_ip(request),
    )
    return _to_security("password-changed" if changed else "wrong-password")


@router.post("/account/sessions/end-all")
async def end_all_sessions(
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    await run_in_threadpool(
        services.account_security.end_all_sessions,
        viewer.user.id,
        client_ip(request),
        viewer.actor,
    )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME)
    return response


@router.post("/account/sessions/{session_id}/end")
async def end_session(
    session_id: str,
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    ended = await run_in_threadpool(
        services.account_security.end_session,
        viewer.user.id,
        session_id,
        client_ip(request),
        viewer.actor,
    )
    return _to_security("session-ended" if ended else "no-session")
