"""Stand-ins for the webhook tests of the fast tier: a queue that records what was enqueued
(and can run it), a sender that answers as scripted, and a clock the test moves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bgone.domain.webhook_deliveries import AttemptResult


@dataclass
class RecordingQueue:
    fan_outs: list[tuple[int, str, dict[str, Any], str]] = field(default_factory=list)
    also: list[str] = field(default_factory=list)
    attempts: list[tuple[int, float]] = field(default_factory=list)
    credit_checks: list[tuple[int, float]] = field(default_factory=list)

    def fan_out(
        self,
        account_id: int,
        event_type: str,
        data: dict[str, Any],
        marker: str,
        also_endpoint: str = "",
    ) -> None:
        self.fan_outs.append((account_id, event_type, data, marker))
        self.also.append(also_endpoint)

    def attempt(self, delivery_id: int, delay_seconds: float = 0.0) -> None:
        self.attempts.append((delivery_id, delay_seconds))

    def check_credits(self, account_id: int, delay_seconds: float = 0.0) -> None:
        self.credit_checks.append((account_id, delay_seconds))


@dataclass
class ScriptedSender:
    """Answers each POST with the next status (None: no answer), keeping what it was sent."""

    statuses: list[int | None] = field(default_factory=list)
    sent: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def post(self, url: str, body: str, headers: Mapping[str, str]) -> AttemptResult:
        self.sent.append((url, body, dict(headers)))
        status = self.statuses.pop(0) if self.statuses else 200
        if status is None:
            return AttemptResult(None, 5, error="failed: connection refused")
        return AttemptResult(status, 5, excerpt="x" * 3000)


@dataclass
class MovableClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
