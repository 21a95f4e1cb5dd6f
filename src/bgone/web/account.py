"""The account page: plan, credits, usage chart, API access (keys) and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.db.engine import transaction
from bgone.domain import accounts, api_keys, audit, credits, plans, usage
from bgone.domain.durations import parse_duration
from bgone.domain.key_records import IssuedKey, KeyRecord, key_document
from bgone.domain.plan_limits import Limits
from bgone.errors import BgoneError
from bgone.server.container import Services
from bgone.server.deps import ServicesDep, client_ip
from bgone.web.chart import usage_svg
from bgone.web.templating import render
from bgone.web.viewer import SignedInDep, Viewer, check_csrf

router = APIRouter(include_in_schema=False)

GRACE_CHOICES = (
    ("0", "End it now"),
    ("1h", "1 hour"),
    ("24h", "24 hours"),
    ("7d", "7 days"),
    ("30d", "30 days"),
)


@dataclass
class AccountView:
    plan: plans.Plan
    limits: Limits
    balance: credits.Balance
    usage_svg: str
    totals: usage.UsageSummary
    keys: list[dict[str, object]]
    events: list[audit.AuditEvent]
    api_plans: list[plans.Plan]


def _load(services: Services, viewer: Viewer) -> AccountView:
    now = datetime.now(UTC)
    account_id = viewer.account.id
    with transaction(services.read_sessions) as session:
        account = accounts.get_by_id(session, account_id)
        limits = accounts.effective_limits(account)
        days = usage.daily_usage(session, account_id, days=30, now=now)
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return AccountView(
            plan=account.plan,
            limits=limits,
            balance=credits.balance(session, account_id, limits, now),
            usage_svg=usage_svg(days),
            totals=usage.usage_summary(session, account_id, start),
            keys=[key_document(record, now) for record in api_keys.list_keys(session, account_id)],
            events=audit.list_for_account(session, account_id, limit=50),
            api_plans=[p for p in plans.list_plans(session) if p.api_access],
        )


async def _page(
    request: Request, services: Services, viewer: Viewer, status_code: int = 200, **extra: object
) -> Response:
    view = await run_in_threadpool(_load, services, viewer)
    return render(
        request,
        "account.html",
        viewer,
        status_code=status_code,
        view=view,
        grace_choices=GRACE_CHOICES,
        **extra,
    )


@router.get("/account")
async def account_page(
    request: Request, services: ServicesDep, viewer: SignedInDep, revoked: str | None = None
) -> Response:
    notice = f"Key {revoked} was revoked; requests with it now get 401." if revoked else None
    return await _page(request, services, viewer, notice=notice)


def _actor(viewer: Viewer) -> str:
    return f"dashboard:{viewer.account.email}"


@router.post("/account/keys")
async def generate_key(
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    name: Annotated[str, Form()] = "",
    environment: Annotated[str, Form()] = "production",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)

    def create() -> IssuedKey:
        with transaction(services.sessions) as session:
            return api_keys.create_key(
                session,
                viewer.account.id,
                name,
                environment,
                _actor(viewer),
                services.ring,
                ip=client_ip(request),
            )

    try:
        issued = await run_in_threadpool(create)
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, key_error=error.detail
        )
    return await _page(
        request,
        services,
        viewer,
        status_code=201,
        new_key=issued.secret,
        new_key_record=issued.record,
    )


@router.post("/account/keys/{key_id}/rotate")
async def rotate_key(
    key_id: str,
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    grace: Annotated[str, Form()] = "24h",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)

    def rotate() -> IssuedKey:
        with transaction(services.sessions) as session:
            return api_keys.rotate(
                session,
                viewer.account.id,
                key_id,
                _actor(viewer),
                services.ring,
                grace=parse_duration(grace),
                ip=client_ip(request),
            )

    try:
        issued = await run_in_threadpool(rotate)
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, key_error=error.detail
        )
    services.key_cache.invalidate(key_id)
    return await _page(
        request,
        services,
        viewer,
        status_code=201,
        new_key=issued.secret,
        new_key_record=issued.record,
        rotated_from=key_id,
        rotated_grace=grace,
    )


@router.post("/account/keys/{key_id}/revoke")
async def revoke_key(
    key_id: str,
    request: Request,
    services: ServicesDep,
    viewer: SignedInDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)

    def revoke() -> KeyRecord:
        with transaction(services.sessions) as session:
            return api_keys.revoke(
                session, viewer.account.id, key_id, _actor(viewer), ip=client_ip(request)
            )

    try:
        record = await run_in_threadpool(revoke)
    except BgoneError as error:
        return await _page(
            request, services, viewer, status_code=error.status, key_error=error.detail
        )
    services.key_cache.invalidate(key_id)
    return RedirectResponse(f"/account?revoked={record.id}#api-access", status_code=303)
