"""The removal use case: admit -> fetch -> measure -> settle the admission -> decode -> run.

The HTTP routes call it today and batch workers will tomorrow; each hands over the sources
and the options as text (`RemovalRequest`) and a ledger the request's final usage row is
written from (`RemovalLedger`). Every side effect happens once, in this order:

1. parse the options (over the operator's default quality);
2. admit, before any download or decode: refuse at once when not one image is left this
   minute (a look at the limit, which front ends also make before reading the body), reserve
   the result's credits, with a pending usage
   row (production keys only; `auto` falls back to a preview when a full result is too
   many), then one hit on the account's rate limit, provisionally weighed as one image. The
   credits come first so that a 402 uses up no rate-limit quota; an account out of credits
   or over its limit never makes the server fetch anything;
3. fetch URL sources on the download pool, measure the image (header only), refuse one
   larger than the plan allows, and hit the rate limit again for the weight the image has
   beyond one image (a refusal then still releases the reservation);
4. decode on the decode pool and run the engine on the inference pool: each pool bounds the
   share one account may hold (429 `concurrency_limit_exceeded` past it);
5. settle: a result charges its reservation (`ledger.credits_milli`). The final usage row,
   which commits or releases the reservation in the same transaction, is written once by
   whoever ends the request (the HTTP middleware, before the answer's last byte), so a
   failure at any step leaves the charge at 0 and the reservation released.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Protocol, TypeVar

import anyio.to_thread

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import credits, metering, pricing
from bgone.domain.authentication import KeyContext
from bgone.domain.usage import UsageEntry
from bgone.errors import (
    ConcurrencyLimitExceeded,
    InsufficientCredits,
    RateLimitExceeded,
    ResolutionTooHigh,
)
from bgone.inference.imageio import DecodedImage, DecodeLimits, decode, peek_dimensions
from bgone.inference.options import Quality, RemovalOptions, Size
from bgone.inference.pipeline import RemovalResult
from bgone.inference.protocols import RemoverProtocol
from bgone.infra import metrics
from bgone.infra.ratelimit import Decision, RateLimiter
from bgone.infra.refusal_pacing import RefusalPacer
from bgone.infra.url_fetch import BACKGROUND_ERRORS, UrlFetcher
from bgone.infra.usage_journal import Journal
from bgone.services import rate_admission
from bgone.services.rate_admission import PROVISIONAL_WEIGHT

T = TypeVar("T")


class WorkPool(Protocol):
    """A bounded pool accounts share (`bgone.infra.shared_pool.AccountSharedPool` in the
    server): refuses at once past the account's share or when full."""

    async def run(self, account: Hashable, function: Callable[[], T]) -> T: ...

    def refuse_if_full(self, account: Hashable) -> None:
        """Raise what `run` would raise now, without taking a slot."""
        ...


class InProcessSlots(Protocol):
    """Each account's images in process across stages (`bgone.infra.account_slots`)."""

    def refuse_if_full(self, account: Hashable) -> None: ...

    def receiving(self, account: Hashable) -> AbstractContextManager[None]: ...

    def holding(
        self, account: Hashable, weight: float = 1.0
    ) -> AbstractAsyncContextManager[None]: ...


@dataclass(frozen=True)
class RemovalPools:
    """Where each stage's blocking work runs: never on the threads authentication uses."""

    downloads: WorkPool
    decoding: WorkPool
    inference: WorkPool
    # None: only each pool's own share applies (the unit tier's fakes).
    in_process: InProcessSlots | None = None


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
    pools: RemovalPools
    # Told the account that was charged, e.g. to drop a cached balance.
    on_charged: Callable[[int], None]
    # The operator's choices (BGONE_DEFAULT_QUALITY, BGONE_BEST_QUALITY_CREDITS).
    default_quality: Quality = Quality.FAST
    best_quality_credits: float = 1.0
    # Holds back the refusals of an account that resends without waiting (None: never).
    pacer: RefusalPacer | None = None
    # Told of a 429 for the rate limit (the rate_limit.exceeded event: enqueue only).
    on_rate_limited: Callable[[KeyContext], None] = lambda caller: None

    async def remove(self, request: RemovalRequest, ledger: RemovalLedger) -> RemovalOutcome:
        caller = request.caller
        options = self.options_for(request)
        await self.refuse_when_exhausted(caller, ledger)
        options = await anyio.to_thread.run_sync(partial(self._reserve, request, options, ledger))
        # A failure from here on leaves `ledger.credits_milli` at 0: the usage row releases
        # the reservation. On success that row charges it.
        await self._admit(caller, ledger, PROVISIONAL_WEIGHT)
        return await self.run_admitted(request, options, ledger)

    def options_for(self, request: RemovalRequest) -> RemovalOptions:
        """The request's options, parsed (`invalid_<option>` on a bad one), over the
        operator's default quality, as the caller's key may have them."""
        defaults = replace(request.defaults, quality=self.default_quality)
        options = RemovalOptions.from_fields(
            request.fields, bg_image=request.background, defaults=defaults
        )
        size = pricing.size_for_key(options.size, request.caller.spends_credits)
        return options if size is options.size else replace(options, size=size)

    def cost_milli(self, options: RemovalOptions) -> int:
        """What one result with these options is charged (and so reserved)."""
        return self._cost(options.size, options.quality)

    async def run_admitted(
        self, request: RemovalRequest, options: RemovalOptions, ledger: RemovalLedger
    ) -> RemovalOutcome:
        """Steps 3 to 5 for a removal already admitted: its credits are reserved (in
        `ledger.reservation`, or not at all for a staging key) and one image is counted
        against the rate limit. The synchronous routes get here through `remove`; a batch
        job's item, whose credits were reserved at the job's admission, directly."""
        caller = request.caller
        image, background = await self._sources(request)
        if background is not request.background:
            options = replace(options, bg_image=background)
        self._measure(image, caller, ledger)
        beyond = pricing.rate_weight(ledger.megapixels) - PROVISIONAL_WEIGHT
        if beyond > 0:
            await self._admit(caller, ledger, beyond)
        account = caller.account_id
        # From decoding to the result the image takes CPU: one of the account's images in
        # process, weighing its megapixels while other accounts are served too (it waits
        # for its weight to fit; downloads wait on the network and have their own share).
        async with self._in_process(account, pricing.rate_weight(ledger.megapixels)):
            decoded = await self.pools.decoding.run(
                account, partial(_timed_decode, image, self.engine.limits)
            )
            del image  # the decoded pixels are what the engine needs now
            result = await self.pools.inference.run(
                account, partial(self.engine.remove, decoded, options)
            )
        metrics.observe_engine_timings(result.timings, result.models_used)
        return self._settle(caller, ledger, result)

    def receiving(self, caller: KeyContext) -> AbstractContextManager[None]:
        """Around reading a request's body, after `refuse_when_exhausted`: the request counts
        against the account's share of images in process while it arrives."""
        slots = self.pools.in_process
        return nullcontext() if slots is None else slots.receiving(caller.account_id)

    def _in_process(self, account: Hashable, weight: float) -> AbstractAsyncContextManager[None]:
        slots = self.pools.in_process
        return nullcontext() if slots is None else slots.holding(account, weight)

    async def _sources(self, request: RemovalRequest) -> tuple[bytes, bytes | None]:
        account = request.caller.account_id
        if request.image is not None:
            image = request.image
        elif request.image_url is not None:
            fetch = partial(self.fetcher.fetch, request.image_url)
            image = await self.pools.downloads.run(account, fetch)
        else:
            raise ValueError("a removal request needs an image or an image URL")
        background = request.background
        if request.background_url:
            fetch = partial(self.fetcher.fetch, request.background_url, BACKGROUND_ERRORS)
            background = await self.pools.downloads.run(account, fetch)
        return image, background

    def _measure(self, image: bytes, caller: KeyContext, ledger: RemovalLedger) -> None:
        width, height = peek_dimensions(image, self.engine.limits)
        ledger.megapixels = width * height / 1_000_000
        if ledger.megapixels > caller.limits.max_megapixels:
            raise ResolutionTooHigh(
                f"The image has {ledger.megapixels:.1f} MP; your plan allows up to "
                f"{caller.limits.max_megapixels:g} MP."
            )

    async def refuse_when_exhausted(self, caller: KeyContext, ledger: RemovalLedger) -> None:
        """429 at once when not one image is left this minute, or the account's share of the
        decode or inference pool is full (503 when the pool is): looks, which use up nothing.

        Front ends call it before they read the request's body, and `remove` before it
        reserves anything, so that such an account costs neither a body parse nor a database
        write. Whoever gets past it is counted by `rate_admission.admit` and the pools.
        """
        try:
            await rate_admission.refuse_when_exhausted(self.limiter, caller, ledger)
            for pool in (self.pools.decoding, self.pools.inference):
                pool.refuse_if_full(caller.account_id)
            if self.pools.in_process is not None:
                self.pools.in_process.refuse_if_full(caller.account_id)
        except (RateLimitExceeded, ConcurrencyLimitExceeded) as refusal:
            if isinstance(refusal, RateLimitExceeded):
                self.on_rate_limited(caller)
            if self.pacer is not None:
                await self.pacer.pace(caller.account_id, refusal.retry_after)
            raise

    async def _admit(self, caller: KeyContext, ledger: RemovalLedger, weight: float) -> None:
        try:
            await rate_admission.admit(self.limiter, caller, ledger, weight)
        except RateLimitExceeded:
            self.on_rate_limited(caller)
            raise

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


def _timed_decode(image: bytes, limits: DecodeLimits) -> DecodedImage:
    # Decoding has its own pool now, so its time is taken here rather than by the engine.
    with metrics.timed_stage("decode"):
        return decode(image, limits)
