"""JobService: admit a batch job whole, read it, cancel it, stream its results.

Front ends first *parse* a submission (`JobSubmission`: the sources staged on disk by
`JobInputs`, the option fields as text), then `submit` *admits* it: the options are parsed
by the removal use case itself, every item's credits are reserved in one transaction (a job
the account cannot pay for is refused whole, with `insufficient_credits`), and the queued
items are handed to the task queue after the commit. The two steps stay apart so that an
idempotency layer can wrap the second. Running the items is `bgone.services.job_runner`.
"""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import job_items, jobs
from bgone.domain.authentication import KeyContext
from bgone.domain.clock import utc_now
from bgone.domain.jobs import ItemState, ItemView, JobState, JobView, NewItem, NewJob
from bgone.domain.metering import JOB_ENDPOINT
from bgone.errors import JobItemNotFound, JobItemNotReady, JobNotFound, TooManyJobItems
from bgone.inference.options import RemovalOptions
from bgone.services.job_inputs import JobInputs
from bgone.services.removal import RemovalRequest, RemovalService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSummary:
    """What a job-finished callback is told (the webhooks' job.completed / job.failed)."""

    job_id: str
    account_id: int
    state: str
    item_count: int
    succeeded: int
    failed: int
    cancelled: int
    webhook_url: str | None
    finished_at: datetime | None
    credits_charged_milli: int = 0


JobFinishedCallback = Callable[[JobSummary], None]


def summary_of(job: JobView, credits_charged_milli: int = 0) -> JobSummary:
    return JobSummary(
        job_id=job.id,
        account_id=job.account_id,
        state=job.state.value,
        item_count=job.item_count,
        succeeded=job.counts.get(ItemState.SUCCEEDED, 0),
        failed=job.counts.get(ItemState.FAILED, 0),
        cancelled=job.counts.get(ItemState.CANCELLED, 0),
        webhook_url=job.webhook_url,
        finished_at=job.finished_at,
        credits_charged_milli=credits_charged_milli,
    )


def notify_finished(
    sessions: SessionFactory, job_id: str, callbacks: Sequence[JobFinishedCallback]
) -> None:
    """Tell each callback once, outside any transaction; a failing one is logged, alone."""
    if not callbacks:
        return
    with transaction(sessions) as session:
        job = jobs.get_job(session, job_id)
        charged = jobs.credits_charged_milli(session, job_id) if job is not None else 0
    if job is None:
        return
    summary = summary_of(job, charged)
    for callback in callbacks:
        try:
            callback(summary)
        except Exception:  # one listener's failure must not stop the others or the worker
            log.exception("job-finished callback %r failed for %s", callback, job_id)


@dataclass(frozen=True)
class JobSubmission:
    """A parsed `POST /v1/jobs`: staged sources, option fields, the job's webhook URL."""

    job_id: str
    items: list[NewItem]
    fields: dict[str, str]
    webhook_url: str | None = None


@dataclass(frozen=True)
class Admission:
    job: JobView
    admitted: int  # items queued
    refused: int  # items failed at admission
    reserved_milli: int


@dataclass
class JobService:
    sessions: SessionFactory
    read_sessions: SessionFactory
    removal: RemovalService
    inputs: JobInputs
    enqueue: Callable[[str, int], None]
    max_items: int
    retention: timedelta
    on_job_finished: list[JobFinishedCallback] = field(default_factory=list)
    clock: Callable[[], datetime] = utc_now

    def new_job_id(self) -> str:
        return jobs.new_job_id()

    def submit(self, caller: KeyContext, submission: JobSubmission) -> Admission:
        """Admit the job whole or refuse it (its staged files are then deleted)."""
        try:
            new, queued, cost = self._admit(caller, submission)
        except BaseException:
            self.inputs.discard(submission.job_id)
            raise
        # Committed: from here on nothing may delete the job's files.
        for index in queued:
            try:
                self.enqueue(new.id, index)
            except Exception as error:  # the queue is away: the reaper re-sends queued items
                log.warning("could not queue %s/%d now: %s", new.id, index, error)
        if not queued:
            notify_finished(self.sessions, new.id, self.on_job_finished)
        job = self.get(caller.account_id, new.id)
        refused = len(new.items) - len(queued)
        return Admission(job, len(queued), refused, cost * len(queued))

    def _admit(
        self, caller: KeyContext, submission: JobSubmission
    ) -> tuple[NewJob, list[int], int]:
        if len(submission.items) > self.max_items:
            raise TooManyJobItems(
                f"The job holds {len(submission.items)} images; a job may hold {self.max_items}."
            )
        request = RemovalRequest(
            caller=caller,
            endpoint=JOB_ENDPOINT,
            fields=submission.fields,
            defaults=RemovalOptions(),
        )
        options = self.removal.options_for(request)  # invalid_<option> refuses the job
        cost = self.removal.cost_milli(options) if caller.spends_credits else 0
        now = self.clock()
        new = NewJob(
            id=submission.job_id,
            account_id=caller.account_id,
            key_id=caller.key_id,
            options=dict(submission.fields),
            webhook_url=submission.webhook_url,
            items=submission.items,
            created_at=now,
            expires_at=now + self.retention,
            cost_milli=cost,
        )
        with transaction(self.sessions) as session:
            queued = jobs.create_job(session, new, caller.limits)
        return new, queued, cost

    def get(self, account_id: int, job_id: str) -> JobView:
        with transaction(self.read_sessions) as session:
            job = jobs.get_job(session, job_id, account_id)
        if job is None:
            raise JobNotFound(f"no job {job_id!r} in this account")
        return job

    def items(
        self, account_id: int, job_id: str, offset: int = 0, limit: int | None = None
    ) -> list[ItemView]:
        return self.page(account_id, job_id, offset, limit)[1]

    def page(
        self, account_id: int, job_id: str, offset: int = 0, limit: int | None = None
    ) -> tuple[JobView, list[ItemView]]:
        """The job and a page of its items, read together (one transaction: a status poll
        sees counts and items of the same moment, at the cost of one database round)."""
        with transaction(self.read_sessions) as session:
            job = jobs.get_job(session, job_id, account_id)
            if job is None:
                raise JobNotFound(f"no job {job_id!r} in this account")
            return job, jobs.job_items(session, job_id, offset, limit)

    def list(self, account_id: int, limit: int, before: datetime | None = None) -> list[JobView]:
        with transaction(self.read_sessions) as session:
            return jobs.list_jobs(session, account_id, limit, before)

    def cancel(self, account_id: int, job_id: str) -> JobView:
        """Cancel what has not started and release its credits. A job that has already
        ended answers as it is: a DELETE may be repeated safely."""
        job = self.get(account_id, job_id)
        if job.state not in (JobState.QUEUED, JobState.RUNNING):
            return job
        with transaction(self.sessions) as session:
            job_items.cancel(session, job_id, self.clock(), self.retention)
        notify_finished(self.sessions, job_id, self.on_job_finished)
        return self.get(account_id, job_id)

    def item_result(self, account_id: int, job_id: str, index: int) -> tuple[ItemView, Path]:
        self.get(account_id, job_id)
        with transaction(self.read_sessions) as session:
            item = jobs.job_item(session, job_id, index)
        if item is None:
            raise JobItemNotFound(f"job {job_id} has no item {index}")
        if item.state is not ItemState.SUCCEEDED or item.result_path is None:
            why = f" ({item.error_code})" if item.error_code else ""
            raise JobItemNotReady(f"item {index} is {item.state.value}{why}: no result")
        return item, Path(item.result_path)

    def results_zip(self, account_id: int, job_id: str) -> Iterator[bytes]:
        """The job's results as a ZIP, written as it is read: never whole in memory."""
        items = self.items(account_id, job_id)
        return _zip_stream(items)


def entry_name(item: ItemView) -> str:
    return f"{item.index:04d}-{item.name}.{item.result_format or 'png'}"


def errors_document(items: Sequence[ItemView]) -> list[dict[str, object]]:
    return [
        {
            "index": item.index,
            "name": item.name,
            "state": item.state.value,
            "code": item.error_code,
            "detail": item.error_detail,
        }
        for item in items
        if item.state in (ItemState.FAILED, ItemState.CANCELLED)
    ]


class _Sink:
    """A write-only file for `zipfile` whose bytes are taken away after each write."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def take(self) -> bytes:
        taken, self._parts = b"".join(self._parts), []
        return taken


def _zip_stream(items: list[ItemView]) -> Iterator[bytes]:
    sink = _Sink()
    # Stored, not deflated: PNG, JPEG and WebP are compressed already.
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
        for item in items:
            if item.state is not ItemState.SUCCEEDED or not item.result_path:
                continue
            path = Path(item.result_path)
            if not path.exists():
                continue
            with (
                path.open("rb") as source,
                archive.open(entry_name(item), "w", force_zip64=True) as entry,
            ):
                while chunk := source.read(1 << 20):
                    entry.write(chunk)
                    yield sink.take()
            yield sink.take()
        archive.writestr("errors.json", json.dumps(errors_document(items), indent=2))
    yield sink.take()
