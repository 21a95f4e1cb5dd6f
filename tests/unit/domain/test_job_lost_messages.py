"""A task message taken off the queue by a worker that died before claiming its item: Huey
does not redeliver it, so the reaper sends it again. Once the queue has drained, a queued
item waiting longer than a lease has no message left; before that, the long rule waits.
The queue here is a real Huey on a SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from huey import SqliteHuey

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import job_items
from bgone.services.job_inputs import JobInputs
from bgone.services.job_upkeep import JobUpkeep
from tests.unit.domain.support import NOW, MakeAccount
from tests.unit.domain.test_job_items import LEASE, RETENTION, admitted, claim


def queue_with_messages(tmp_path: Path, job_id: str, count: int) -> SqliteHuey:
    queue = SqliteHuey("lost-messages", filename=str(tmp_path / "queue.db"))
    task = queue.task(name="jobs.run_item")(lambda job, index: None)
    for index in range(count):
        task(job_id, index)
    return queue


def recording_upkeep(
    sessions: SessionFactory,
    tmp_path: Path,
    sent: list[tuple[str, int]],
    queue_is_drained: Callable[[], bool],
) -> JobUpkeep:
    """An upkeep whose re-sent messages land in `sent`."""
    return JobUpkeep(
        sessions,
        JobInputs(tmp_path, 1),
        lambda job, index: sent.append((job, index)),
        LEASE,
        RETENTION,
        queue_is_drained=queue_is_drained,
    )


def test_a_message_lost_in_a_dead_worker_is_sent_again_once_the_queue_drains(
    sessions: SessionFactory, make_account: MakeAccount, tmp_path: Path
) -> None:
    job_id = admitted(sessions, make_account(), count=2)
    queue = queue_with_messages(tmp_path, job_id, 2)
    sent: list[tuple[str, int]] = []
    upkeep = recording_upkeep(sessions, tmp_path, sent, lambda: queue.pending_count() == 0)
    assert queue.dequeue() is not None  # item 0's message, in a worker killed before its claim
    assert upkeep.reap(NOW + LEASE * 2) == 0  # item 1's message is still queued: wait
    assert queue.dequeue() is not None  # a live worker takes item 1 and claims it
    claim(sessions, job_id, 1, NOW + LEASE * 3)  # its lease runs past the reaps below
    assert upkeep.reap(NOW + LEASE * 3) == 1
    assert sent == [(job_id, 0)]
    assert upkeep.reap(NOW + LEASE * 3 + timedelta(seconds=16)) == 0  # sent just now: wait


def test_a_paced_item_is_not_sent_again_before_it_is_due(
    sessions: SessionFactory, make_account: MakeAccount, tmp_path: Path
) -> None:
    job_id = admitted(sessions, make_account(), count=1)
    sent: list[tuple[str, int]] = []
    # Drained: its message waits in the schedule, not the queue.
    upkeep = recording_upkeep(sessions, tmp_path, sent, lambda: True)
    paced = claim(sessions, job_id, 0)
    due = NOW + timedelta(minutes=5)
    with transaction(sessions) as session:
        assert job_items.give_back(session, paced, NOW, due)
    assert upkeep.reap(NOW + LEASE * 2) == 0
    assert upkeep.reap(due + LEASE * 2) == 1
    assert sent == [(job_id, 0)]
