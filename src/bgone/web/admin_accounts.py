"""The console's accounts: the searchable list, one account's page, and its actions (plan,
custom limits, suspend or resume with a reason, grant credits, revoke a key). Each form
redirects back on success (POST-redirect-GET); a refused one re-renders with the reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.account_directory import DirectoryQuery, SortBy
from bgone.domain.accounts import Account
from bgone.domain.key_records import key_document
from bgone.domain.members import Member
from bgone.domain.operator_log import LoggedAction
from bgone.domain.plans import Plan
from bgone.errors import BgoneError
from bgone.server.container import Services
from bgone.server.deps import ServicesDep, Viewer
from bgone.services.account_summary import AccountPageData
from bgone.web.admin_forms import credits_milli, limit_changes
from bgone.web.admin_guard import OperatorDep, operator_actor
from bgone.web.chart import usage_svg
from bgone.web.templating import render
from bgone.web.viewer import check_csrf

router = APIRouter(include_in_schema=False)
# An account id as stored (a 32-bit integer): anything else is a 422, not a database error.
AccountId = Annotated[int, Path(ge=1, le=2_147_483_647)]

# What a finished action says on the page it redirects to: fixed texts, chosen by a word in
# the URL, so that no text from a link is ever shown as the console's.
DONE = {
    "plan": "Plan changed.",
    "limits": "Limits saved.",
    "status": "Status changed.",
    "credits": "Credits granted.",
    "revoked": "Key revoked.",
}


@router.get("/admin")
async def console_home(viewer: OperatorDep) -> Response:
    return RedirectResponse("/admin/accounts", status_code=303)


@router.get("/admin/accounts")
async def accounts_list(
    request: Request,
    services: ServicesDep,
    viewer: OperatorDep,
    q: str = "",
    sort: str = "email",
    order: str = "asc",
    page: int = 1,
) -> Response:
    sort_by = SortBy(sort) if sort in SortBy._value2member_map_ else SortBy.EMAIL
    query = DirectoryQuery(q[:320], sort_by, order == "desc", max(1, min(page, 100_000)))
    found = await run_in_threadpool(services.operator_console.directory, query)
    return render(
        request,
        "admin_accounts.html",
        viewer,
        directory=found,
        query=query,
        sorts=[(choice.value, choice.value.capitalize()) for choice in SortBy],
        section="accounts",
    )


@dataclass
class AccountConsoleView:
    account: Account
    data: AccountPageData
    members: list[Member]
    keys: list[dict[str, object]]
    log: list[LoggedAction]
    plans: list[Plan]
    chart: str


def _load(services: Services, account_id: int) -> AccountConsoleView:
    now = datetime.now(UTC)
    data = services.account_summaries.account_page(account_id, now)
    return AccountConsoleView(
        account=data.summary.account,
        data=data,
        members=services.members.list_members(account_id),
        # Metadata only: a key's display form, never a secret (none is kept to show).
        keys=[key_document(record, now) for record in data.keys],
        log=services.operator_console.log(account_id),
        plans=services.operator_console.plans(),
        chart=usage_svg(data.daily_usage),
    )


async def _account_page(
    request: Request,
    services: Services,
    viewer: Viewer,
    account_id: int,
    status_code: int = 200,
    **extra: object,
) -> Response:
    view = await run_in_threadpool(_load, services, account_id)
    return render(
        request,
        "admin_account.html",
        viewer,
        status_code=status_code,
        view=view,
        section="accounts",
        **extra,
    )


@router.get("/admin/accounts/{account_id}")
async def account_page(
    account_id: AccountId,
    request: Request,
    services: ServicesDep,
    viewer: OperatorDep,
    done: str = "",
) -> Response:
    return await _account_page(request, services, viewer, account_id, notice=DONE.get(done))


async def _act(
    request: Request,
    services: Services,
    viewer: Viewer,
    account_id: int,
    done: str,
    action: Callable[[], object],
) -> Response:
    """Run `action` in a worker thread; back to the account's page."""
    try:
        await run_in_threadpool(action)
    except BgoneError as error:
        return await _account_page(
            request, services, viewer, account_id, status_code=error.status, error=error.detail
        )
    return RedirectResponse(f"/admin/accounts/{account_id}?done={done}", status_code=303)


@router.post("/admin/accounts/{account_id}/plan")
async def change_plan(
    account_id: AccountId,
    request: Request,
    services: ServicesDep,
    viewer: OperatorDep,
    plan: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    by = operator_actor(request, viewer)
    console = services.operator_console
    return await _act(
        request,
        services,
        viewer,
        account_id,
        "plan",
        lambda: console.change_plan(by, account_id, plan),
    )


@router.post("/admin/accounts/{account_id}/limits")
async def change_limits(
    account_id: AccountId,
    request: Request,
    services: ServicesDep,
    viewer: OperatorDep,
    rate_per_minute: Annotated[str, Form()] = "",
    monthly_credits: Annotated[str, Form()] = "",
    max_megapixels: Annotated[str, Form()] = "",
    max_keys: Annotated[str, Form()] = "",
    reset: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    by = operator_actor(request, viewer)
    console = services.operator_console

    def action() -> None:
        changes = limit_changes(
            rate_per_minute, monthly_credits, max_megapixels, max_keys, reset == "on"
        )
        console.change_limits(by, account_id, changes)

    return await _act(request, services, viewer, account_id, "limits", action)


@router.post("/admin/accounts/{account_id}/status")
async def change_status(
    account_id: AccountId,
    request: Request,
    services: ServicesDep,
    viewer: OperatorDep,
    status: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    by = operator_actor(request, viewer)
    console = services.operator_console
    why = reason.strip()[:500] or None
    return await _act(
        request,
        services,
        viewer,
        account_id,
        "status",
        lambda: console.change_status(by, account_id, status, why),
    )


@router.post("/admin/accounts/{account_id}/credits")
async def grant_credits(
    account_id: AccountId,
    request: Request,
    services: ServicesDep,
    viewer: OperatorDep,
    amount: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    by = operator_actor(request, viewer)
    console = services.operator_console

    def action() -> None:
        milli = credits_milli(amount, "the amount") or 0
        console.grant_credits(by, account_id, milli, reason.strip()[:500])

    return await _act(request, services, viewer, account_id, "credits", action)


@router.post("/admin/accounts/{account_id}/keys/{key_id}/revoke")
async def revoke_key(
    account_id: AccountId,
    key_id: str,
    request: Request,
    services: ServicesDep,
    viewer: OperatorDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    by = operator_actor(request, viewer)
    console = services.operator_console
    return await _act(
        request,
        services,
        viewer,
        account_id,
        "revoked",
        lambda: console.revoke_key(by, account_id, key_id),
    )


@router.get("/admin/accounts/{account_id}/usage.csv")
async def usage_csv(
    account_id: AccountId, services: ServicesDep, viewer: OperatorDep, month: str | None = None
) -> Response:
    """The account's usage for a month (YYYY-MM), as its own account page downloads it."""
    await run_in_threadpool(services.operator_console.account, account_id)  # 404 if none
    chosen, body = await run_in_threadpool(services.usage_reports.month_csv, account_id, month)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="bgone-usage-{account_id}-{chosen}.csv"'
        },
    )
