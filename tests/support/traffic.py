"""Client threads that keep real requests flowing while a fault is injected.

`Traffic` runs a few threads, each sending removals or `/v1/account` calls in a loop, and
records every response in a `Ledger`; transport errors (refused connections, a replica that
died mid-request, a hang past the client timeout) are kept apart in `failures`, with the
phase they happened in, so that each test can say which of them are acceptable when.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from bgone.db.engine import SessionFactory
from tests.support.error_bodies import code_of
from tests.support.imagegen import encode, gradient_rgb
from tests.support.invariants import InvariantReport, Ledger, check_invariants

SMALL_PNG = encode(gradient_rgb(64, 48), "PNG")
# Large enough that a removal takes a good fraction of a second on the test machine.
MEDIUM_PNG = encode(gradient_rgb(800, 600), "PNG")
# A request that takes longer than this is a hang: the fault tests ask for "a few seconds".
CLIENT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    phase: str
    path: str
    status: int | None  # None: no HTTP response (see `error`)
    code: str | None  # the first error code of a JSON error body
    retry_after: str | None
    seconds: float
    error: str | None = None
    from_proxy: bool = False  # answered by nginx, not by a bgone replica


def retry_worth(outcome: Outcome) -> bool:
    return outcome.status is None or outcome.status in (502, 503, 504)


@dataclass
class Traffic:
    base_url: str
    key: str
    removers: int = 2
    account_readers: int = 1
    image: bytes = SMALL_PNG
    ledger: Ledger = field(default_factory=Ledger)
    outcomes: list[Outcome] = field(default_factory=list)
    phase: str = "before"
    # Resend a request that got no answer or a retryable 502/503/504, as the SDK does.
    retries: int = 0
    finals: list[Outcome] = field(default_factory=list)  # the last attempt of each request
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Traffic:
        jobs = ["remove"] * self.removers + ["account"] * self.account_readers
        for number, job in enumerate(jobs):
            thread = threading.Thread(target=self._loop, args=(job,), name=f"traffic-{number}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CLIENT_TIMEOUT_SECONDS * 2)

    def run_phase(self, phase: str, seconds: float) -> None:
        self.phase = phase
        time.sleep(seconds)

    def _loop(self, job: str) -> None:
        # One connection per request: a fault then hits only the requests it should.
        with httpx.Client(
            timeout=CLIENT_TIMEOUT_SECONDS, limits=httpx.Limits(max_keepalive_connections=0)
        ) as client:
            while not self._stop.is_set():
                outcome = self.send(client, job)
                for _ in range(self.retries):
                    if not retry_worth(outcome):
                        break
                    time.sleep(min(1.0, float(outcome.retry_after or 0.2)))
                    outcome = self.send(client, job)
                with self._lock:
                    self.finals.append(outcome)
                time.sleep(0.01)

    def send(self, client: httpx.Client, job: str) -> Outcome:
        phase = self.phase
        started = time.monotonic()
        path = "/v2" if job == "remove" else "/v1/account"
        try:
            if job == "remove":
                response = client.post(
                    self.base_url + path,
                    headers={"x-api-key": self.key},
                    files={"image_file": ("a.png", self.image, "image/png")},
                )
            else:
                response = client.get(self.base_url + path, headers={"x-api-key": self.key})
        except httpx.HTTPError as error:
            outcome = Outcome(
                phase, path, None, None, None, time.monotonic() - started, type(error).__name__
            )
        else:
            outcome = self.record(response, phase, started)
        with self._lock:
            self.outcomes.append(outcome)
        return outcome

    def record(self, response: httpx.Response, phase: str, started: float) -> Outcome:
        from_proxy = "x-request-id" not in response.headers and "x-proxy-request-id" in (
            response.headers
        )
        if not from_proxy:
            with self._lock:
                self.ledger.record(response)
        code = None
        if response.status_code >= 400:
            try:
                code = code_of(response)
            except (ValueError, KeyError, IndexError, TypeError, AssertionError):
                code = None  # not an error body in its path's dialect (a proxy's page, say)
        return Outcome(
            phase,
            response.request.url.path,
            response.status_code,
            code,
            response.headers.get("retry-after"),
            time.monotonic() - started,
            from_proxy=from_proxy,
        )

    def wait_for_removal(self, phase: str, timeout: float) -> bool:
        """Whether a removal succeeds in `phase` within `timeout` seconds (a recovery)."""
        deadline = time.monotonic() + timeout
        while not self.removed_in(phase):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    # -- summaries -------------------------------------------------------------------
    def removed_in(self, phase: str) -> bool:
        return any(o.status == 200 for o in self.in_phase(phase, "/v2"))

    def in_phase(self, phase: str, path: str | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if o.phase == phase and (path is None or o.path == path)]

    def summary(self) -> dict[str, Counter[str]]:
        table: dict[str, Counter[str]] = {}
        for outcome in self.outcomes:
            label = str(outcome.status) if outcome.status else str(outcome.error)
            if outcome.code:
                label += f" {outcome.code}"
            table.setdefault(outcome.phase, Counter())[f"{outcome.path} {label}"] += 1
        return table


def wait_for_invariants(
    ledger: Ledger,
    sessions: SessionFactory,
    account_ids: list[int],
    timeout: float = 20.0,
    in_doubt_milli: int = 0,
) -> InvariantReport:
    """The invariants once the replicas have replayed their spools and recovered orphans.

    Rows spooled during an outage or left pending by a killed replica are settled in the
    background within seconds; the last report is returned either way, for asserting.
    """
    deadline = time.monotonic() + timeout
    while True:
        report = check_invariants(ledger, sessions, account_ids, in_doubt_milli)
        if not report.failures or time.monotonic() > deadline:
            return report
        time.sleep(0.5)
