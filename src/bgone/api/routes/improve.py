"""remove.bg's `POST /v1.0/improve`: an image the customer wants looked at, stored for the
operator (`bgone improve list`, `bgone improve export`). Free of credits."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bgone.api.contracts import REMOVE_BG_IMPROVE, parse_request
from bgone.api.deps import KeyContextDep
from bgone.domain import improve
from bgone.server.deps import ServicesDep
from bgone.services.improve import ImproveRequest

router = APIRouter(tags=["improve"])


@router.post("/v1.0/improve", summary="Submit an image for the operator (remove.bg contract)")
async def submit_for_improvement(
    request: Request, services: ServicesDep, context: KeyContextDep
) -> JSONResponse:
    limit = min(services.settings.max_upload_bytes, improve.MAX_BYTES)
    parsed = await parse_request(request, REMOVE_BG_IMPROVE, limit)
    submission = await services.improve.submit(
        ImproveRequest(
            caller=context,
            image=parsed.image,
            image_url=parsed.image_url,
            tag=parsed.fields.get("tag"),
            filename=parsed.fields.get("image_filename"),
        )
    )
    return JSONResponse({"id": submission.id})
