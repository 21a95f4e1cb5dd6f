"""Account balance (remove.bg's shape plus bgone's details) and health probes."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.api.deps import KeyContextDep
from bgone.domain.authentication import KeyContext
from bgone.inference.best import BestPlan, best_plan
from bgone.server.container import Services
from bgone.server.deps import ServicesDep
from bgone.services.account_summary import AccountSummary

router = APIRouter(tags=["account"])
health_router = APIRouter(tags=["health"])


def _account_document(summary: AccountSummary, context: KeyContext) -> dict[str, Any]:
    account, balance, period_usage = summary.account, summary.balance, summary.period_usage
    return {
        "data": {
            "attributes": {
                # remove.bg's fields, for clients written against it.
                # total = subscription (this month's left) + payg (granted, never reset).
                "credits": {
                    "total": balance.total,
                    "subscription": balance.remaining,
                    "payg": balance.payg,
                    "enterprise": 0,
                },
                "api": {"free_calls": 0, "sizes": "all"},
                # bgone's own.
                "email": account.email,
                "plan": account.plan.name,
                "key_environment": context.environment.value,
                "period": balance.period,
                "credits_included": balance.included,
                "credits_used": balance.used,
                "credits_reserved": balance.reserved,
                "credits_left": balance.remaining,
                "rate_limit_per_minute": context.rate_per_minute,
                "max_megapixels": context.limits.max_megapixels,
                "usage_this_period": {
                    "requests": period_usage.requests,
                    "failed_requests": period_usage.failed_requests,
                    "credits": period_usage.credits,
                    "megapixels": round(period_usage.megapixels, 3),
                },
            }
        }
    }


# Like remove.bg's, the balance may lag by up to this long; X-Credits-Charged on each
# result is exact. Clients polling their balance then cost no database work.
DOCUMENT_SECONDS = 5.0


@router.get("/v1/account", summary="Plan, credits left, rate limit and usage this period")
@router.get("/v1.0/account", include_in_schema=False)
async def account(services: ServicesDep, context: KeyContextDep) -> Response:
    key = (context.account_id, context.environment.value)
    cached = services.account_documents.get(key)
    now = time.monotonic()
    if cached is None or now - cached[0] >= DOCUMENT_SECONDS:
        summary = await run_in_threadpool(services.account_summaries.summary, context.account_id)
        document = _account_document(summary, context)
        # Kept serialised: a cached answer costs no JSON encoding either.
        cached = (now, json.dumps(document, separators=(",", ":")).encode())
        services.account_documents[key] = cached
    return Response(cached[1], media_type="application/json")


@health_router.get("/v2/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def _blocking_checks(services: Services) -> tuple[bool, BestPlan]:
    return services.database_ready(), best_plan(services.settings.models_path)


@health_router.get("/readyz", summary="Readiness: database reachable and model loaded")
async def ready(services: ServicesDep) -> JSONResponse:
    # One hop to a thread for both blocking checks: under load each hop waits its turn for
    # the interpreter behind the image threads, so a probe makes as few as it can.
    database, plan = await run_in_threadpool(_blocking_checks, services)
    models = services.remover.pool.loaded()
    model_ok = services.settings.default_model in models
    body = {
        "status": "ready" if database and model_ok else "not_ready",
        "database": "ok" if database else "unreachable",
        "models": models,
        # What quality=best runs here (u2net-int8 and isnet where installed).
        "best_quality_models": list(plan.models),
        "pipeline": {
            "pending": services.gate.pending,
            "workers": services.gate.workers,
            "queue_size": services.gate.queue_size,
        },
    }
    return JSONResponse(body, status_code=200 if database and model_ok else 503)
