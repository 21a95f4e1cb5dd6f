"""FastAPI dependencies, as Annotated aliases the routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from bgone.api.auth import extract_key
from bgone.api.browser import approved_origin, remember_approval
from bgone.domain import pricing
from bgone.domain.authentication import KeyContext
from bgone.domain.roles import GRANTS, Permission, require
from bgone.errors import ProductionKeyRequired
from bgone.security.keys import Environment
from bgone.server.deps import client_ip, get_record, get_services
from bgone.services.authentication import call_limiter
from bgone.services.keys import KeyActor

# Declares the scheme in the OpenAPI document; the key itself is read (with helpful
# errors for near misses) in bgone.api.auth.
api_key_scheme = APIKeyHeader(
    name="x-api-key", auto_error=False, description="Your API key, e.g. bgone_live_..."
)


async def get_key_context(
    request: Request, _declared: Annotated[str | None, Security(api_key_scheme)] = None
) -> KeyContext:
    services = get_services(request)
    secret = extract_key(request.headers, request.query_params)
    context = await services.authenticator.authenticate(secret, client_ip(request))
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
    bucket = pricing.rate_bucket(context.account_id, context.environment)
    record.rate = await call_limiter(
        services.limiter, lambda: services.limiter.peek(bucket, context.rate_per_minute)
    )
    return context


KeyContextDep = Annotated[KeyContext, Depends(get_key_context)]


async def get_key_actor(request: Request, context: KeyContextDep) -> KeyActor:
    """Keys are managed with a production key of the account of scope `manage`; the
    dashboard's session manages them through its own forms, never through this API. What
    else a key may do is the permission table's (bgone.domain.roles), as for members."""
    if context.environment is not Environment.PRODUCTION:
        raise ProductionKeyRequired("Managing keys needs a production key of the account.")
    granted = GRANTS[context.scope]
    require(granted, Permission.VIEW_KEYS, "key management with a key of scope 'remove'")
    return KeyActor(
        context.account_id, f"key:{context.key_id}", client_ip(request), granted=granted
    )


KeyActorDep = Annotated[KeyActor, Depends(get_key_actor)]
