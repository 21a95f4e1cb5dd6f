"""The removal use case: admit -> reserve -> run -> settle, for any front end.

The HTTP routes call it today and batch workers will tomorrow; each hands over the sources
and the options as text (`RemovalRequest`) and a ledger the request's final usage row is
written from (`RemovalLedger`). Every side effect happens once, in this order:

1. fetch the sources, parse the options (over the operator's default quality), measure the
   image (header only) and refuse one larger than the plan allows;
2. admit: one hit on the account's rate limit, weighed by the image's megapixels;
3. reserve: the result's credits, with a pending usage row (production keys only; `auto`
   falls back to a preview when a full result is too many);
4. run the engine on the bounded work queue;
5. settle: a result charges its reservation (`ledger.credits_milli`). The final usage row,
   which commits or releases the reservation in the same transaction, is written once by
   whoever ends the request (the HTTP middleware, before the answer's last byte), so a
   failure at any step leaves the charge at 0 and the reservation released.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Protocol, TypeVar

import anyio.to_thread

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import credits, metering, pricing
from bgone.domain.authentication import KeyContext
from bgone.domain.usage import UsageEntry
from bgone.errors import InsufficientCredits, RateLimitExceeded, ResolutionTooHigh
from bgone.inference.imageio import peek_dimensions
from bgone.inference.options import Quality, RemovalOptions, Size
from bgone.inference.pipeline import RemovalResult
from bgone.inference.protocols import RemoverProtocol
from bgone.infra import metrics
from bgone.infra.ratelimit import Decision, RateLimiter
from bgone.infra.url_fetch import BACKGROUND_ERRORS, UrlFetcher
from bgone.infra.usage_journal import Journal

T = TypeVar("T")


class WorkQueue(Protocol):
    """The bounded work queue (`bgone.server.work_queue.InferenceGate` in the server)."""

    async def run(self, function: Callable[[], T]) -> T: ...


class RemovalLedger(Protocol):
    """What the request's final usage row is written from, filled in as the steps happen.

    The HTTP middleware's `RequestRecord` is one: it also carries the rate decision into
    the answer's headers, on errors too.
    """

    request_id: str
    megapixels: float
    rate: Decision | None
    # Credits set aside (or being set aside) for this request: its usage row settles them.
    reservation: credits.Reservation | None
    credits_milli: int


@dataclass(frozen=True)
class RemovalRequest:
    """One removal, as a front end hands it over: exactly one image source, options as text."""

    caller: KeyContext
    endpoint: str  # what the usage rows name as the endpoint
    fields: Mapping[str, str]  # option name -> text, as `RemovalOptions.from_fields` reads
    # The front end's own defaults (each provider has its own); the quality is the operator's.
    defaults: RemovalOptions
    image: bytes | None = None
    image_url: str | None = None
    background: bytes | None = None
    background_url: str | None = None


@dataclass(frozen=True)
class RemovalOutcome:
    result: RemovalResult
    credits_milli: int  # what the request is charged once its usage row is written


@dataclass(frozen=True)
class RemovalService:
    sessions: SessionFactory
    journal: Journal  # learns of a reservation before it is made (see `_reserve_once`)
    limiter: RateLimiter
    fetcher: UrlFetcher
    engine: RemoverProtocol
    work_queue: WorkQueue
    # Told the account that was charged, e.g. to drop a cached balance.
    on_charged: Callable[[int], None]
    # The operator's choices (BGONE_DEFAULT_QUALITY, BGONE_BEST_QUALITY_CREDITS).
    default_quality: Quality = Quality.FAST
    best_quality_credits: float = 1.0

    async def remove(self, request: RemovalRequest, ledger: RemovalLedger) -> RemovalOutcome:
        caller = request.caller
        image, background = await self._sources(request)
        defaults = replace(request.defaults, quality=self.default_quality)
        options = RemovalOptions.from_fields(request.fields, bg_image=background, defaults=defaults)
        self._measure(image, caller, ledger)
        size = pricing.size_for_key(options.size, caller.spends_credits)
        if size is not options.size:
            options = replace(options, size=size)
        await anyio.to_thread.run_sync(partial(self._admit, caller, ledger))
        options = await anyio.to_thread.run_sync(partial(self._reserve, request, options, ledger))
        # A failure from here on leaves `ledger.credits_milli` at 0: the usage row releases
        # the reservation. On success that row charges it.
        result = await self.work_queue.run(partial(self.engine.remove, image, options))
        metrics.observe_engine_timings(result.timings, result.models_used)
        return self._settle(caller, ledger, result)

    async def _sources(self, request: RemovalRequest) -> tuple[bytes, bytes | None]:
        if request.image is not None:
            image = request.image
        elif request.image_url is not None:
            image = await anyio.to_thread.run_sync(partial(self.fetcher.fetch, request.image_url))
        else:
            raise ValueError("a removal request needs an image or an image URL")
        background = request.background
        if request.background_url:
            fetch = partial(self.fetcher.fetch, request.background_url, BACKGROUND_ERRORS)
            background = await anyio.to_thread.run_sync(fetch)
        return image, background

    def _measure(self, image: bytes, caller: KeyContext, ledger: RemovalLedger) -> None:
        width, height = peek_dimensions(image, self.engine.limits)
        ledger.megapixels = width * height / 1_000_000
        if ledger.megapixels > caller.limits.max_megapixels:
            raise ResolutionTooHigh(
                f"The image has {ledger.megapixels:.1f} MP; your plan allows up to "
                f"{caller.limits.max_megapixels:g} MP."
            )

    def _admit(self, caller: KeyContext, ledger: RemovalLedger) -> None:
        decision = self.limiter.hit(
            pricing.rate_bucket(caller.account_id, caller.environment),
            caller.rate_per_minute,
            pricing.rate_weight(ledger.megapixels),
        )
        ledger.rate = decision
        if not decision.allowed:
            raise RateLimitExceeded(
                f"More than {decision.limit} images (of up to 1 MP each) per minute for this "
                f"account. Retry after {decision.retry_after} s.",
                decision.retry_after,
            )

    def _reserve(
        self, request: RemovalRequest, options: RemovalOptions, ledger: RemovalLedger
    ) -> RemovalOptions:
        """Set credits aside before any work; returns the options the credits pay for."""
        if not request.caller.spends_credits:
            return options
        try:
            self._reserve_once(request, ledger, self._cost(options.size, options.quality))
            return options
        except InsufficientCredits:
            cheaper = pricing.fallback_when_short(options.size)
            if cheaper is None:
                raise
        self._reserve_once(request, ledger, self._cost(cheaper, options.quality))
        return replace(options, size=cheaper)

    def _cost(self, size: Size, quality: Quality) -> int:
        return pricing.result_cost_milli(
            size, quality, best_quality_credits=self.best_quality_credits
        )

    def _reserve_once(self, request: RemovalRequest, ledger: RemovalLedger, milli: int) -> None:
        """Reserve with a pending usage row; the request's final usage row settles both.

        The journal and `ledger.reservation` learn of the reservation before it is made: if
        the transaction's outcome is unknown (the database went away during COMMIT), the
        final row still releases it when it exists, and a dead process's journal lets others
        do so.
        """
        caller = request.caller
        at = datetime.now(UTC)
        self.journal.note_reservation(ledger.request_id)
        ledger.reservation = credits.Reservation(caller.account_id, credits.period_key(at), milli)
        pending = UsageEntry(
            request_id=ledger.request_id,
            at=at,
            endpoint=request.endpoint,
            status=metering.PENDING_STATUS,
            account_id=caller.account_id,
            key_id=caller.key_id,
        )
        try:
            with transaction(self.sessions) as session:
                metering.reserve_with_pending_row(session, pending, milli, caller.limits)
        except InsufficientCredits:
            ledger.reservation = None  # rolled back: nothing was set aside
            raise

    def _settle(
        self, caller: KeyContext, ledger: RemovalLedger, result: RemovalResult
    ) -> RemovalOutcome:
        if ledger.reservation is not None:
            ledger.credits_milli = ledger.reservation.milli
            self.on_charged(caller.account_id)
        return RemovalOutcome(result, ledger.credits_milli)
