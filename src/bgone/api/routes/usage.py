"""`GET /v1/usage`: the account's usage, grouped, as JSON or (`Accept: text/csv`) CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.api.deps import KeyContextDep
from bgone.errors import ProductionKeyRequired
from bgone.security.keys import Environment
from bgone.server.deps import ServicesDep

router = APIRouter(tags=["account"])

CSV = "text/csv"


def wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return any(part.split(";")[0].strip().lower() == CSV for part in accept.split(","))


@router.get(
    "/v1/usage",
    summary="Usage by day or month, key, endpoint and status, as JSON or CSV",
    description=(
        "The account's requests, failed requests, credits and megapixels, summed per group. "
        "`from` (inclusive) and `to` (exclusive) are UTC dates, by default this month; "
        "`group_by` is a comma-separated list of at most one of `day` / `month` and any of "
        "`key`, `endpoint`, `status` (default `day`). Each row has the grouping columns asked "
        "for, in the order `day` or `month`, `key_id`, `key_name`, `endpoint`, `status`, then "
        "`requests`, `failed_requests`, `credits`, `megapixels`: the CSV's columns, in that "
        "order, when the request sends `Accept: text/csv`. Requests still running are counted "
        "once they finish. Needs a production key."
    ),
)
async def usage(
    request: Request,
    services: ServicesDep,
    context: KeyContextDep,
    start: Annotated[
        str | None, Query(alias="from", description="First UTC day, YYYY-MM-DD (inclusive).")
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", description="UTC day after the last, YYYY-MM-DD.")
    ] = None,
    group_by: Annotated[
        str | None,
        Query(description="e.g. `day,key`: one of day/month, any of key, endpoint, status."),
    ] = None,
) -> Response:
    if context.environment is not Environment.PRODUCTION:
        raise ProductionKeyRequired("Reading usage needs a production key of the account.")
    report = await run_in_threadpool(
        services.usage_reports.report, context.account_id, start, end, group_by
    )
    if wants_csv(request):
        return Response(report.csv(), media_type="text/csv; charset=utf-8")
    return JSONResponse(report.document())
