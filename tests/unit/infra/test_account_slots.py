"""An account's images in process: at most its share, refused past it at once; within it,
counted by weight (max(1, megapixels)) while another account is served too, so a heavy
image waits for the account's earlier ones instead of taking the cores; never refused for
its weight, and one image of an account always runs."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from bgone.errors import ConcurrencyLimitExceeded
from bgone.infra.account_slots import AccountSlots

HEAVY = 8.3  # the isolation bench's 25 MB upload: 2880 x 2880
LIGHT = 1.0


def test_past_its_share_in_images_an_account_is_refused_at_once() -> None:
    async def scenario() -> None:
        slots = AccountSlots(share=2, retry_after=lambda: 3)
        async with slots.holding("a", LIGHT), slots.holding("a", LIGHT):
            with pytest.raises(ConcurrencyLimitExceeded) as refused:
                slots.refuse_if_full("a")
            assert refused.value.headers["Retry-After"] == "3"
            slots.refuse_if_full("b")  # another account is not held back
        assert slots.held_by("a") == 0

    asyncio.run(scenario())


def test_alone_an_account_runs_its_share_of_heavy_images_side_by_side() -> None:
    async def scenario() -> None:
        slots = AccountSlots(share=2, retry_after=lambda: 1)
        second = asyncio.Event()
        async with slots.holding("big", HEAVY):

            async def another() -> None:
                async with slots.holding("big", HEAVY):
                    second.set()

            await asyncio.wait_for(asyncio.gather(another(), second.wait()), 1)

    asyncio.run(scenario())


def test_beside_another_account_a_heavy_image_waits_for_the_accounts_earlier_one() -> None:
    async def scenario() -> None:
        slots = AccountSlots(share=2, retry_after=lambda: 1)
        started: list[str] = []
        async with AsyncExitStack() as victim:
            await victim.enter_async_context(slots.holding("victim", LIGHT))
            first = asyncio.Event()
            release_first = asyncio.Event()

            async def image(name: str, hold: asyncio.Event | None) -> None:
                async with slots.holding("big", HEAVY):
                    started.append(name)
                    if hold is not None:
                        first.set()
                        await hold.wait()

            running = asyncio.create_task(image("first", release_first))
            await first.wait()
            waiting = asyncio.create_task(image("second", None))
            await asyncio.sleep(0.05)
            assert started == ["first"]  # admitted (no 429) but waiting for its weight
            assert slots.held_by("big") == 2
            # The light account still runs its two side by side.
            async with slots.holding("victim", LIGHT):
                assert slots.held_by("victim") == 2
            release_first.set()
            await asyncio.wait_for(asyncio.gather(running, waiting), 1)
            assert started == ["first", "second"]
        assert (slots.held_by("victim"), slots.held_by("big")) == (0, 0)

    asyncio.run(scenario())


def test_a_waiting_image_runs_once_the_other_account_has_left() -> None:
    async def scenario() -> None:
        slots = AccountSlots(share=2, retry_after=lambda: 1)
        victim_done = asyncio.Event()
        ran = asyncio.Event()

        async def victim() -> None:
            async with slots.holding("victim", LIGHT):
                await victim_done.wait()

        async def heavy_pair() -> None:
            async with slots.holding("big", HEAVY), slots.holding("big", HEAVY):
                ran.set()

        victim_task = asyncio.create_task(victim())
        await asyncio.sleep(0)
        pair = asyncio.create_task(heavy_pair())
        await asyncio.sleep(0.05)
        assert not ran.is_set()
        victim_done.set()
        await asyncio.wait_for(asyncio.gather(victim_task, pair), 1)
        assert ran.is_set()

    asyncio.run(scenario())


def test_a_waiting_image_cancelled_leaves_nothing_held() -> None:
    async def scenario() -> None:
        slots = AccountSlots(share=2, retry_after=lambda: 1)
        async with slots.holding("victim", LIGHT), slots.holding("big", HEAVY):

            async def second() -> None:
                async with slots.holding("big", HEAVY):
                    raise AssertionError("never runs")

            task = asyncio.create_task(second())
            await asyncio.sleep(0.05)
            assert slots.held_by("big") == 2
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert slots.held_by("big") == 1
        assert slots.held_by("big") == 0

    asyncio.run(scenario())


def test_requests_still_arriving_count_against_the_share() -> None:
    """Sixteen uploads at once: those past the share are refused before their bodies are
    read, not after each was received whole."""

    async def scenario() -> None:
        slots = AccountSlots(share=2, retry_after=lambda: 2)
        with slots.receiving("a"), slots.receiving("a"):
            with pytest.raises(ConcurrencyLimitExceeded):
                slots.refuse_if_full("a")
            with pytest.raises(ConcurrencyLimitExceeded), slots.receiving("a"):
                pass
            slots.refuse_if_full("b")
        assert slots.held_by("a") == 0
        with slots.receiving("a"):  # received, then in process: never counted twice
            pass
        async with slots.holding("a", LIGHT):
            with slots.receiving("a"):
                assert slots.held_by("a") == 2

    asyncio.run(scenario())
