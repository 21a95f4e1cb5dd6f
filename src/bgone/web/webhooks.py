"""The dashboard's Webhooks page: endpoints, their delivery logs, Redeliver, the secret shown
once after create or rotate, and the credits.low threshold. Owners and admins only.

Every form posts, then redirects back (POST-redirect-GET); a new secret waits for the next
page in the session's shown-once slot (bgone.services.shown_once), sealed, then is gone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bgone.domain.durations import parse_duration
from bgone.domain.roles import Permission
from bgone.domain.shown_once import NewSecret
from bgone.domain.webhook_endpoints import EndpointWithSecret
from bgone.domain.webhook_events import ALL_EVENT_TYPES
from bgone.errors import BgoneError, InvalidGracePeriod
from bgone.server.container import Services
from bgone.server.deps import ServicesDep, Viewer
from bgone.services.webhooks import EndpointUpdate
from bgone.web.account import key_actor
from bgone.web.templating import render
from bgone.web.viewer import check_csrf, needs

router = APIRouter(include_in_schema=False)

PAGE = "/account/webhooks"
# The shown-once slot holds keys' secrets too: this environment marks a webhook's.
WEBHOOK_SECRET = "webhook"
OVERLAP_CHOICES = (("0", "End it now"), ("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days"))

ManagesWebhooksDep = Annotated[
    Viewer, Depends(needs(Permission.MANAGE_WEBHOOKS, "managing webhooks"))
]
EventTypes = Annotated[list[str], Form()]


async def _page(
    request: Request,
    services: Services,
    viewer: Viewer,
    status_code: int = 200,
    **extra: object,
) -> Response:
    by = key_actor(request, viewer)
    endpoints = await run_in_threadpool(services.webhooks.list_endpoints, by)
    logs = {
        endpoint.id: await run_in_threadpool(services.webhooks.deliveries, by, endpoint.id)
        for endpoint in endpoints
    }
    threshold = await run_in_threadpool(services.webhooks.credits_low_threshold, viewer.account.id)
    return render(
        request,
        "webhooks.html",
        viewer,
        status_code=status_code,
        endpoints=endpoints,
        logs=logs,
        threshold=threshold,
        event_types=[event.value for event in ALL_EVENT_TYPES],
        overlap_choices=OVERLAP_CHOICES,
        **extra,
    )


async def _failed(
    request: Request, services: Services, viewer: Viewer, error: BgoneError
) -> Response:
    return await _page(
        request, services, viewer, status_code=error.status, webhook_error=error.detail
    )


@router.get(PAGE)
async def webhooks_page(
    request: Request, services: ServicesDep, viewer: ManagesWebhooksDep
) -> Response:
    new = await run_in_threadpool(services.shown_once.take, viewer.token)
    if new is not None and not (isinstance(new, NewSecret) and new.environment == WEBHOOK_SECRET):
        # A new key's secret or an invitation link, for the account page: kept for it.
        await run_in_threadpool(services.shown_once.keep, viewer.token, new)
        new = None
    if new is None:
        return await _page(request, services, viewer)
    return await _page(
        request, services, viewer, new_secret=new.secret, new_secret_endpoint=new.key_id
    )


async def _show_secret(services: Services, viewer: Viewer, made: EndpointWithSecret) -> Response:
    new = NewSecret(made.secret, made.endpoint.id, WEBHOOK_SECRET, made.endpoint.url)
    await run_in_threadpool(services.shown_once.keep, viewer.token, new)
    return RedirectResponse(f"{PAGE}#new-secret", status_code=303)


@router.post(PAGE)
async def create_endpoint(
    request: Request,
    services: ServicesDep,
    viewer: ManagesWebhooksDep,
    url: Annotated[str, Form()] = "",
    event_types: EventTypes = [],  # noqa: B006 - FastAPI copies form defaults
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    by = key_actor(request, viewer)
    try:
        made = await run_in_threadpool(services.webhooks.create, by, url, event_types)
    except BgoneError as error:
        return await _failed(request, services, viewer, error)
    return await _show_secret(services, viewer, made)


# Before /{endpoint_id}, which would otherwise take this path.
@router.post(PAGE + "/credits-low")
async def set_threshold(
    request: Request,
    services: ServicesDep,
    viewer: ManagesWebhooksDep,
    threshold: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        await run_in_threadpool(
            services.webhooks.set_credits_low_threshold, key_actor(request, viewer), threshold
        )
    except BgoneError as error:
        return await _failed(request, services, viewer, error)
    return RedirectResponse(f"{PAGE}#credits-low", status_code=303)


@router.post(PAGE + "/{endpoint_id}")
async def update_endpoint(
    endpoint_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ManagesWebhooksDep,
    url: Annotated[str, Form()] = "",
    event_types: EventTypes = [],  # noqa: B006
    enabled: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    changes = EndpointUpdate(url=url, event_types=event_types, enabled=bool(enabled))
    try:
        await run_in_threadpool(
            services.webhooks.update, key_actor(request, viewer), endpoint_id, changes
        )
    except BgoneError as error:
        return await _failed(request, services, viewer, error)
    return RedirectResponse(f"{PAGE}#{endpoint_id}", status_code=303)


@router.post(PAGE + "/{endpoint_id}/rotate")
async def rotate_secret(
    endpoint_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ManagesWebhooksDep,
    overlap: Annotated[str, Form()] = "24h",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        length: timedelta = parse_duration(overlap, InvalidGracePeriod)
        made = await run_in_threadpool(
            services.webhooks.rotate_secret, key_actor(request, viewer), endpoint_id, length
        )
    except BgoneError as error:
        return await _failed(request, services, viewer, error)
    return await _show_secret(services, viewer, made)


@router.post(PAGE + "/{endpoint_id}/delete")
async def delete_endpoint(
    endpoint_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ManagesWebhooksDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        await run_in_threadpool(services.webhooks.delete, key_actor(request, viewer), endpoint_id)
    except BgoneError as error:
        return await _failed(request, services, viewer, error)
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/{endpoint_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    endpoint_id: str,
    delivery_id: int,
    request: Request,
    services: ServicesDep,
    viewer: ManagesWebhooksDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        await run_in_threadpool(
            services.webhooks.redeliver, key_actor(request, viewer), endpoint_id, delivery_id
        )
    except BgoneError as error:
        return await _failed(request, services, viewer, error)
    return RedirectResponse(f"{PAGE}?redelivered={delivery_id}#{endpoint_id}", status_code=303)
