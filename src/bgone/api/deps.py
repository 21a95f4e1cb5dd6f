"""FastAPI dependencies, as Annotated aliases the routers share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from bgone.api.auth import (
    authenticate_in_database,
    cached_context,
    checked_secret,
    count_invalid_key,
)
from bgone.api.browser import approved_origin, is_own_origin, remember_approval
from bgone.db.engine import transaction
from bgone.domain import accounts
from bgone.domain.authentication import KeyContext
from bgone.domain.web_sessions import COOKIE_NAME, csrf_matches_token, find_session
from bgone.errors import CsrfFailed, InvalidApiKey, ProductionKeyRequired
from bgone.security.keys import Environment
from bgone.server.deps import client_ip, get_record, get_services

# Declares the scheme in the OpenAPI document; the key itself is read (with helpful
# errors for near misses) in bgone.api.auth.
api_key_scheme = APIKeyHeader(
    name="x-api-key", auto_error=False, description="Your API key, e.g. bgone_live_..."
)


async def get_key_context(
    request: Request, _declared: Annotated[str | None, Security(api_key_scheme)] = None
) -> KeyContext:
    services = get_services(request)
    # The common case (a key seen in the last seconds) is answered from memory on the
    # event loop; only a cache miss takes a worker thread and the database. A malformed
    # key is refused by checked_secret from its text alone.
    try:
        secret = checked_secret(request.headers, request.query_params)
        context = cached_context(services, secret)
        if context is None:
            context = await run_in_threadpool(
                authenticate_in_database, services, secret, client_ip(request)
            )
    except InvalidApiKey:
        if services.limiter.blocking:
            await run_in_threadpool(count_invalid_key, services, client_ip(request))
        else:
            count_invalid_key(services, client_ip(request))
        raise
    record = get_record(request)
    record.account_id = context.account_id
    record.key_id = context.key_id
    remember_approval(
        request.scope,
        approved_origin(
            request.headers, context.allowed_origins, services.settings.browser_key_check
        ),
    )
    # Every authenticated answer carries the rate-limit headers; removals replace this
    # with the decision for their own hit.
    bucket = rate_bucket(context)
    if services.limiter.blocking:
        record.rate = await run_in_threadpool(
            services.limiter.peek, bucket, context.rate_per_minute
        )
    else:
        record.rate = services.limiter.peek(bucket, context.rate_per_minute)
    return context


def rate_bucket(context: KeyContext) -> str:
    """One bucket per account and environment: all of an account's keys share it."""
    return f"account:{context.account_id}:{context.environment.value}"


KeyContextDep = Annotated[KeyContext, Depends(get_key_context)]


@dataclass(frozen=True)
class SessionAccount:
    """A dashboard session, as the API layer sees it."""

    account_id: int
    email: str
    csrf_token: str
    token: str


async def get_session_account(request: Request) -> SessionAccount | None:
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    services = get_services(request)

    def lookup() -> SessionAccount | None:
        with transaction(services.read_sessions) as session:
            web_session = find_session(session, token)
            if web_session is None:
                return None
            account = accounts.get_by_id(session, web_session.account_id)
            return SessionAccount(account.id, account.email, web_session.csrf_token, token)

    return await run_in_threadpool(lookup)


@dataclass(frozen=True)
class Manager:
    """Who manages keys: a production key of the account, or its signed-in owner."""

    account_id: int
    actor: str


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


async def get_manager(
    request: Request, _declared: Annotated[str | None, Security(api_key_scheme)] = None
) -> Manager:
    sends_key = "x-api-key" in request.headers or "authorization" in request.headers
    if not sends_key:
        signed_in = await get_session_account(request)
        if signed_in is not None:
            origin = request.headers.get("origin")
            if origin is not None and not is_own_origin(origin, request.headers.get("host")):
                # The dashboard calls from its own pages only; never answer another site.
                raise CsrfFailed("Dashboard requests are accepted from this site only.")
            if request.method not in SAFE_METHODS and not csrf_matches_token(
                signed_in.csrf_token, request.headers.get("x-csrf-token")
            ):
                raise CsrfFailed("Requests from the dashboard must carry the X-CSRF-Token header.")
            get_record(request).account_id = signed_in.account_id
            return Manager(signed_in.account_id, f"dashboard:{signed_in.email}")
    context = await get_key_context(request)
    if context.environment is not Environment.PRODUCTION:
        raise ProductionKeyRequired("Managing keys needs a production key of the account.")
    return Manager(context.account_id, f"key:{context.key_id}")


ManagerDep = Annotated[Manager, Depends(get_manager)]
