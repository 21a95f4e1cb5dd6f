"""`/v1/webhooks`: the account's webhook endpoints, their secrets and delivery logs.

Authenticated by a production key of scope `manage` (owners' and admins' automation; the
dashboard's Webhooks page is the members' way). Another account's endpoint answers 404.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from bgone.api.deps import KeyActorDep
from bgone.api.webhook_documents import (
    DeliveryList,
    EndpointAnswer,
    EndpointList,
    EndpointPatch,
    EndpointWithSecretAnswer,
    NewEndpoint,
    Redelivered,
    RedeliveredAnswer,
    SecretRotation,
    Threshold,
    ThresholdAnswer,
    delivery_document,
    endpoint_document,
    with_secret,
)
from bgone.domain.durations import parse_duration
from bgone.errors import InvalidGracePeriod
from bgone.server.deps import ServicesDep
from bgone.services.webhooks import EndpointUpdate

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
# The account's credits.low threshold: beside /v1/account, not under an endpoint id.
settings_router = APIRouter(tags=["webhooks"])


@router.get("", summary="List the account's webhook endpoints", response_model=EndpointList)
async def list_endpoints(services: ServicesDep, actor: KeyActorDep) -> EndpointList:
    endpoints = await run_in_threadpool(services.webhooks.list_endpoints, actor)
    return EndpointList(data=[endpoint_document(endpoint) for endpoint in endpoints])


@router.post(
    "",
    status_code=201,
    summary="Register an endpoint (its signing secret is shown once, in this answer)",
    response_model=EndpointWithSecretAnswer,
)
async def create_endpoint(
    body: NewEndpoint, services: ServicesDep, actor: KeyActorDep
) -> EndpointWithSecretAnswer:
    made = await run_in_threadpool(services.webhooks.create, actor, body.url, body.event_types)
    return EndpointWithSecretAnswer(data=with_secret(made.endpoint, made.secret))


@router.get("/{endpoint_id}", summary="One webhook endpoint", response_model=EndpointAnswer)
async def get_endpoint(
    endpoint_id: str, services: ServicesDep, actor: KeyActorDep
) -> EndpointAnswer:
    endpoint = await run_in_threadpool(services.webhooks.get, actor, endpoint_id)
    return EndpointAnswer(data=endpoint_document(endpoint))


@router.patch(
    "/{endpoint_id}",
    summary="Change an endpoint's URL, event types or enabled",
    response_model=EndpointAnswer,
)
async def update_endpoint(
    endpoint_id: str, body: EndpointPatch, services: ServicesDep, actor: KeyActorDep
) -> EndpointAnswer:
    changes = EndpointUpdate(body.url, body.event_types, body.enabled)
    endpoint = await run_in_threadpool(services.webhooks.update, actor, endpoint_id, changes)
    return EndpointAnswer(data=endpoint_document(endpoint))


@router.delete(
    "/{endpoint_id}",
    summary="Delete an endpoint and its delivery log",
    response_model=EndpointAnswer,
)
async def delete_endpoint(
    endpoint_id: str, services: ServicesDep, actor: KeyActorDep
) -> EndpointAnswer:
    endpoint = await run_in_threadpool(services.webhooks.delete, actor, endpoint_id)
    return EndpointAnswer(data=endpoint_document(endpoint))


@router.post(
    "/{endpoint_id}/rotate-secret",
    status_code=201,
    summary="A new signing secret; the old one keeps signing for the overlap",
    response_model=EndpointWithSecretAnswer,
)
async def rotate_secret(
    endpoint_id: str,
    services: ServicesDep,
    actor: KeyActorDep,
    body: SecretRotation | None = None,
) -> EndpointWithSecretAnswer:
    overlap = parse_duration((body or SecretRotation()).overlap, InvalidGracePeriod)
    made = await run_in_threadpool(services.webhooks.rotate_secret, actor, endpoint_id, overlap)
    return EndpointWithSecretAnswer(data=with_secret(made.endpoint, made.secret))


@router.get(
    "/{endpoint_id}/deliveries",
    summary="The endpoint's delivery log, newest first (50)",
    response_model=DeliveryList,
)
async def list_deliveries(
    endpoint_id: str, services: ServicesDep, actor: KeyActorDep
) -> DeliveryList:
    deliveries = await run_in_threadpool(services.webhooks.deliveries, actor, endpoint_id)
    return DeliveryList(data=[delivery_document(delivery) for delivery in deliveries])


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a delivery's message again (same webhook-id and body)",
    response_model=RedeliveredAnswer,
)
async def redeliver(
    endpoint_id: str, delivery_id: int, services: ServicesDep, actor: KeyActorDep
) -> RedeliveredAnswer:
    new_id = await run_in_threadpool(services.webhooks.redeliver, actor, endpoint_id, delivery_id)
    return RedeliveredAnswer(data=Redelivered(delivery_id=new_id))


@settings_router.get(
    "/v1/account/credits-low-threshold",
    summary="The balance under which credits.low is sent",
    response_model=ThresholdAnswer,
)
async def get_threshold(services: ServicesDep, actor: KeyActorDep) -> ThresholdAnswer:
    await run_in_threadpool(services.webhooks.list_endpoints, actor)  # the permission check
    value = await run_in_threadpool(services.webhooks.credits_low_threshold, actor.account_id)
    return ThresholdAnswer(data=Threshold(threshold=value))


@settings_router.put(
    "/v1/account/credits-low-threshold",
    summary="Set (or with null, clear) the credits.low threshold",
    response_model=ThresholdAnswer,
)
async def set_threshold(
    body: Threshold, services: ServicesDep, actor: KeyActorDep
) -> ThresholdAnswer:
    text = None if body.threshold is None else format(body.threshold, "f")
    await run_in_threadpool(services.webhooks.set_credits_low_threshold, actor, text)
    value = await run_in_threadpool(services.webhooks.credits_low_threshold, actor.account_id)
    return ThresholdAnswer(data=Threshold(threshold=value))
