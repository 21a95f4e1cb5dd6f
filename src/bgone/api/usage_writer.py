"""Usage rows written by group commit.

Every API response waits for its usage row (so a client that got an answer always has
its row), but rows of concurrent requests share one transaction: at high request rates
the database sees a few commits a second instead of one per request.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass

from bgone.db.engine import SessionFactory, transaction
from bgone.domain.authentication import touch_key_usage
from bgone.domain.usage import UsageEntry, record_usage_batch

log = logging.getLogger(__name__)

MAX_BATCH = 512


@dataclass
class _Pending:
    entry: UsageEntry
    ip: str | None
    touch_key: bool
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
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="bgone-usage", daemon=True)
        self._thread.start()

    async def write(self, entry: UsageEntry, ip: str | None, touch_key: bool) -> None:
        """Returns once the row is committed; raises if it could not be."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Pending(entry, ip, touch_key, future, loop))
        await future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
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
            error = self._commit(batch)
            for pending in batch:
                pending.loop.call_soon_threadsafe(_settle, pending.future, error)

    def _commit(self, batch: list[_Pending]) -> BaseException | None:
        try:
            with transaction(self._sessions) as session:
                record_usage_batch(session, [pending.entry for pending in batch])
                for pending in batch:
                    if pending.touch_key and pending.entry.key_id:
                        touch_key_usage(session, pending.entry.key_id, pending.ip, pending.entry.at)
        except Exception as error:  # reported to every waiting request
            log.error("could not record %d usage rows: %s", len(batch), error)
            return error
        return None
