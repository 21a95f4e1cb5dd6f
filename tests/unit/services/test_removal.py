"""The removal use case with a fake engine and a real SQLite database: each step once, in
order (reserve -> admit -> measure -> decode -> run -> settle), and what a failure at each
leaves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from sqlalchemy import select

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import UsageRecordRow
from bgone.domain import credits, metering, pricing
from bgone.domain.authentication import KeyContext
from bgone.domain.usage import UsageEntry
from bgone.errors import (
    ConcurrencyLimitExceeded,
    InsufficientCredits,
    InvalidOption,
    ModelNotInstalled,
    RateLimitExceeded,
    ResolutionTooHigh,
)
from bgone.inference.options import OutputFormat, RemovalOptions, Size
from bgone.infra.account_slots import AccountSlots
from bgone.security.keys import Environment
from bgone.services.removal import RemovalOutcome, RemovalPools, RemovalRequest
from tests.support.imagegen import encode, gradient_rgb
from tests.unit.fakes import RESULT, CountingQueue, Ledger
from tests.unit.services.conftest import Parts

PHOTO = encode(gradient_rgb(64, 48), "PNG")
BACKGROUND = encode(gradient_rgb(8, 8), "PNG")
MakeParts = Callable[..., Parts]
MakeCaller = Callable[..., KeyContext]
T = TypeVar("T")


def request(caller: KeyContext, **fields: str) -> RemovalRequest:
    return RemovalRequest(
        caller=caller, endpoint="POST /v2", fields=fields, defaults=RemovalOptions(), image=PHOTO
    )


def run(parts: Parts, removal: RemovalRequest, ledger: Ledger) -> RemovalOutcome:
    return asyncio.run(parts.service.remove(removal, ledger))


def figures(sessions: SessionFactory, caller: KeyContext) -> tuple[int, int]:
    """(used, reserved) milli-credits this month."""
    with transaction(sessions) as session:
        balance = credits.balance(session, caller.account_id, caller.limits)
    return balance.used_milli, balance.reserved_milli


def usage_rows(sessions: SessionFactory, request_id: str) -> list[tuple[int, int]]:
    """(status, credits_milli) of the usage rows of one request."""
    with transaction(sessions) as session:
        found = session.execute(
            select(UsageRecordRow.status, UsageRecordRow.credits_milli).where(
                UsageRecordRow.request_id == request_id
            )
        )
        return [(status, milli) for status, milli in found]


def test_a_full_result_reserves_one_credit_runs_once_and_charges_it(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller, ledger = make_parts(), make_caller(), Ledger()
    outcome = run(parts, request(caller, size="full"), ledger)
    assert outcome == RemovalOutcome(RESULT, 1000)
    assert ledger.credits_milli == 1000
    assert ledger.reservation is not None and ledger.reservation.milli == 1000
    assert ledger.megapixels == pytest.approx(64 * 48 / 1_000_000)
    assert ledger.rate is not None and ledger.rate.allowed
    assert parts.queue.runs == 1 and [call.size for call in parts.remover.calls] == [Size.FULL]
    assert parts.charged == [caller.account_id]
    # Reserved with a pending row; the request's final usage row (not written by the use
    # case) commits it.
    assert figures(parts.sessions, caller) == (0, 1000)
    assert usage_rows(parts.sessions, ledger.request_id) == [(metering.PENDING_STATUS, 1000)]


def final_row(ledger: Ledger, caller: KeyContext, status: int) -> metering.FinalRow:
    """The row the front end writes when the request ends (the HTTP middleware's, in short)."""
    entry = UsageEntry(
        request_id=ledger.request_id,
        at=datetime.now(UTC),
        endpoint="POST /v2",
        status=status,
        account_id=caller.account_id,
        key_id=caller.key_id,
        credits_milli=ledger.credits_milli if status < 400 else 0,
        megapixels=ledger.megapixels,
    )
    return metering.FinalRow(entry, ledger.reservation)


def test_the_ledger_is_all_the_final_usage_row_needs_to_settle(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller = make_parts(), make_caller()
    charged, failed = Ledger(), Ledger()
    run(parts, request(caller, size="full"), charged)
    run(parts, request(caller, size="preview"), failed)
    failed.credits_milli = 0  # as if the answer could not be rendered
    with transaction(parts.sessions) as session:
        metering.write_final_rows(
            session, [final_row(charged, caller, 200), final_row(failed, caller, 500)]
        )
    assert figures(parts.sessions, caller) == (1000, 0)
    assert usage_rows(parts.sessions, charged.request_id) == [(200, 1000)]
    assert usage_rows(parts.sessions, failed.request_id) == [(500, 0)]


def test_a_preview_costs_a_quarter_credit(make_parts: MakeParts, make_caller: MakeCaller) -> None:
    parts, caller, ledger = make_parts(), make_caller(), Ledger()
    assert run(parts, request(caller, size="small"), ledger).credits_milli == 250
    assert figures(parts.sessions, caller) == (0, 250)


def test_the_options_come_from_the_fields_over_the_front_ends_defaults(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller = make_parts(), make_caller()
    defaults = RemovalOptions(size=Size.PREVIEW, format=OutputFormat.AUTO)
    removal = RemovalRequest(
        caller=caller,
        endpoint="POST /v1.0/removebg",
        fields={"FORMAT": "jpeg", "crop": "yes"},
        defaults=defaults,
        image=PHOTO,
        background=BACKGROUND,
    )
    run(parts, removal, Ledger())
    [options] = parts.remover.calls
    assert (options.size, options.format, options.crop) == (Size.PREVIEW, OutputFormat.JPG, True)
    assert options.bg_image == BACKGROUND


def test_staging_keys_get_a_preview_and_spend_nothing(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller, ledger = make_parts(), make_caller(Environment.STAGING), Ledger()
    outcome = run(parts, request(caller, size="hd"), ledger)
    assert outcome.credits_milli == 0 and ledger.reservation is None
    assert [call.size for call in parts.remover.calls] == [Size.PREVIEW]
    assert parts.charged == [] and figures(parts.sessions, caller) == (0, 0)
    assert usage_rows(parts.sessions, ledger.request_id) == []


def test_auto_falls_back_to_a_preview_when_a_full_result_is_too_many(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller, ledger = make_parts(), make_caller(credits_milli=500), Ledger()
    outcome = run(parts, request(caller, size="auto"), ledger)
    assert outcome.credits_milli == 250
    assert [call.size for call in parts.remover.calls] == [Size.PREVIEW]
    assert figures(parts.sessions, caller) == (0, 250)
    assert usage_rows(parts.sessions, ledger.request_id) == [(metering.PENDING_STATUS, 250)]


def test_any_other_size_is_refused_when_credits_are_short_without_using_rate_quota(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller, ledger = make_parts(), make_caller(credits_milli=500), Ledger()
    with pytest.raises(InsufficientCredits):
        run(parts, request(caller, size="full"), ledger)
    assert ledger.reservation is None and ledger.credits_milli == 0
    # Credits are checked before the rate limit is hit: a 402 uses up no quota (the answer
    # carries the rate headers of the look taken before the reservation).
    assert ledger.rate is not None and ledger.rate.remaining == caller.rate_per_minute
    bucket = pricing.rate_bucket(caller.account_id, caller.environment)
    untouched = parts.service.limiter.peek(bucket, caller.rate_per_minute)
    assert untouched.remaining == caller.rate_per_minute
    assert parts.queue.runs == 0 and parts.charged == []
    assert figures(parts.sessions, caller) == (0, 0)
    assert usage_rows(parts.sessions, ledger.request_id) == []


def test_an_account_over_its_rate_limit_is_refused_before_any_reservation_or_decode(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller = make_parts(), make_caller(rate_per_minute=1)
    run(parts, request(caller), Ledger())
    refused = Ledger()
    with pytest.raises(RateLimitExceeded) as raised:
        run(parts, request(caller), refused)
    assert raised.value.headers["Retry-After"] == str(raised.value.retry_after)
    assert refused.rate is not None and not refused.rate.allowed
    assert parts.queue.runs == 1 and refused.megapixels == 0  # not even measured
    assert refused.reservation is None
    assert figures(parts.sessions, caller) == (0, 1000)


def test_a_refusal_after_the_reservation_leaves_it_for_the_usage_row_to_release(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    """Room for one image, but the photo weighs three: refused once measured."""
    parts, caller, refused = make_parts(), make_caller(rate_per_minute=1), Ledger()
    large = encode(gradient_rgb(2000, 1500), "PNG")
    removal = RemovalRequest(
        caller=caller, endpoint="POST /v2", fields={}, defaults=RemovalOptions(), image=large
    )
    with pytest.raises(RateLimitExceeded):
        run(parts, removal, refused)
    assert parts.queue.runs == 0 and refused.megapixels == pytest.approx(3.0)
    assert refused.reservation is not None and refused.credits_milli == 0
    with transaction(parts.sessions) as session:
        metering.write_final_rows(session, [final_row(refused, caller, 429)])
    assert figures(parts.sessions, caller) == (0, 0)


def test_an_image_heavier_than_one_image_is_hit_for_the_rest_once_measured(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller = make_parts(), make_caller(rate_per_minute=3)
    large = encode(gradient_rgb(2000, 1500), "PNG")  # 3 MP: 1 provisionally, 2 once measured
    removal = RemovalRequest(
        caller=caller, endpoint="POST /v2", fields={}, defaults=RemovalOptions(), image=large
    )
    ledger = Ledger()
    run(parts, removal, ledger)
    assert ledger.rate is not None and ledger.rate.remaining == 0
    refused = Ledger()
    with pytest.raises(RateLimitExceeded):
        run(parts, removal, refused)
    assert parts.queue.runs == 1 and refused.megapixels == 0


def test_an_image_over_the_plans_megapixels_is_refused_before_decoding(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller, ledger = make_parts(), make_caller(max_megapixels=0.001), Ledger()
    with pytest.raises(ResolutionTooHigh, match=r"your plan allows up to 0\.001 MP"):
        run(parts, request(caller), ledger)
    assert ledger.megapixels == pytest.approx(0.003072)
    # Admitted provisionally (the size is known only once the image is in hand); the usage
    # row releases the reservation.
    assert ledger.rate is not None and ledger.reservation is not None
    assert parts.queue.runs == 0 and parts.remover.calls == []


def test_a_bad_option_is_refused_before_anything_is_spent(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller, ledger = make_parts(), make_caller(), Ledger()
    with pytest.raises(InvalidOption) as raised:
        run(parts, request(caller, size="giant"), ledger)
    assert raised.value.code == "invalid_size"
    assert ledger.rate is None and ledger.reservation is None and parts.queue.runs == 0


def test_an_engine_failure_keeps_the_reservation_for_the_usage_row_to_release(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts = make_parts(ModelNotInstalled("model 'u2netp' is not installed"))
    caller, ledger = make_caller(), Ledger()
    with pytest.raises(ModelNotInstalled):
        run(parts, request(caller), ledger)
    # Nothing charged; the reservation is known, so the final row releases it.
    assert ledger.credits_milli == 0 and parts.charged == []
    assert ledger.reservation is not None and ledger.reservation.milli == 1000
    assert parts.queue.runs == 1


class FullPool(CountingQueue):
    """A pool whose share for every account is taken."""

    def refuse_if_full(self, account: Hashable) -> None:
        raise ConcurrencyLimitExceeded("share taken", 3)


def test_a_full_share_is_refused_before_any_reservation_or_quota(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, caller, ledger = make_parts(), make_caller(rate_per_minute=5), Ledger()
    full = replace(parts.service, pools=RemovalPools(CountingQueue(), FullPool(), parts.queue))
    with pytest.raises(ConcurrencyLimitExceeded) as raised:
        asyncio.run(full.remove(request(caller), ledger))
    assert raised.value.status == 429 and raised.value.headers["Retry-After"] == "3"
    assert ledger.reservation is None and parts.queue.runs == 0
    assert ledger.rate is not None and ledger.rate.remaining == 5


class ParkedPool(CountingQueue):
    """Holds every run until released: an image parked in this stage."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.parked = 0

    async def run(self, account: Hashable, function: Callable[[], T]) -> T:
        self.parked += 1
        await self.release.wait()
        return await super().run(account, function)


def test_an_accounts_images_in_process_are_capped_across_stages(
    make_parts: MakeParts, make_caller: MakeCaller
) -> None:
    parts, greedy, other = make_parts(), make_caller(), make_caller()
    decoding, inference = ParkedPool(), ParkedPool()
    slots = AccountSlots(share=2, retry_after=lambda: 4)
    capped = replace(parts.service, pools=RemovalPools(CountingQueue(), decoding, inference, slots))

    async def scenario() -> None:
        inference_bound = asyncio.create_task(capped.remove(request(greedy), Ledger()))
        await asyncio.sleep(0.05)
        decoding.release.set()  # the first image goes through decoding, parks in inference
        await asyncio.sleep(0.05)
        decoding.release.clear()
        decode_bound = asyncio.create_task(capped.remove(request(greedy), Ledger()))
        await asyncio.sleep(0.05)
        assert (decoding.parked, inference.parked) == (2, 1)
        # One image in each stage: no pool's own share is full, the account's is.
        with pytest.raises(ConcurrencyLimitExceeded) as raised:
            await capped.remove(request(greedy), Ledger())
        assert raised.value.headers["Retry-After"] == "4"
        someone_else = asyncio.create_task(capped.remove(request(other), Ledger()))
        await asyncio.sleep(0.05)
        assert decoding.parked == 3  # another account is not held back
        decoding.release.set()
        inference.release.set()
        await asyncio.gather(inference_bound, decode_bound, someone_else)
        assert slots.held_by(greedy.account_id) == 0

    asyncio.run(scenario())
