"""FastAPI dependencies, as Annotated aliases the routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from bgone.api.auth import authenticate_request
from bgone.api.middleware import RequestRecord, request_record
from bgone.api.services import Services
from bgone.domain.authentication import KeyContext


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_record(request: Request) -> RequestRecord:
    return request_record(request.scope)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# Declares the scheme in the OpenAPI document; the key itself is read (with helpful
# errors for near misses) in bgone.api.auth.
api_key_scheme = APIKeyHeader(
    name="x-api-key", auto_error=False, description="Your API key, e.g. bgone_live_..."
)


async def get_key_context(
    request: Request, _declared: Annotated[str | None, Security(api_key_scheme)] = None
) -> KeyContext:
    services = get_services(request)
    context = await run_in_threadpool(
        authenticate_request,
        services,
        request.headers,
        request.query_params,
        client_ip(request),
    )
    record = get_record(request)
    record.account_id = context.account_id
    record.key_id = context.key_id
    # Every authenticated answer carries the rate-limit headers; removals replace this
    # with the decision for their own hit.
    record.rate = await run_in_threadpool(
        services.limiter.peek, rate_bucket(context), context.rate_per_minute
    )
    return context


def rate_bucket(context: KeyContext) -> str:
    """One bucket per account and environment: all of an account's keys share it."""
    return f"account:{context.account_id}:{context.environment.value}"


ServicesDep = Annotated[Services, Depends(get_services)]
RecordDep = Annotated[RequestRecord, Depends(get_record)]
KeyContextDep = Annotated[KeyContext, Depends(get_key_context)]
