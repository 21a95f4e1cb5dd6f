"""Fakes for the unit tier: an engine that loads no model (behind `RemoverProtocol`), an inline
work queue, and the ledger that the HTTP middleware's RequestRecord is to the removal use case."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from PIL import Image

from bgone.domain.credits import Reservation
from bgone.inference.compose import Box
from bgone.inference.imageio import DecodedImage, DecodeLimits
from bgone.inference.options import RemovalOptions
from bgone.inference.pipeline import RemovalResult
from bgone.inference.protocols import RemoverProtocol
from bgone.infra.ratelimit import Decision
from bgone.settings import Settings

T = TypeVar("T")


def _fake_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (4, 3), (10, 20, 30, 128)).save(buffer, "PNG")
    return buffer.getvalue()


FAKE_PNG = _fake_png()
FAKE_FOREGROUND = Box(left=1, top=0, width=2, height=3)
RESULT = RemovalResult(
    data=FAKE_PNG,
    format="png",
    width=4,
    height=3,
    foreground=FAKE_FOREGROUND,
    input_width=4,
    input_height=3,
    models_used=("u2netp",),
)
FAKE_BEST_MODELS = ("u2netp", "isnet")


class FakeSession:
    """What the server asks of a loaded model at start-up."""

    def load_side_by_side_copy(self) -> None:
        pass


@dataclass
class FakePool:
    names: list[str] = field(default_factory=list)

    def get(self, name: str) -> FakeSession:
        if name not in self.names:
            self.names.append(name)
        return FakeSession()

    def loaded(self) -> list[str]:
        return sorted(self.names)


class FakeRemover:
    """Answers every removal with RESULT (a 4x3 PNG; for `best`, with FAKE_BEST_MODELS), or
    raises `failure`; remembers the options it was given."""

    def __init__(self, settings: Settings | None = None, failure: Exception | None = None) -> None:
        # The real limits: the server peeks at the upload's size with them before removing.
        self.limits = (
            DecodeLimits(
                settings.max_upload_bytes, settings.max_megapixels, settings.max_side_pixels
            )
            if settings is not None
            else DecodeLimits()
        )
        self.pool = FakePool()
        self.calls: list[RemovalOptions] = []
        self.failure = failure

    def remove(
        self, source: bytes | Image.Image | DecodedImage, options: RemovalOptions | None = None
    ) -> RemovalResult:
        options = options or RemovalOptions()
        self.calls.append(options)
        if self.failure is not None:
            raise self.failure
        if options.quality is RESULT.quality:
            return RESULT
        # What ran, as the real engine reports it: the headers are rendered from these.
        return replace(RESULT, quality=options.quality, models_used=FAKE_BEST_MODELS)


def _satisfies_the_protocol(settings: Settings) -> RemoverProtocol:
    return FakeRemover(settings)  # mypy checks the fake against the protocol here


class CountingQueue:
    """A work queue that runs inline and counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    async def run(self, account: Hashable, function: Callable[[], T]) -> T:
        self.runs += 1
        return function()

    def refuse_if_full(self, account: Hashable) -> None:
        return None  # never full


@dataclass
class Ledger:
    """What the HTTP middleware's RequestRecord holds for the use case."""

    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    megapixels: float = 0.0
    rate: Decision | None = None
    reservation: Reservation | None = None
    credits_milli: int = 0
