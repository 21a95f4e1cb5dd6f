"""The account page's usage: a month's CSV download and its credit statement.

Both read bgone.services.usage_report, as `GET /v1/usage` does: the CSV is that report for
one month grouped by day, key, endpoint and status, in the columns the API documents.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bgone.errors import InvalidDateRange
from bgone.server.container import Services
from bgone.server.deps import ServicesDep, Viewer
from bgone.services.usage_report import Statement
from bgone.web.viewer import SignedInDep

router = APIRouter(include_in_schema=False)


@router.get("/account/usage.csv")
async def usage_csv(
    services: ServicesDep, viewer: SignedInDep, month: str | None = None
) -> Response:
    """A month's usage (YYYY-MM, default this month) as a CSV file; a bad month is 400."""
    chosen, body = await run_in_threadpool(
        services.usage_reports.month_csv, viewer.account.id, month
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="bgone-usage-{chosen}.csv"'},
    )


async def load_statement(request: Request, services: Services, viewer: Viewer) -> Statement:
    """The account page's statement: `?statement=YYYY-MM`, this month if absent or bad."""
    month = request.query_params.get("statement")
    try:
        return await run_in_threadpool(services.usage_reports.statement, viewer.account.id, month)
    except InvalidDateRange:
        return await run_in_threadpool(services.usage_reports.statement, viewer.account.id)
