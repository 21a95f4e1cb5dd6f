"""The batch jobs API: submit, read, list, cancel, and the results (one, or all as a ZIP).

Every key of the account may read its jobs; another account's job answers 404, as one
that does not exist. `POST /v1/jobs` parses the body (`bgone.api.job_requests`), then the
service admits it: two steps, so that an idempotency layer can wrap the second.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from bgone.api.deps import KeyContextDep
from bgone.api.idempotent import answer_idempotently
from bgone.api.job_requests import job_fingerprint, parse_job_request
from bgone.api.job_shapes import Job, JobAccepted, JobList, accepted_shape, job_shape
from bgone.errors import InvalidWebhookUrl
from bgone.inference.pipeline import MEDIA_TYPES
from bgone.server.container import Services
from bgone.server.deps import ServicesDep
from bgone.services.jobs import JobSubmission

router = APIRouter(tags=["batch jobs"])

JobId = Annotated[str, Path(description="The job's id, e.g. `job_4f1c0a9e7b2d4c6e8a0b1c2d`.")]


@router.post(
    "/v1/jobs",
    status_code=202,
    response_model=JobAccepted,
    summary="Submit a batch job: many images, processed by workers",
    description=(
        "Up to `BGONE_JOB_MAX_ITEMS` images as multipart (repeated `image_file` fields, or one "
        '`image_zip`) or as JSON (`{"image_urls": [...]}`), with the removal options of the '
        "synchronous API by the same names, and an optional `webhook_url`. Credits are "
        "reserved per item now; a job the account cannot pay for is refused whole. The "
        "status URL is also in `Location`. The per-minute rate is not counted here: workers "
        "pace each account at its rate."
    ),
)
async def submit_job(request: Request, services: ServicesDep, context: KeyContextDep) -> Response:
    jobs = services.jobs
    submission = await parse_job_request(
        request, jobs.new_job_id(), services.job_inputs, services.settings.job_max_items
    )
    submitted = False

    async def run() -> Response:
        nonlocal submitted
        submitted = True  # from here the service owns the staged files (it discards on refusal)
        admission = await run_in_threadpool(jobs.submit, context, submission)
        body = accepted_shape(
            admission.job, admission.admitted, admission.refused, admission.reserved_milli
        )
        return JSONResponse(
            body.model_dump(mode="json"), status_code=202, headers={"Location": body.status_url}
        )

    try:
        await run_in_threadpool(_check_webhook_url, services, context.account_id, submission)

        async def fingerprint() -> str:  # reads the staged files back: only with a key
            return await run_in_threadpool(job_fingerprint, submission)

        return await answer_idempotently(
            request, services.idempotency, context.account_id, fingerprint, run
        )
    finally:
        if not submitted:  # refused, or a replay of the first answer: no job of its own
            services.job_inputs.discard(submission.job_id)


def _check_webhook_url(services: Services, account_id: int, submission: JobSubmission) -> None:
    """A job's webhook_url is one of the account's registered endpoints (signed with its
    secret), never an arbitrary address."""
    url = submission.webhook_url
    if url is not None and services.webhooks.endpoint_for_url(account_id, url) is None:
        raise InvalidWebhookUrl(
            "webhook_url must be one of this account's webhook endpoints (/v1/webhooks)."
        )


@router.get("/v1/jobs", response_model=JobList, summary="The account's jobs, newest first")
async def list_jobs(
    services: ServicesDep,
    context: KeyContextDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Jobs per page.")] = 20,
    before: Annotated[
        datetime | None, Query(description="Only jobs created before this (`next_before`).")
    ] = None,
) -> JobList:
    found = await run_in_threadpool(services.jobs.list, context.account_id, limit + 1, before)
    page = found[:limit]
    following = page[-1].created_at if len(found) > limit else None
    return JobList(jobs=[job_shape(job) for job in page], next_before=following)


@router.get(
    "/v1/jobs/{job_id}",
    response_model=Job,
    summary="A job: state, counts, progress, and its items a page at a time",
    description=(
        "`items` holds the items from number `items_offset` (default 0), at most `items_limit` "
        "of them (default 100): a client polling a large job for its progress reads the "
        "counts, and pages through the items when it needs them."
    ),
)
async def get_job(
    job_id: JobId,
    services: ServicesDep,
    context: KeyContextDep,
    items_offset: Annotated[int, Query(ge=0, description="The first item's number.")] = 0,
    items_limit: Annotated[int, Query(ge=0, le=1000, description="Items in this page.")] = 100,
) -> Job:
    job, items = await run_in_threadpool(
        services.jobs.page, context.account_id, job_id, items_offset, items_limit
    )
    return job_shape(job, items)


@router.delete(
    "/v1/jobs/{job_id}",
    response_model=Job,
    summary="Cancel a job: what has not started is cancelled and its credits released",
    description=(
        "Items already running finish (and are charged). A job that has ended answers as it "
        "is, so a DELETE may be repeated."
    ),
)
async def cancel_job(job_id: JobId, services: ServicesDep, context: KeyContextDep) -> Job:
    job = await run_in_threadpool(services.jobs.cancel, context.account_id, job_id)
    return job_shape(job)


@router.get(
    "/v1/jobs/{job_id}/results.zip",
    summary="Every result as one ZIP, streamed",
    description=(
        "Entries `0007-<stem>.png` (the item's number, its source's stem, the result's "
        "format), and `errors.json` listing the failed and cancelled items with their codes."
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The ZIP."}},
)
async def results_zip(
    job_id: JobId, services: ServicesDep, context: KeyContextDep
) -> StreamingResponse:
    stream = await run_in_threadpool(services.jobs.results_zip, context.account_id, job_id)
    return StreamingResponse(
        stream,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{job_id}.zip"'},
    )


@router.get(
    "/v1/jobs/{job_id}/items/{index}",
    summary="One item's result",
    response_class=FileResponse,
    responses={
        200: {
            "content": {media: {} for media in ("image/png", "image/jpeg", "image/webp")},
            "description": "The result image.",
        }
    },
)
async def item_result(
    job_id: JobId,
    index: Annotated[int, Path(ge=0, description="The item's number, from 0.")],
    services: ServicesDep,
    context: KeyContextDep,
) -> FileResponse:
    item, path = await run_in_threadpool(
        services.jobs.item_result, context.account_id, job_id, index
    )
    media = MEDIA_TYPES.get(item.result_format or "png", "application/octet-stream")
    return FileResponse(
        path, media_type=media, filename=f"{item.index:04d}-{item.name}.{item.result_format}"
    )
