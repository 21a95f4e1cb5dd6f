"""The server-rendered web: dashboard, playground and docs, with static assets served locally."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bgone.errors import (
    CsrfFailed,
    InsufficientRole,
    LoginRequired,
    OperatorRequired,
    TwoFactorRequired,
)
from bgone.inference.samples import SAMPLES_DIR
from bgone.server.deps import current_viewer
from bgone.server.error_handlers import error_response
from bgone.web.account import router as account_router
from bgone.web.admin_accounts import router as admin_accounts_router
from bgone.web.admin_pages import router as admin_pages_router
from bgone.web.docs import router as docs_router
from bgone.web.invitations import router as invitations_router
from bgone.web.jobs import router as jobs_router
from bgone.web.leaks import router as leaks_router
from bgone.web.members import router as members_router
from bgone.web.origins import router as origins_router
from bgone.web.ownership import router as ownership_router
from bgone.web.pages import router as pages_router
from bgone.web.plan_request import router as plan_request_router
from bgone.web.playground import router as playground_router
from bgone.web.security import router as security_router
from bgone.web.templating import STATIC_DIR, render
from bgone.web.two_factor import router as two_factor_router
from bgone.web.usage import router as usage_router
from bgone.web.webhooks import router as webhooks_router


async def _login_required(request: Request, error: Exception) -> Response:
    target = request.url.path + (f"#{request.url.fragment}" if request.url.fragment else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


async def _two_factor_required(request: Request, error: Exception) -> Response:
    return RedirectResponse("/account/two-factor?required=1", status_code=303)


async def _csrf_failed(request: Request, error: Exception) -> Response:
    assert isinstance(error, CsrfFailed)
    return render(
        request,
        "error.html",
        await current_viewer(request),
        status_code=403,
        title=error.title,
        message=error.detail,
    )


async def _insufficient_role(request: Request, error: Exception) -> Response:
    """The dashboard's pages answer an error page; the JSON API its usual body."""
    assert isinstance(error, InsufficientRole)
    if request.url.path.startswith(("/api/", "/v")):
        return error_response(request, error)
    return render(
        request,
        "error.html",
        await current_viewer(request),
        status_code=403,
        title=error.title,
        message=error.detail[:1].upper() + error.detail[1:] + ".",
    )


async def _operator_required(request: Request, error: Exception) -> Response:
    """A signed-in person without the operator flag: 403 on every /admin page and form."""
    assert isinstance(error, OperatorRequired)
    return render(
        request,
        "error.html",
        await current_viewer(request),
        status_code=403,
        title=error.title,
        message=error.detail,
    )


def install_web(app: FastAPI) -> None:
    # Mounted before /static, which would otherwise claim the path.
    app.mount("/static/samples", StaticFiles(directory=SAMPLES_DIR), name="samples")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages_router)
    app.include_router(account_router)
    app.include_router(origins_router)
    app.include_router(members_router)
    app.include_router(invitations_router)
    app.include_router(ownership_router)
    app.include_router(leaks_router)
    app.include_router(usage_router)
    app.include_router(plan_request_router)
    app.include_router(admin_accounts_router)
    app.include_router(admin_pages_router)
    app.include_router(webhooks_router)
    app.include_router(jobs_router)
    app.include_router(security_router)
    app.include_router(two_factor_router)
    app.include_router(playground_router)
    app.include_router(docs_router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfFailed, _csrf_failed)
    app.add_exception_handler(InsufficientRole, _insufficient_role)
    app.add_exception_handler(TwoFactorRequired, _two_factor_required)
    app.add_exception_handler(OperatorRequired, _operator_required)
