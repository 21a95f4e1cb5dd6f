"""The pool image work runs on: bounded, a capped share per account, accounts in rotation,
refusals at once (429 past an account's share, 503 when full), never a wait."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from bgone.errors import ConcurrencyLimitExceeded, ServerBusy
from bgone.infra.shared_pool import AccountSharedPool, PoolOptions, account_share


def pool(workers: int = 2, queue_size: int = 4, fraction: float = 0.25) -> AccountSharedPool:
    return AccountSharedPool(PoolOptions("test", workers, queue_size, fraction))


def blocked(gate: threading.Event, ran: list[str], label: str) -> Callable[[], str]:
    def work() -> str:
        assert gate.wait(10)
        ran.append(label)
        return label

    return work


@pytest.mark.parametrize(
    ("fraction", "workers", "share"), [(0.25, 2, 2), (0.25, 16, 4), (0.1, 40, 4), (1.0, 3, 3)]
)
def test_an_account_share_is_at_least_two_slots(fraction: float, workers: int, share: int) -> None:
    assert account_share(fraction, workers) == share


def test_past_its_share_an_account_is_refused_at_once_with_retry_after() -> None:
    async def scenario() -> None:
        shared, gate, ran = pool(workers=2, queue_size=4), threading.Event(), []
        held = [asyncio.create_task(shared.run("a", blocked(gate, ran, "a"))) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(ConcurrencyLimitExceeded) as refused:
            await shared.run("a", lambda: "third")
        assert refused.value.status == 429
        assert int(refused.value.headers["Retry-After"]) >= 1
        # The same answer to a look before any work is handed over, which takes no slot.
        with pytest.raises(ConcurrencyLimitExceeded):
            shared.refuse_if_full("a")
        shared.refuse_if_full("b")
        assert shared.held_by("b") == 0
        # Another account still gets in.
        other = asyncio.create_task(shared.run("b", lambda: "b"))
        gate.set()
        assert await asyncio.gather(*held) == ["a", "a"]
        assert await other == "b"
        assert shared.pending == 0
        shared.shutdown()

    asyncio.run(scenario())


def test_a_full_pool_answers_server_busy_at_once() -> None:
    async def scenario() -> None:
        shared, gate, ran = pool(workers=1, queue_size=1, fraction=0.1), threading.Event(), []
        held = [
            asyncio.create_task(shared.run(account, blocked(gate, ran, account)))
            for account in ("a", "b")
        ]
        await asyncio.sleep(0.05)
        with pytest.raises(ServerBusy) as busy:
            await shared.run("c", lambda: "c")
        assert busy.value.status == 503 and "Retry-After" in busy.value.headers
        gate.set()
        await asyncio.gather(*held)
        shared.shutdown()

    asyncio.run(scenario())


def test_waiting_accounts_take_turns() -> None:
    """Account a queued three tasks before b queued one: b's runs second, not fourth."""

    async def scenario() -> None:
        # A share of three slots of one thread, so that a can queue two behind its first.
        shared, gate, ran = pool(workers=1, queue_size=8, fraction=3.0), threading.Event(), []
        first = asyncio.create_task(shared.run("a", blocked(gate, ran, "a1")))
        await asyncio.sleep(0.02)
        later = [asyncio.create_task(shared.run("a", blocked(gate, ran, f"a{n}"))) for n in (2, 3)]
        await asyncio.sleep(0.02)
        other = asyncio.create_task(shared.run("b", blocked(gate, ran, "b1")))
        await asyncio.sleep(0.02)
        gate.set()
        await asyncio.gather(first, *later, other)
        assert ran == ["a1", "a2", "b1", "a3"]
        shared.shutdown()

    asyncio.run(scenario())


def test_errors_reach_the_caller_and_free_the_slot() -> None:
    async def scenario() -> None:
        shared = pool()

        def fail() -> None:
            raise ValueError("broken image")

        for _ in range(3):  # more than the share: each failure gave its slot back
            with pytest.raises(ValueError, match="broken image"):
                await shared.run("a", fail)
        assert shared.pending == 0
        shared.shutdown()

    asyncio.run(scenario())


def test_a_cancelled_waiting_task_never_runs_and_frees_its_slot() -> None:
    async def scenario() -> None:
        shared, gate, ran = pool(workers=1, queue_size=2, fraction=1.0), threading.Event(), []
        running = asyncio.create_task(shared.run("a", blocked(gate, ran, "running")))
        await asyncio.sleep(0.02)
        waiting = asyncio.create_task(shared.run("a", blocked(gate, ran, "waiting")))
        await asyncio.sleep(0.02)
        waiting.cancel()
        await asyncio.sleep(0.02)
        assert shared.held_by("a") == 1
        gate.set()
        await running
        assert ran == ["running"]
        shared.shutdown()

    asyncio.run(scenario())
