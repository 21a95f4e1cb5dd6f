"""The console's other pages: the plan requests queue (approve or decline with a message),
the plans (their limits, API access, the staging rate), the fleet (replicas, database, Redis,
models, usage across all accounts) and the global audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.plan_requests import RequestState
from bgone.errors import BgoneError
from bgone.inference import provision
from bgone.inference.catalog import all_models
from bgone.infra.ratelimit import FailoverRateLimiter
from bgone.server.container import Services
from bgone.server.deps import ServicesDep, Viewer
from bgone.web.admin_forms import plan_changes
from bgone.web.admin_guard import OperatorDep, operator_actor
from bgone.web.templating import render
from bgone.web.viewer import check_csrf

router = APIRouter(include_in_schema=False)
RequestId = Annotated[int, Path(ge=1, le=2**62)]
DONE = {
    "approved": "Request approved: the account is on its new plan.",
    "declined": "Request declined.",
    "plan": "Plan saved.",
}


async def _requests_page(
    request: Request, services: Services, viewer: Viewer, status_code: int = 200, **extra: object
) -> Response:
    console = services.operator_console
    pending = await run_in_threadpool(console.requests, RequestState.PENDING)
    answered = [
        found
        for found in await run_in_threadpool(console.requests, None)
        if found.state is not RequestState.PENDING
    ][:50]
    return render(
        request,
        "admin_requests.html",
        viewer,
        status_code=status_code,
        pending=pending,
        answered=answered,
        section="requests",
        **extra,
    )


@router.get("/admin/requests")
async def requests_page(
    request: Request, services: ServicesDep, viewer: OperatorDep, done: str = ""
) -> Response:
    return await _requests_page(request, services, viewer, notice=DONE.get(done))


@router.post("/admin/requests/{request_id}/decide")
async def decide(
    request_id: RequestId,
    request: Request,
    services: ServicesDep,
    viewer: OperatorDep,
    decision: Annotated[str, Form()] = "",
    answer: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    if decision not in ("approve", "decline"):
        return await _requests_page(
            request, services, viewer, 400, error="Choose approve or decline."
        )
    by = operator_actor(request, viewer)
    try:
        await run_in_threadpool(
            services.plan_decisions.decide, by, request_id, decision == "approve", answer
        )
    except BgoneError as error:
        return await _requests_page(request, services, viewer, error.status, error=error.detail)
    done = "approved" if decision == "approve" else "declined"
    return RedirectResponse(f"/admin/requests?done={done}", status_code=303)


async def _plans_page(
    request: Request, services: Services, viewer: Viewer, status_code: int = 200, **extra: object
) -> Response:
    found = await run_in_threadpool(services.operator_console.plans)
    return render(
        request,
        "admin_plans.html",
        viewer,
        status_code=status_code,
        plans=found,
        section="plans",
        **extra,
    )


@router.get("/admin/plans")
async def plans_page(
    request: Request, services: ServicesDep, viewer: OperatorDep, done: str = ""
) -> Response:
    return await _plans_page(request, services, viewer, notice=DONE.get(done))


@router.post("/admin/plans/{name}")
async def edit_plan(
    name: Annotated[str, Path(max_length=32)],
    request: Request,
    services: ServicesDep,
    viewer: OperatorDep,
    rate_per_minute: Annotated[str, Form()] = "",
    staging_rate_per_minute: Annotated[str, Form()] = "",
    monthly_credits: Annotated[str, Form()] = "",
    max_megapixels: Annotated[str, Form()] = "",
    max_keys: Annotated[str, Form()] = "",
    api_access: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    by = operator_actor(request, viewer)
    fields = {
        "rate_per_minute": rate_per_minute,
        "staging_rate_per_minute": staging_rate_per_minute,
        "monthly_credits": monthly_credits,
        "max_megapixels": max_megapixels,
        "max_keys": max_keys,
    }

    def action() -> None:
        services.operator_console.edit_plan(by, name, plan_changes(fields, api_access == "on"))

    try:
        await run_in_threadpool(action)
    except BgoneError as error:
        return await _plans_page(request, services, viewer, error.status, error=error.detail)
    return RedirectResponse("/admin/plans?done=plan", status_code=303)


def _redis_state(services: Services) -> str:
    if not services.settings.redis_url:
        return "not configured (rate limits and caches in this process only)"
    limiter = services.limiter
    if isinstance(limiter, FailoverRateLimiter) and limiter.degraded:
        return "unreachable: rate limits fell back to this process's memory"
    return "ok"


@router.get("/admin/fleet")
async def fleet_page(request: Request, services: ServicesDep, viewer: OperatorDep) -> Response:
    view = await run_in_threadpool(services.operator_console.fleet)
    database = await run_in_threadpool(services.database_ready)
    models_path = services.settings.models_path
    models = [
        (spec.name, await run_in_threadpool(provision.is_installed, spec, models_path))
        for spec in all_models(models_path)
    ]
    return render(
        request,
        "admin_fleet.html",
        viewer,
        view=view,
        database="ok" if database else "unreachable",
        redis=_redis_state(services),
        models=models,
        section="fleet",
    )


@router.get("/admin/log")
async def log_page(request: Request, services: ServicesDep, viewer: OperatorDep) -> Response:
    entries = await run_in_threadpool(services.operator_console.log, None)
    operators = await run_in_threadpool(services.operator_console.operators)
    return render(
        request, "admin_log.html", viewer, entries=entries, operators=operators, section="log"
    )
