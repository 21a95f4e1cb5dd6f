"""Landing, sign-up, log-in and log-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.web_sessions import COOKIE_NAME, SESSION_LIFETIME
from bgone.errors import AccountExists, CsrfFailed, InvalidEmail, NotFound
from bgone.security.csrf import issue_token, tokens_match
from bgone.server.container import Services
from bgone.server.deps import ServicesDep, ViewerDep, client_ip
from bgone.services.login import LoginOutcome
from bgone.web.templating import render
from bgone.web.two_factor_step import to_second_step
from bgone.web.viewer import check_csrf

router = APIRouter(include_in_schema=False)

# Forms shown before a session exists carry their CSRF token in this cookie instead.
FORM_COOKIE = "bgone_form"
MIN_PASSWORD_LENGTH = 10
WRONG_CREDENTIALS = "That email and password do not match an account."
NO_ACCOUNT_LEFT = "This login belongs to no account any more: ask an account's owner to add you."


def _form_token(request: Request) -> str:
    return request.cookies.get(FORM_COOKIE) or issue_token()


def _with_form_cookie(response: Response, token: str, services: Services) -> Response:
    response.set_cookie(
        FORM_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=services.settings.secure_cookies,
        max_age=3600,
    )
    return response


def _check_form_token(request: Request, submitted: str) -> None:
    if not tokens_match(request.cookies.get(FORM_COOKIE), submitted):
        raise CsrfFailed("This form has expired. Reload the page and try again.")


def _signed_in(
    services: Services,
    user_id: int,
    ip: str | None,
    target: str,
    account_id: int | None = None,
    user_agent: str | None = None,
) -> Response:
    token = services.login.start_session(user_id, ip, account_id, user_agent)
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="lax",
        secure=services.settings.secure_cookies,
        max_age=int(SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(FORM_COOKIE)
    return response


def _safe_next(target: str) -> str:
    # Only same-site paths: never an open redirect to another host.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/account"


@router.get("/")
async def landing(request: Request, viewer: ViewerDep) -> Response:
    return render(request, "landing.html", viewer)


@router.get("/signup")
async def signup_form(request: Request, viewer: ViewerDep, services: ServicesDep) -> Response:
    if viewer:
        return RedirectResponse("/account", status_code=303)
    token = _form_token(request)
    page = render(
        request, "signup.html", None, form_token=token, enabled=services.settings.signup_enabled
    )
    return _with_form_cookie(page, token, services)


@router.post("/signup")
async def signup(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    form_token: Annotated[str, Form()] = "",
) -> Response:
    _check_form_token(request, form_token)
    token = _form_token(request)
    problem = None
    if not services.settings.signup_enabled:
        problem = "Sign-up is closed on this server; ask its operator for an account."
    elif len(password) < MIN_PASSWORD_LENGTH:
        problem = f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    if problem is None:
        try:
            user_id = await run_in_threadpool(
                services.login.sign_up, email, password, services.settings.signup_plan
            )
        except (AccountExists, InvalidEmail) as error:
            problem = (
                error.detail[:1].upper()
                + error.detail[1:]
                + ". "
                + ("Log in instead?" if isinstance(error, AccountExists) else "")
            )
        else:
            # With a mailer, the address must be proven before keys (web/security.py).
            await run_in_threadpool(services.account_security.after_sign_up, user_id)
            return await run_in_threadpool(
                _signed_in,
                services,
                user_id,
                client_ip(request),
                "/account",
                None,
                request.headers.get("user-agent"),
            )
    page = render(
        request,
        "signup.html",
        None,
        status_code=400,
        form_token=token,
        error=problem,
        email=email,
        enabled=services.settings.signup_enabled,
    )
    return _with_form_cookie(page, token, services)


@router.get("/login")
async def login_form(
    request: Request, viewer: ViewerDep, services: ServicesDep, next: str = "/account"
) -> Response:
    if viewer:
        return RedirectResponse(_safe_next(next), status_code=303)
    token = _form_token(request)
    return _with_form_cookie(
        render(request, "login.html", None, form_token=token, next=_safe_next(next)),
        token,
        services,
    )


@router.post("/login")
async def login(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    form_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/account",
) -> Response:
    _check_form_token(request, form_token)
    ip = client_ip(request)
    result = await run_in_threadpool(services.login.log_in, email, password, ip)
    token = _form_token(request)
    if result.outcome is LoginOutcome.THROTTLED:
        page = render(
            request,
            "login.html",
            None,
            status_code=429,
            form_token=token,
            next=_safe_next(next),
            email=email,
            error="Too many attempts. For your security, wait a minute before trying again.",
        )
        page.headers["Retry-After"] = "60"
        return _with_form_cookie(page, token, services)
    if result.user_id is None:
        page = render(
            request,
            "login.html",
            None,
            status_code=401,
            form_token=token,
            next=_safe_next(next),
            email=email,
            error=WRONG_CREDENTIALS,
        )
        return _with_form_cookie(page, token, services)
    # With two-factor on, the password is only the first step (bgone.web.two_factor).
    challenge = await run_in_threadpool(services.two_factor.begin, result.user_id, _safe_next(next))
    if challenge is not None:
        return to_second_step(challenge, services.settings.secure_cookies)
    try:
        return await run_in_threadpool(
            _signed_in, services, result.user_id, ip, next, None, request.headers.get("user-agent")
        )
    except NotFound:  # removed from every account they had
        page = render(
            request,
            "login.html",
            None,
            status_code=403,
            form_token=token,
            next=_safe_next(next),
            email=email,
            error=NO_ACCOUNT_LEFT,
        )
        return _with_form_cookie(page, token, services)


@router.post("/logout")
async def logout(
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if viewer is not None:
        check_csrf(viewer, csrf_token)
        await run_in_threadpool(services.login.end_session, viewer.token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE_NAME)
    return response
