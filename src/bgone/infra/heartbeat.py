"""The replica's heartbeat (bgone.domain.fleet): a row rewritten every 10 s from a thread.

Its own thread, never the event loop nor a request pool: a slow database delays only the
next beat, and a failing one is logged once per outage and retried at the next beat.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bgone.db.engine import SessionFactory, transaction
from bgone.domain import fleet

log = logging.getLogger(__name__)


class HeartbeatWriter:
    def __init__(
        self,
        sessions: SessionFactory,
        report: Callable[[], fleet.Beat],
        interval: float = fleet.HEARTBEAT_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.report = report
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start(self) -> None:
        self.beat_once()  # the fleet sees a replica as soon as it is up
        self._thread = threading.Thread(target=self._run, name="bgone-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def beat_once(self) -> bool:
        try:
            with transaction(self.sessions) as session:
                fleet.beat(session, self.report())
        except Exception as error:  # the database away: the fleet shows us gone meanwhile
            if not self._failing:
                log.warning("heartbeat not written: %s", error)
            self._failing = True
            return False
        self._failing = False
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat_once()
