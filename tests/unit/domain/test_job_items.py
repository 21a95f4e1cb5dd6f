"""A job item is reserved at admission, claimed with a lease, finished and charged once,
reaped when its worker dies, cancelled with its reservation released (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bgone.db.engine import SessionFactory, transaction
from bgone.db.tables import CreditPeriodRow, JobItemRow, JobRow, UsageRecordRow
from bgone.domain import job_items, jobs, metering
from bgone.domain.accounts import Account, effective_limits
from bgone.domain.job_items import ItemResult
from bgone.domain.jobs import ItemFailure, ItemState, NewItem, NewJob
from bgone.services.job_inputs import JobInputs
from bgone.services.job_upkeep import JobUpkeep
from tests.unit.domain.support import NOW, MakeAccount

LEASE = timedelta(seconds=30)
RETENTION = timedelta(days=7)
COST = 1000


def admitted(sessions: SessionFactory, account: Account, count: int = 2) -> str:
    job_id = jobs.new_job_id()
    new = NewJob(
        id=job_id,
        account_id=account.id,
        key_id="key_test",
        options={"size": "full"},
        webhook_url=None,
        items=[NewItem(f"photo{n}", f"/nowhere/{n}") for n in range(count)],
        created_at=NOW,
        expires_at=NOW + RETENTION,
        cost_milli=COST,
    )
    with transaction(sessions) as session:
        assert jobs.create_job(session, new, effective_limits(account)) == list(range(count))
    return job_id


def period(sessions: SessionFactory, account: Account) -> tuple[int, int]:
    with transaction(sessions) as session:
        row = session.scalars(
            select(CreditPeriodRow).where(CreditPeriodRow.account_id == account.id)
        ).one()
        return row.used_milli, row.reserved_milli


def charged_rows(sessions: SessionFactory, job_id: str) -> list[tuple[str, int, int]]:
    with transaction(sessions) as session:
        rows = session.execute(
            select(UsageRecordRow.request_id, UsageRecordRow.status, UsageRecordRow.credits_milli)
            .where(UsageRecordRow.request_id.startswith(job_id))
            .order_by(UsageRecordRow.request_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def result() -> ItemResult:
    return ItemResult("/nowhere/out.png", "png", COST, 1.0, 5.0)


def claim(
    sessions: SessionFactory, job_id: str, index: int, at: object = NOW
) -> job_items.ClaimedItem:
    with transaction(sessions) as session:
        claimed = job_items.claim(session, job_id, index, at, LEASE)  # type: ignore[arg-type]
    assert claimed is not None
    return claimed


def test_an_item_is_finished_and_charged_once(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    job_id = admitted(sessions, account)
    assert period(sessions, account) == (0, 2 * COST)
    claimed = claim(sessions, job_id, 0)
    with transaction(sessions) as session:
        assert job_items.claim(session, job_id, 0, NOW, LEASE) is None  # a duplicate message
    for expected in (True, False):
        with transaction(sessions) as session:
            assert job_items.finish(session, claimed, NOW, result=result()) is expected
    assert period(sessions, account) == (COST, COST)
    assert charged_rows(sessions, job_id) == [(f"{job_id}-0", 200, COST), (f"{job_id}-1", 0, COST)]


def test_a_lapsed_lease_is_reaped_and_only_the_new_attempt_finishes(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    job_id = admitted(sessions, account, count=1)
    dead = claim(sessions, job_id, 0)
    with transaction(sessions) as session:
        assert job_items.reap(session, NOW + LEASE / 2, timedelta(hours=1)).again == []
    with transaction(sessions) as session:
        assert job_items.reap(session, NOW + LEASE * 2, timedelta(hours=1)).again == [(job_id, 0)]
    retry = claim(sessions, job_id, 0, NOW + LEASE * 2)
    assert retry.attempt == 2
    with transaction(sessions) as session:
        assert not job_items.finish(session, dead, NOW, result=result())  # the presumed dead
        assert job_items.finish(session, retry, NOW, result=result())
    with transaction(sessions) as session:
        assert job_items.end_job_if_done(session, job_id, NOW, RETENTION)
        assert not job_items.end_job_if_done(session, job_id, NOW, RETENTION)
    assert charged_rows(sessions, job_id) == [(f"{job_id}-0", 200, COST)]
    assert period(sessions, account) == (COST, 0)


def test_an_item_lost_too_often_fails_uncharged(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    job_id = admitted(sessions, account, count=1)
    at = NOW
    for _ in range(job_items.MAX_ATTEMPTS):
        claim(sessions, job_id, 0, at)
        at += LEASE * 2
        with transaction(sessions) as session:
            reaped = job_items.reap(session, at, timedelta(hours=1))
    assert reaped.again == [] and reaped.failed_jobs == {job_id}
    assert charged_rows(sessions, job_id) == [(f"{job_id}-0", 503, 0)]
    assert period(sessions, account) == (0, 0)


def test_cancel_releases_what_has_not_started_and_the_running_item_still_charges(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    job_id = admitted(sessions, account, count=3)
    running = claim(sessions, job_id, 0)
    with transaction(sessions) as session:
        assert job_items.cancel(session, job_id, NOW, RETENTION) == 2
    with transaction(sessions) as session:
        assert job_items.claim(session, job_id, 1, NOW, LEASE) is None
        assert job_items.finish(session, running, NOW, result=result())
    rows = charged_rows(sessions, job_id)
    assert [(status, credits) for _, status, credits in rows] == [(200, COST), (409, 0), (409, 0)]
    assert period(sessions, account) == (COST, 0)
    with transaction(sessions) as session:
        assert session.get_one(JobRow, job_id).state == "cancelled"


def test_the_sweep_of_synchronous_requests_leaves_job_reservations_alone(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    job_id = admitted(sessions, account, count=1)
    with transaction(sessions) as session:
        assert metering.release_stale(session, NOW + timedelta(days=1)) == 0
    assert period(sessions, account) == (0, COST)
    assert charged_rows(sessions, job_id) == [(f"{job_id}-0", 0, COST)]


def test_failed_items_at_admission_are_recorded_uncharged(
    sessions: SessionFactory, make_account: MakeAccount
) -> None:
    account = make_account()
    new = NewJob(
        id=jobs.new_job_id(),
        account_id=account.id,
        key_id="key_test",
        options={},
        webhook_url=None,
        items=[NewItem("bad", "", failure=ItemFailure(400, "invalid_zip_entry", "odd path"))],
        created_at=NOW,
        expires_at=NOW + RETENTION,
        cost_milli=COST,
    )
    with transaction(sessions) as session:
        assert jobs.create_job(session, new, effective_limits(account)) == []
        view = jobs.get_job(session, new.id, account.id)
    assert view is not None and view.state.value == "completed"
    assert view.counts[ItemState.FAILED] == 1
    assert charged_rows(sessions, new.id) == [(f"{new.id}-0", 400, 0)]


def test_retention_deletes_ended_jobs_once_per_slot(
    sessions: SessionFactory, make_account: MakeAccount, tmp_path: Path
) -> None:
    account = make_account()
    kept, ended = admitted(sessions, account, 1), admitted(sessions, account, 1)
    inputs = JobInputs(tmp_path, 1 << 20)
    inputs.outputs(ended).joinpath("0000.a1.png").write_bytes(b"result")
    with transaction(sessions) as session:
        job_items.cancel(session, ended, NOW, RETENTION)
    upkeep = JobUpkeep(sessions, inputs, lambda job, index: None, LEASE, RETENTION)
    assert upkeep.expire(NOW + RETENTION - timedelta(hours=1)) == 0
    assert upkeep.expire(NOW + RETENTION + timedelta(minutes=1)) == 1
    assert not inputs.folder(ended).exists()
    with transaction(sessions) as session:
        assert session.get(JobRow, ended) is None
        assert session.scalars(select(JobItemRow).where(JobItemRow.job_id == ended)).all() == []
        assert session.get(JobRow, kept) is not None  # still open: never deleted
    # Usage rows stay: they are the account's record.
    assert len(charged_rows(sessions, ended)) == 1


def test_the_reaper_runs_once_per_slot_however_many_consumers(
    sessions: SessionFactory, make_account: MakeAccount, tmp_path: Path
) -> None:
    account = make_account()
    job_id = admitted(sessions, account, 1)
    claim(sessions, job_id, 0)
    queued: list[tuple[str, int]] = []
    consumers = [
        JobUpkeep(
            sessions, JobInputs(tmp_path, 1), lambda j, i: queued.append((j, i)), LEASE, RETENTION
        )
        for _ in range(3)
    ]
    later = NOW + LEASE * 3
    assert [upkeep.reap(later) for upkeep in consumers] == [1, 0, 0]
    assert queued == [(job_id, 0)]
