"""The refusals of an account that resends at once are held back; others are not."""

from __future__ import annotations

import asyncio

from bgone.infra.refusal_pacing import PacingOptions, RefusalPacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def pacer(clock: Clock, **options: int | float) -> RefusalPacer:
    return RefusalPacer(PacingOptions(**options), clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]


def refuse(pacer: RefusalPacer, account: object, times: int, retry_after: float = 30) -> None:
    async def run() -> None:
        for _ in range(times):
            await pacer.pace(account, retry_after)

    asyncio.run(run())


def test_the_first_refusals_of_a_second_go_out_at_once_the_rest_wait() -> None:
    clock = Clock()
    paced = pacer(clock, free_per_second=3, delay_seconds=1.0)
    refuse(paced, "greedy", 5)
    assert clock.slept == [1.0, 1.0]


def test_a_new_second_starts_a_new_count_and_accounts_are_counted_apart() -> None:
    clock = Clock()
    paced = pacer(clock, free_per_second=2, delay_seconds=1.0)
    refuse(paced, "greedy", 2)
    refuse(paced, "other", 2)
    assert clock.slept == []
    clock.now += 1
    refuse(paced, "greedy", 3)
    assert clock.slept == [1.0]


def test_the_wait_is_never_longer_than_retry_after_and_zero_turns_it_off() -> None:
    clock = Clock()
    refuse(pacer(clock, free_per_second=0, delay_seconds=5.0), "a", 1, retry_after=2)
    assert clock.slept == [2]
    clock.slept.clear()
    refuse(pacer(clock, free_per_second=0, delay_seconds=0.0), "a", 3)
    assert clock.slept == []


def test_held_answers_are_bounded_per_account() -> None:
    release = asyncio.Event()
    paced = RefusalPacer(
        PacingOptions(free_per_second=0, delay_seconds=1.0, max_held_per_account=2),
        sleep=lambda _seconds: release.wait(),  # type: ignore[arg-type, return-value]
    )

    async def run() -> list[bool]:
        tasks = [asyncio.create_task(paced.pace("greedy", 30)) for _ in range(5)]
        await asyncio.sleep(0)
        done = [task.done() for task in tasks]
        assert paced.held == 2
        release.set()
        await asyncio.gather(*tasks)
        assert paced.held == 0
        return done

    # Two are held; past the bound the answer goes out at once.
    assert asyncio.run(run()) == [False, False, True, True, True]


def test_answers_held_across_a_second_are_given_back_and_pacing_goes_on() -> None:
    clock = Clock()
    release = asyncio.Event()

    async def wait_for_release(_seconds: float) -> None:
        await release.wait()

    paced = RefusalPacer(
        PacingOptions(free_per_second=1, delay_seconds=1.0, max_held_per_account=2),
        clock=clock,
        sleep=wait_for_release,
    )

    async def run() -> None:
        await paced.pace("greedy", 30)  # free
        held = [asyncio.create_task(paced.pace("greedy", 30)) for _ in range(2)]
        await asyncio.sleep(0)
        clock.now += 1  # a new second starts while two answers are held
        await paced.pace("greedy", 30)  # this second's free one, the two still held
        release.set()
        await asyncio.gather(*held)
        assert paced.held == 0
        release.clear()
        late = asyncio.create_task(paced.pace("greedy", 30))
        await asyncio.sleep(0)
        assert not late.done(), "held answers of the last second still counted as held"
        release.set()
        await late

    asyncio.run(run())
