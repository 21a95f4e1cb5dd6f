"""Fakes for the unit tier: an engine that loads no model, behind `RemoverProtocol`."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image

from bgone.inference.compose import Box
from bgone.inference.imageio import DecodeLimits
from bgone.inference.options import RemovalOptions
from bgone.inference.pipeline import RemovalResult
from bgone.inference.protocols import RemoverProtocol
from bgone.settings import Settings


def _fake_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (4, 3), (10, 20, 30, 128)).save(buffer, "PNG")
    return buffer.getvalue()


FAKE_PNG = _fake_png()
FAKE_FOREGROUND = Box(left=1, top=0, width=2, height=3)


@dataclass
class FakePool:
    names: list[str] = field(default_factory=list)

    def get(self, name: str) -> object:
        if name not in self.names:
            self.names.append(name)
        return name

    def loaded(self) -> list[str]:
        return sorted(self.names)


class FakeRemover:
    """Answers every removal with FAKE_PNG (4x3) and remembers the options it was given."""

    def __init__(self, settings: Settings) -> None:
        # The real limits: the server peeks at the upload's size with them before removing.
        self.limits = DecodeLimits(settings.max_upload_bytes, settings.max_megapixels)
        self.pool = FakePool()
        self.calls: list[RemovalOptions] = []

    def remove(
        self, source: bytes | Image.Image, options: RemovalOptions | None = None
    ) -> RemovalResult:
        self.calls.append(options or RemovalOptions())
        return RemovalResult(
            data=FAKE_PNG,
            format="png",
            width=4,
            height=3,
            foreground=FAKE_FOREGROUND,
            input_width=4,
            input_height=3,
        )


def _satisfies_the_protocol(settings: Settings) -> RemoverProtocol:
    return FakeRemover(settings)  # mypy checks the fake against the protocol here
