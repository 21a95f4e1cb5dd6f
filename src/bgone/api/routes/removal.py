"""The removal endpoints: three providers' contracts in front of one removal use case."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bgone.api.contracts import (
    BACKGROUND_ERASE,
    BYBYBG,
    REMOVE_BG,
    SUBJECT_TYPE_HEADER,
    Contract,
    ParsedRequest,
    parse_request,
    subject_type,
)
from bgone.api.deps import KeyContextDep
from bgone.api.idempotent import answer_idempotently
from bgone.domain import credits
from bgone.domain.authentication import KeyContext
from bgone.inference.pipeline import RemovalResult
from bgone.server.container import Services
from bgone.server.deps import RecordDep, ServicesDep
from bgone.server.middleware import RequestRecord, endpoint_of
from bgone.services import idempotency
from bgone.services.removal import RemovalRequest

router = APIRouter(tags=["background removal"])


async def remove(
    request: Request,
    contract: Contract,
    services: Services,
    context: KeyContext,
    record: RequestRecord,
) -> Response:
    """Parse the contract's body, run the removal use case, answer in the contract's shape."""
    # Before the body is read: an account over its rate limit costs no upload parsing.
    await services.removal.refuse_when_exhausted(context, record)
    with services.removal.receiving(context):  # counts against the account's share meanwhile
        parsed = await parse_request(request, contract, services.settings.max_upload_bytes)
    removal = RemovalRequest(
        caller=context,
        endpoint=endpoint_of(request.scope),
        fields=parsed.fields,
        defaults=contract.defaults,
        image=parsed.image,
        image_url=parsed.image_url,
        background=parsed.bg_image,
        background_url=parsed.bg_image_url,
    )

    async def run() -> Response:
        outcome = await services.removal.remove(removal, record)
        return _respond(request, parsed, contract, outcome.result, outcome.credits_milli)

    async def fingerprint() -> str:
        return _fingerprint(request, parsed)

    return await answer_idempotently(
        request, services.idempotency, context.account_id, fingerprint, run
    )


def _fingerprint(request: Request, parsed: ParsedRequest) -> str:
    """What makes a retry the same request: the parsed fields, URLs and files' hashes, and
    the answer's shape; never the raw body, whose multipart boundary changes every time."""
    fields = dict(parsed.fields)
    for name, url in (("image_url", parsed.image_url), ("bg_image_url", parsed.bg_image_url)):
        if url is not None:
            fields[name] = url
    files = {
        name: data
        for name, data in (("image", parsed.image), ("bg_image", parsed.bg_image))
        if data is not None
    }
    answer = "json" if _wants_json(request, parsed) else "binary"
    return idempotency.fingerprint(f"{endpoint_of(request.scope)} {answer}", fields, files)


def _result_headers(result: RemovalResult, credits_milli: int) -> dict[str, str]:
    """The values of `RESULT_HEADERS`, in its order."""
    box = result.foreground
    return {
        "X-Width": str(result.width),
        "X-Height": str(result.height),
        "X-Foreground-Top": str(box.top),
        "X-Foreground-Left": str(box.left),
        "X-Foreground-Width": str(box.width),
        "X-Foreground-Height": str(box.height),
        "X-Credits-Charged": f"{credits.milli_to_credits(credits_milli):g}",
        "X-Quality": result.quality.value,
        "X-Quality-Models": ",".join(result.models_used),
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
    if contract.sends_subject_type and (subject := subject_type(parsed.fields)) is not None:
        headers[SUBJECT_TYPE_HEADER] = subject
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
