"""Usage rows written by group commit, spooled locally while the database is unreachable.

Every API response waits for its usage row (so a client that got an answer always has
its row), but rows of concurrent requests share one transaction: at high request rates
the database sees a few commits a second instead of one per request. Each row settles its
request's credit reservation in that same transaction (domain/metering.py).

When the database cannot be reached, the batch goes to the journal's spool instead (fsynced,
so the answer may still go out) and is replayed once the database answers again; the same
thread also recovers the journals of dead processes and pending rows too old to be alive.
How one batch is committed, and what a bad row in it does, is bgone.infra.usage_batches.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bgone.db.engine import SessionFactory, transaction
from bgone.domain.credits import Reservation
from bgone.domain.metering import FinalRow, release_pending, release_stale, write_final_rows
from bgone.domain.usage import UsageEntry
from bgone.infra import metrics
from bgone.infra.usage_batches import UsageWrite, commit_batch, first_line, replay_rows
from bgone.infra.usage_journal import Journal

log = logging.getLogger(__name__)

MAX_BATCH = 512
REPLAY_SECONDS = 1.0  # how often spooled rows are retried while the database is away
ORPHAN_SECONDS = 5.0  # how often dead processes' journals are looked for
STALE_SECONDS = 60.0  # how often pending rows older than STALE_AFTER are released
# Far longer than any request may take (URL fetch, queue and inference are all bounded).
STALE_AFTER = timedelta(minutes=15)


@dataclass
class _Pending:
    write: UsageWrite
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class UsageWriter:
    def __init__(self, sessions: SessionFactory, journal: Journal) -> None:
        self._sessions = sessions
        self._journal = journal
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._next_replay = 0.0
        self._next_orphans = 0.0
        self._next_stale = 0.0
        self._thread = threading.Thread(target=self._run, name="bgone-usage", daemon=True)
        self._thread.start()

    @property
    def journal(self) -> Journal:
        return self._journal

    async def write(
        self,
        entry: UsageEntry,
        ip: str | None,
        touch_key: bool,
        reservation: Reservation | None = None,
    ) -> None:
        """Returns once the row is committed or spooled; raises if neither was possible."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        write = UsageWrite(FinalRow(entry, reservation), ip, touch_key)
        self._queue.put(_Pending(write, future, loop))
        await future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._maintain(force=True)  # a last chance to hand spooled rows to the database
            self._journal.close()

    def _run(self) -> None:
        self._maintain(force=True)
        while True:
            try:
                first = self._queue.get(timeout=REPLAY_SECONDS)
            except queue.Empty:
                self._maintain()
                continue
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(following)
            errors = commit_batch(self._sessions, self._journal, [p.write for p in batch])
            for pending, error in zip(batch, errors, strict=True):
                pending.loop.call_soon_threadsafe(_settle, pending.future, error)
            self._maintain()

    # -- recovery --------------------------------------------------------------------
    def _maintain(self, force: bool = False) -> None:
        now = time.monotonic()
        try:
            if self._journal.spooled and (force or now >= self._next_replay):
                self._next_replay = now + REPLAY_SECONDS
                self._replay_spool()
            if force or now >= self._next_orphans:
                self._next_orphans = now + ORPHAN_SECONDS
                self._recover_orphans()
            if force or now >= self._next_stale:
                self._next_stale = now + STALE_SECONDS
                with transaction(self._sessions) as session:
                    released = release_stale(session, datetime.now(UTC) - STALE_AFTER)
                if released:
                    log.warning("released %d pending requests older than %s", released, STALE_AFTER)
        except Exception as error:  # the database is still away: try again later
            metrics.count_database_error("usage_recovery")
            log.info("usage recovery postponed: %s", first_line(error))

    def _replay_spool(self) -> None:
        rows = self._journal.spooled_rows()
        bad = replay_rows(self._sessions, rows)
        self._journal.clear_spool()
        log.warning("database back: %d spooled usage rows written", len(rows) - bad)

    def _recover_orphans(self) -> None:
        for orphan in self._journal.claim_orphans():
            try:
                with transaction(self._sessions) as session:
                    write_final_rows(session, orphan.rows)  # rows first: they settle credits
                    released = release_pending(session, orphan.reserved_request_ids)
            except BaseException:
                orphan.release()
                raise
            orphan.discard()
            log.warning(
                "recovered the journal of a stopped process %s: %d rows, %d reservations released",
                orphan.name,
                len(orphan.rows),
                released,
            )
