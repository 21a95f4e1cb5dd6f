"""Two-factor sign-in's pages: the second step after the password, and the account's
two-factor page (enrol with an authenticator app, recovery codes, turn off, the policy).
The use cases are bgone.services.two_factor.

The QR code is made here with segno, as an SVG data URI (the CSP allows `img-src data:`); the
secret is shown as text too, for apps that cannot scan. Recovery codes are shown once, in the
answer to the post that made them, never stored in a form that can be shown again.
"""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.roles import Permission
from bgone.server.container import Services
from bgone.server.deps import ServicesDep, Viewer, ViewerDep, client_ip
from bgone.services.two_factor import CodeOutcome, Enrolment
from bgone.web.pages import _check_form_token, _form_token, _signed_in, _with_form_cookie
from bgone.web.templating import render
from bgone.web.two_factor_step import CHALLENGE_COOKIE
from bgone.web.viewer import EnrollingDep, SignedInDep, check_csrf, needs

router = APIRouter(include_in_schema=False)

PAGE = "/account/two-factor"
THROTTLED = "Too many attempts. For your security, wait a minute before trying again."


def qr_data_uri(uri: str) -> str:
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


# The account's policy is its owners' (bgone.domain.roles).
SetsPolicyDep = Annotated[
    Viewer, Depends(needs(Permission.SET_TWO_FACTOR_POLICY, "changing the two-factor policy"))
]


def _to_page(code: str) -> Response:
    return RedirectResponse(f"{PAGE}?tf={code}", status_code=303)


# -- the second step of signing in ----------------------------------------------------------
def _second_step_page(
    request: Request, services: Services, status_code: int = 200, error: str | None = None
) -> Response:
    token = _form_token(request)
    page = render(
        request, "two_factor_login.html", None, status_code, form_token=token, error=error
    )
    return _with_form_cookie(page, token, services)


@router.get("/login/two-factor")
async def second_step_form(request: Request, services: ServicesDep, viewer: ViewerDep) -> Response:
    if viewer is not None:
        return RedirectResponse("/account", status_code=303)
    found = await run_in_threadpool(
        services.two_factor.challenge, request.cookies.get(CHALLENGE_COOKIE)
    )
    if found is None:
        return RedirectResponse("/login?two_factor=expired", status_code=303)
    return _second_step_page(request, services)


@router.post("/login/two-factor")
async def second_step(
    request: Request,
    services: ServicesDep,
    code: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    _check_form_token(request, form_token)
    ip = client_ip(request)
    result = await run_in_threadpool(
        services.two_factor.verify, request.cookies.get(CHALLENGE_COOKIE), code, ip
    )
    if result.outcome is CodeOutcome.EXPIRED:
        expired = RedirectResponse("/login?two_factor=expired", status_code=303)
        expired.delete_cookie(CHALLENGE_COOKIE, path="/login")
        return expired
    if result.outcome is CodeOutcome.THROTTLED:
        page = _second_step_page(request, services, 429, THROTTLED)
        page.headers["Retry-After"] = "60"
        return page
    if result.user_id is None:
        return _second_step_page(
            request, services, 401, "That code is not right, or it was used already."
        )
    target = result.next_path
    if result.recovery_code_used:
        target = f"{PAGE}?tf=recovery-used"
    response = await run_in_threadpool(
        _signed_in, services, result.user_id, ip, target, None, request.headers.get("user-agent")
    )
    response.delete_cookie(CHALLENGE_COOKIE, path="/login")
    return response


# -- the account's two-factor page -------------------------------------------------------------
def _manage_page(
    request: Request,
    services: Services,
    viewer: Viewer,
    recovery_codes: list[str] | None = None,
) -> Response:
    state = services.two_factor.state(viewer.user.id, viewer.account.id)
    pending: Enrolment | None = None
    if not state.enabled:
        pending = services.two_factor.pending_enrolment(viewer.user.id)
    return render(
        request,
        "two_factor.html",
        viewer,
        state=state,
        pending=pending,
        qr=qr_data_uri(pending.uri) if pending else None,
        recovery_codes=recovery_codes,
        can_set_policy=Permission.SET_TWO_FACTOR_POLICY in viewer.granted,
    )


@router.get(PAGE)
async def manage(request: Request, services: ServicesDep, viewer: EnrollingDep) -> Response:
    return await run_in_threadpool(_manage_page, request, services, viewer)


@router.post(f"{PAGE}/start")
async def start(
    services: ServicesDep, viewer: EnrollingDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(viewer, csrf_token)
    await run_in_threadpool(services.two_factor.start_enrolment, viewer.user.id)
    return RedirectResponse(f"{PAGE}#enrol", status_code=303)


@router.post(f"{PAGE}/confirm")
async def confirm(
    request: Request,
    services: ServicesDep,
    viewer: EnrollingDep,
    code: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    confirmation = await run_in_threadpool(
        services.two_factor.confirm, viewer.user.id, code, client_ip(request), viewer.actor
    )
    if confirmation.outcome is CodeOutcome.THROTTLED:
        return _to_page("throttled")
    if confirmation.outcome is not CodeOutcome.OK:
        return _to_page("wrong-code")
    return await run_in_threadpool(
        _manage_page, request, services, viewer, confirmation.recovery_codes
    )


@router.post(f"{PAGE}/recovery-codes")
async def new_recovery_codes(
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    codes = await run_in_threadpool(
        services.two_factor.new_recovery_codes,
        viewer.user.id,
        client_ip(request),
        viewer.actor,
    )
    return await run_in_threadpool(_manage_page, request, services, viewer, codes)


@router.post(f"{PAGE}/disable")
async def disable(
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    proof: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    outcome = await run_in_threadpool(
        services.two_factor.disable, viewer.user.id, proof, client_ip(request), viewer.actor
    )
    return _to_page(
        {
            CodeOutcome.OK: "disabled",
            CodeOutcome.THROTTLED: "throttled",
            CodeOutcome.REQUIRED: "required-by-account",
        }.get(outcome, "wrong-proof")
    )


@router.post(f"{PAGE}/policy")
async def policy(
    request: Request,
    services: ServicesDep,
    viewer: SetsPolicyDep,
    required: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    want = required == "on"
    changed = await run_in_threadpool(
        services.two_factor.set_required,
        viewer.account.id,
        viewer.user.id,
        want,
        client_ip(request),
        viewer.actor,
    )
    if not changed:
        return _to_page("enrol-first")
    return _to_page("policy-on" if want else "policy-off")
