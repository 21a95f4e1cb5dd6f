"""JobRunner: one job item through THE removal use case, on a task-queue worker.

The item's credits were reserved when its job was admitted, so the runner claims the item
(a lease, `bgone.domain.job_items`), counts one image against the account's rate limit and
hands the rest to `RemovalService.run_admitted`, the steps the synchronous routes run too
(fetch, measure, `resolution_too_high`, decode, model, settle). The item then ends once, in
the transaction that writes its usage row: a result is charged, a failure is not and keeps
the synchronous API's code. An account over its rate or its share of the pools is paced:
the item goes back to the queue, its attempt not counted, to come back after Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import anyio.to_thread

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import credits, job_items
from bgone.domain.authentication import KeyContext, context_of_key, require_api_access
from bgone.domain.clock import utc_now
from bgone.domain.job_items import ClaimedItem, ItemResult
from bgone.domain.jobs import ItemFailure
from bgone.domain.metering import JOB_ENDPOINT
from bgone.errors import (
    BgoneError,
    ConcurrencyLimitExceeded,
    InternalError,
    RateLimitExceeded,
    RevokedApiKey,
    ServerBusy,
)
from bgone.inference.options import RemovalOptions
from bgone.infra import metrics
from bgone.infra.ratelimit import Decision, RateLimiter
from bgone.services import rate_admission
from bgone.services.job_inputs import JobInputs, failure_of
from bgone.services.jobs import JobFinishedCallback, notify_finished
from bgone.services.rate_admission import PROVISIONAL_WEIGHT
from bgone.services.removal import RemovalRequest, RemovalService

log = logging.getLogger(__name__)

PACED = (RateLimitExceeded, ConcurrencyLimitExceeded, ServerBusy)


@dataclass
class ItemLedger:
    """The item's `RemovalLedger`: its reservation is the one made at the job's admission."""

    request_id: str
    reservation: credits.Reservation | None
    megapixels: float = 0.0
    rate: Decision | None = None
    credits_milli: int = 0


@dataclass
class JobRunner:
    sessions: SessionFactory
    removal: RemovalService
    limiter: RateLimiter
    inputs: JobInputs
    lease: timedelta
    retention: timedelta
    on_job_finished: list[JobFinishedCallback] = field(default_factory=list)
    clock: Callable[[], datetime] = utc_now

    async def run(self, job_id: str, index: int) -> float | None:
        """Run the item if it is still queued; the seconds after which to queue it again
        when the account must be paced, else None."""
        claimed = await anyio.to_thread.run_sync(self._claim, job_id, index)
        if claimed is None:
            return None  # taken by another worker, cancelled, or a duplicate message
        renewing = asyncio.create_task(self._renew(claimed))
        result: ItemResult | None = None
        failure: ItemFailure | None = None
        try:
            result = await self._process(claimed)
        except PACED as error:
            delay = float(error.retry_after)
            await anyio.to_thread.run_sync(self._give_back, claimed, timedelta(seconds=delay))
            return delay
        except BgoneError as error:
            failure = failure_of(error)
        except Exception as error:  # a bug or a dependency: the item fails, the worker lives
            log.exception("job item %s/%d failed", job_id, index)
            failure = failure_of(
                InternalError(f"an unexpected error occurred: {type(error).__name__}")
            )
        finally:
            renewing.cancel()
        ended = await anyio.to_thread.run_sync(partial(self._finish, claimed, result, failure))
        if not ended and result is not None:
            Path(result.path).unlink(missing_ok=True)  # another attempt owns the item
        if ended and result is not None:
            # Charged with its usage row, in the item's end: counted as a request's charge is.
            metrics.count_credits_charged(result.credits_milli)
        if ended and await anyio.to_thread.run_sync(self._end_job, job_id):
            await anyio.to_thread.run_sync(
                notify_finished, self.sessions, job_id, self.on_job_finished
            )
        return None

    async def _process(self, claimed: ClaimedItem) -> ItemResult:
        caller = await anyio.to_thread.run_sync(self._caller, claimed.key_id)
        fields: dict[str, str] = json.loads(claimed.options_json)
        background_url = fields.pop("bg_image_url", None)
        image = None
        if not claimed.source_is_url:
            image = await anyio.to_thread.run_sync(Path(claimed.source).read_bytes)
        request = RemovalRequest(
            caller=caller,
            endpoint=JOB_ENDPOINT,
            fields=fields,
            defaults=RemovalOptions(),
            image=image,
            image_url=claimed.source if claimed.source_is_url else None,
            background_url=background_url,
        )
        ledger = ItemLedger(claimed.request_id, claimed.reservation)
        started = time.perf_counter()
        options = self.removal.options_for(request)
        await rate_admission.admit(self.limiter, caller, ledger, PROVISIONAL_WEIGHT)
        outcome = await self.removal.run_admitted(request, options, ledger)
        result = outcome.result
        target = self.inputs.outputs(claimed.job_id) / (
            f"{claimed.index:04d}.a{claimed.attempt}.{result.format}"
        )
        await anyio.to_thread.run_sync(target.write_bytes, result.data)
        return ItemResult(
            path=str(target),
            format=result.format,
            credits_milli=outcome.credits_milli,
            megapixels=ledger.megapixels,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    def _caller(self, key_id: str) -> KeyContext:
        with transaction(self.sessions) as session:
            caller = context_of_key(session, key_id)
        if caller is None:
            raise RevokedApiKey("the key that submitted this job no longer exists")
        require_api_access(caller)  # a suspended account's items fail, uncharged
        return caller

    async def _renew(self, claimed: ClaimedItem) -> None:
        """Keep the lease while the item runs, so that only a dead worker loses it."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                await anyio.to_thread.run_sync(self._renew_once, claimed)
            except Exception as error:  # the database is away: the next try may pass
                log.warning(
                    "could not renew the lease of %s/%d: %s", claimed.job_id, claimed.index, error
                )

    def _renew_once(self, claimed: ClaimedItem) -> None:
        with transaction(self.sessions) as session:
            job_items.renew(session, claimed, self.clock(), self.lease)

    def _claim(self, job_id: str, index: int) -> ClaimedItem | None:
        with transaction(self.sessions) as session:
            return job_items.claim(session, job_id, index, self.clock(), self.lease)

    def _give_back(self, claimed: ClaimedItem, delay: timedelta) -> None:
        now = self.clock()
        with transaction(self.sessions) as session:
            job_items.give_back(session, claimed, now, now + delay)

    def _finish(
        self, claimed: ClaimedItem, result: ItemResult | None, failure: ItemFailure | None
    ) -> bool:
        with transaction(self.sessions) as session:
            return job_items.finish(session, claimed, self.clock(), result, failure)

    def _end_job(self, job_id: str) -> bool:
        with transaction(self.sessions) as session:
            return job_items.end_job_if_done(session, job_id, self.clock(), self.retention)
