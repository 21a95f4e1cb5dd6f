"""The removal endpoints: one implementation behind three providers' contracts."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bgone.api.contracts import (
    BACKGROUND_ERASE,
    BYBYBG,
    REMOVE_BG,
    Contract,
    ParsedRequest,
    options_for,
    parse_request,
)
from bgone.api.deps import KeyContextDep, rate_bucket
from bgone.db.engine import transaction
from bgone.domain import credits, metering
from bgone.domain.authentication import KeyContext
from bgone.domain.usage import UsageEntry
from bgone.errors import InsufficientCredits, RateLimitExceeded, ResolutionTooHigh
from bgone.inference.imageio import peek_dimensions
from bgone.inference.options import RemovalOptions, Size
from bgone.inference.pipeline import RemovalResult
from bgone.infra.ratelimit import image_cost
from bgone.infra.url_fetch import BACKGROUND_ERRORS
from bgone.server.container import Services
from bgone.server.deps import RecordDep, ServicesDep
from bgone.server.middleware import RequestRecord, endpoint_of

router = APIRouter(tags=["background removal"])

FULL_COST_MILLI = 1000
PREVIEW_COST_MILLI = 250


async def _source_bytes(services: Services, parsed: ParsedRequest) -> tuple[bytes, bytes | None]:
    if parsed.image is not None:
        image = parsed.image
    else:
        assert parsed.image_url is not None  # parse_request guarantees one source
        image = await run_in_threadpool(services.fetcher.fetch, parsed.image_url)
    background = parsed.bg_image
    if parsed.bg_image_url:
        fetch = partial(
            services.fetcher.fetch,
            parsed.bg_image_url,
            BACKGROUND_ERRORS,
        )
        background = await run_in_threadpool(fetch)
    return image, background


def _admit_rate(
    services: Services, context: KeyContext, megapixels: float, record: RequestRecord
) -> None:
    decision = services.limiter.hit(
        rate_bucket(context), context.rate_per_minute, image_cost(megapixels)
    )
    record.rate = decision
    if not decision.allowed:
        raise RateLimitExceeded(
            f"More than {decision.limit} images (of up to 1 MP each) per minute for this "
            f"account. Retry after {decision.retry_after} s.",
            decision.retry_after,
        )


def _reserve_once(
    services: Services, context: KeyContext, record: RequestRecord, endpoint: str, milli: int
) -> None:
    """Reserve with a pending usage row; the request's final usage row settles both.

    The journal and `record.reservation` learn of the reservation before it is made: if the
    transaction's outcome is unknown (the database went away during COMMIT), the final row
    still releases it when it exists, and a dead process's journal lets others do so.
    """
    at = datetime.now(UTC)
    services.usage_writer.journal.note_reservation(record.request_id)
    record.reservation = credits.Reservation(context.account_id, credits.period_key(at), milli)
    pending = UsageEntry(
        request_id=record.request_id,
        at=at,
        endpoint=endpoint,
        status=metering.PENDING_STATUS,
        account_id=context.account_id,
        key_id=context.key_id,
    )
    try:
        with transaction(services.sessions) as session:
            metering.reserve_with_pending_row(session, pending, milli, context.limits)
    except InsufficientCredits:
        record.reservation = None  # rolled back: nothing was set aside
        raise


def _reserve(
    services: Services,
    context: KeyContext,
    options: RemovalOptions,
    record: RequestRecord,
    endpoint: str,
) -> RemovalOptions:
    """Set credits aside before any work; `auto` falls back to preview when 1 is too many."""
    if not context.spends_credits:
        return options
    cost = PREVIEW_COST_MILLI if options.size is Size.PREVIEW else FULL_COST_MILLI
    try:
        _reserve_once(services, context, record, endpoint, cost)
        return options
    except InsufficientCredits:
        if options.size is not Size.AUTO:
            raise
    _reserve_once(services, context, record, endpoint, PREVIEW_COST_MILLI)
    return replace(options, size=Size.PREVIEW)


async def remove(
    request: Request,
    contract: Contract,
    services: Services,
    context: KeyContext,
    record: RequestRecord,
) -> Response:
    settings = services.settings
    parsed = await parse_request(request, contract, settings.max_upload_bytes)
    image, background = await _source_bytes(services, parsed)
    options = options_for(parsed, contract, background)
    width, height = peek_dimensions(image, services.remover.limits)
    record.megapixels = width * height / 1_000_000
    if record.megapixels > context.limits.max_megapixels:
        raise ResolutionTooHigh(
            f"The image has {record.megapixels:.1f} MP; your plan allows up to "
            f"{context.limits.max_megapixels:g} MP."
        )
    if not context.spends_credits and options.size is not Size.PREVIEW:
        options = replace(options, size=Size.PREVIEW)  # staging keys: preview results only
    await run_in_threadpool(_admit_rate, services, context, record.megapixels, record)
    endpoint = endpoint_of(request.scope)
    options = await run_in_threadpool(_reserve, services, context, options, record, endpoint)
    # A failure from here on leaves `record.credits_milli` at 0: the usage row releases
    # the reservation. On success that row charges it, before the last byte goes out.
    result = await services.gate.run(partial(services.remover.remove, image, options))
    if record.reservation is not None:
        record.credits_milli = record.reservation.milli
        services.forget_account_document(context.account_id)
    return _respond(request, parsed, contract, result, record.credits_milli)


def _result_headers(result: RemovalResult, credits_milli: int) -> dict[str, str]:
    box = result.foreground
    return {
        "X-Width": str(result.width),
        "X-Height": str(result.height),
        "X-Foreground-Top": str(box.top),
        "X-Foreground-Left": str(box.left),
        "X-Foreground-Width": str(box.width),
        "X-Foreground-Height": str(box.height),
        "X-Credits-Charged": f"{credits.milli_to_credits(credits_milli):g}",
    }


def _wants_json(request: Request, parsed: ParsedRequest) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept or parsed.json_body


def _respond(
    request: Request,
    parsed: ParsedRequest,
    contract: Contract,
    result: RemovalResult,
    credits_milli: int,
) -> Response:
    headers = _result_headers(result, credits_milli)
    if not _wants_json(request, parsed):
        return Response(result.data, media_type=result.media_type, headers=headers)
    encoded = base64.b64encode(result.data).decode()
    box = result.foreground
    if contract is REMOVE_BG:
        body: dict[str, object] = {
            "data": {
                "result_b64": encoded,
                "foreground_top": box.top,
                "foreground_left": box.left,
                "foreground_width": box.width,
                "foreground_height": box.height,
            }
        }
    else:
        body = {
            "image_base64": encoded,
            "format": result.format,
            "width": result.width,
            "height": result.height,
            "foreground": {
                "top": box.top,
                "left": box.left,
                "width": box.width,
                "height": box.height,
            },
        }
    return JSONResponse(body, headers=headers)


@router.post("/v2", summary="Remove the background (BackgroundErase contract)")
async def remove_v2(
    request: Request, services: ServicesDep, context: KeyContextDep, record: RecordDep
) -> Response:
    return await remove(request, BACKGROUND_ERASE, services, context, record)


@router.post("/v1/remove-bg", summary="Remove the background (ByByBG contract)")
async def remove_bybybg(
    request: Request, services: ServicesDep, context: KeyContextDep, record: RecordDep
) -> Response:
    return await remove(request, BYBYBG, services, context, record)


@router.post("/v1.0/removebg", summary="Remove the background (remove.bg contract)")
async def remove_removebg(
    request: Request, services: ServicesDep, context: KeyContextDep, record: RecordDep
) -> Response:
    return await remove(request, REMOVE_BG, services, context, record)
