"""The JSON shapes of the jobs API, as pydantic models: the OpenAPI document shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from bgone.domain import credits
from bgone.domain.jobs import ItemState, ItemView, JobView

JobStateName = Literal["queued", "running", "completed", "failed", "cancelled"]
ItemStateName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class JobCounts(BaseModel):
    total: int = Field(description="Items in the job, numbered from 0 in submission order.")
    queued: int
    running: int
    succeeded: int
    failed: int
    cancelled: int


class JobItem(BaseModel):
    index: int = Field(description="The item's number, from 0 in submission order.")
    name: str = Field(description="The source's file stem; its result's name in the ZIP.")
    state: ItemStateName
    error_code: str | None = Field(
        description="Why the item failed: the synchronous API's code (`failed_to_read_image`, "
        "`resolution_too_high`, ...). Failed items cost nothing."
    )
    error_detail: str | None
    credits_charged: float
    result_url: str | None = Field(description="The result, once the item has succeeded.")


class Job(BaseModel):
    id: str
    state: JobStateName = Field(
        description="`completed` once every item ended, even if some failed; `failed` only "
        "when the job itself could not run."
    )
    counts: JobCounts
    progress: float = Field(description="Ended items / all items, from 0 to 1.")
    options: dict[str, str] = Field(description="The removal options, as sent.")
    webhook_url: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime = Field(description="When the results and the job are deleted.")
    status_url: str
    results_url: str = Field(description="The results as one ZIP (`0007-<stem>.png`, errors.json).")
    items: list[JobItem] | None = Field(
        default=None,
        description=(
            "A page of the items (GET /v1/jobs/{id}: `items_offset`, `items_limit`, default "
            "the first 100), in number order; absent in lists."
        ),
    )


class JobAccepted(BaseModel):
    """The 202 of POST /v1/jobs: the job as admitted (its status URL is also `Location`)."""

    id: str
    state: JobStateName
    status_url: str
    admitted: int = Field(description="Items queued to run.")
    refused: int = Field(description="Items failed at admission (e.g. a ZIP entry's path).")
    credits_reserved: float = Field(description="Credits set aside; failed items give theirs back.")


class JobList(BaseModel):
    jobs: list[Job]
    next_before: datetime | None = Field(
        description="Pass as `before` for the next (older) page; null on the last page."
    )


def job_url(job_id: str) -> str:
    return f"/v1/jobs/{job_id}"


def counts_of(job: JobView) -> JobCounts:
    by = {state: job.counts.get(state, 0) for state in ItemState}
    return JobCounts(
        total=job.item_count,
        queued=by[ItemState.QUEUED],
        running=by[ItemState.RUNNING],
        succeeded=by[ItemState.SUCCEEDED],
        failed=by[ItemState.FAILED],
        cancelled=by[ItemState.CANCELLED],
    )


def item_shape(job_id: str, item: ItemView) -> JobItem:
    done = item.state is ItemState.SUCCEEDED
    return JobItem(
        index=item.index,
        name=item.name,
        state=item.state.value,
        error_code=item.error_code,
        error_detail=item.error_detail,
        credits_charged=credits.milli_to_credits(item.credits_charged_milli),
        result_url=f"{job_url(job_id)}/items/{item.index}" if done else None,
    )


def job_shape(job: JobView, items: list[ItemView] | None = None) -> Job:
    return Job(
        id=job.id,
        state=job.state.value,
        counts=counts_of(job),
        progress=round(job.ended_items / job.item_count, 4) if job.item_count else 1.0,
        options=job.options,
        webhook_url=job.webhook_url,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        expires_at=job.expires_at,
        status_url=job_url(job.id),
        results_url=f"{job_url(job.id)}/results.zip",
        items=None if items is None else [item_shape(job.id, item) for item in items],
    )


def accepted_shape(job: JobView, admitted: int, refused: int, reserved_milli: int) -> JobAccepted:
    return JobAccepted(
        id=job.id,
        state=job.state.value,
        status_url=job_url(job.id),
        admitted=admitted,
        refused=refused,
        credits_reserved=credits.milli_to_credits(reserved_milli),
    )
