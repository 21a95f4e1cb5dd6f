"""The dashboard's batch jobs: the account's latest jobs with their progress.

Every member of the account sees them (jobs are read-only here; keys submit and cancel
them through `/v1/jobs`). While a job is still open the page refreshes itself.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from bgone.domain.jobs import OPEN_JOB_STATES, ItemState, JobView
from bgone.server.deps import ServicesDep
from bgone.web.templating import render
from bgone.web.viewer import SignedInDep

router = APIRouter(include_in_schema=False)

SHOWN = 50
REFRESH_SECONDS = 3


@router.get("/account/jobs", response_class=HTMLResponse)
async def jobs_page(request: Request, services: ServicesDep, viewer: SignedInDep) -> HTMLResponse:
    found = await run_in_threadpool(services.jobs.list, viewer.account.id, SHOWN)
    shown = [_row(job) for job in found]
    open_jobs = any(job.state.value in OPEN_JOB_STATES for job in found)
    return render(
        request,
        "jobs.html",
        viewer,
        jobs=shown,
        refresh=REFRESH_SECONDS if open_jobs else None,
    )


def _row(job: JobView) -> dict[str, object]:
    counts = {state.value: job.counts.get(state, 0) for state in ItemState}
    return {
        "id": job.id,
        "created_at": job.created_at,
        "expires_at": job.expires_at,
        "state": job.state.value,
        "total": job.item_count,
        "ended": job.ended_items,
        "percent": round(100 * job.ended_items / job.item_count) if job.item_count else 100,
        **counts,
    }
