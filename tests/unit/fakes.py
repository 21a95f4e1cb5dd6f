"""Fakes for the fast tier: an engine with `Remover.remove`'s signature, an inline work
queue, and the ledger the HTTP middleware's RequestRecord is to the removal use case."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from PIL import Image

from bgone.domain.credits import Reservation
from bgone.inference.compose import Box
from bgone.inference.imageio import DecodeLimits
from bgone.inference.options import RemovalOptions
from bgone.inference.pipeline import RemovalResult
from bgone.infra.ratelimit import Decision

T = TypeVar("T")

RESULT = RemovalResult(
    data=b"a fixed result",
    format="png",
    width=64,
    height=48,
    foreground=Box(left=4, top=2, width=50, height=40),
    input_width=64,
    input_height=48,
)


class FakeRemover:
    """Stands in for `bgone.inference.pipeline.Remover`: records each call, returns RESULT."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.limits = DecodeLimits()
        self.calls: list[RemovalOptions] = []
        self.failure = failure

    def remove(
        self, source: bytes | Image.Image, options: RemovalOptions | None = None
    ) -> RemovalResult:
        self.calls.append(options or RemovalOptions())
        if self.failure is not None:
            raise self.failure
        return RESULT


class CountingQueue:
    """A work queue that runs inline and counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, function: Callable[[], T]) -> T:
        self.runs += 1
        return function()


@dataclass
class Ledger:
    """What the HTTP middleware's RequestRecord holds for the use case."""

    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    megapixels: float = 0.0
    rate: Decision | None = None
    reservation: Reservation | None = None
    credits_milli: int = 0
