"""What the server needs from the engine, so that a process can be given another one.

`Remover` satisfies `RemoverProtocol` as it is; the unit tests give the server a fake that
returns a fixed PNG without loading any model.
"""

from __future__ import annotations

from typing import Protocol

from PIL import Image

from bgone.inference.imageio import DecodedImage, DecodeLimits
from bgone.inference.options import RemovalOptions
from bgone.inference.pipeline import RemovalResult


class LoadedModelProtocol(Protocol):
    def load_side_by_side_copy(self) -> None:
        """Loads what overlapping runs need (the server does it for its default model)."""
        ...


class ModelPoolProtocol(Protocol):
    def get(self, name: str) -> LoadedModelProtocol:
        """Loads `name` once (the server warms its default model at start-up)."""
        ...

    def loaded(self) -> list[str]:
        """The names of the models loaded so far (`/readyz` reports them)."""
        ...


class RemoverProtocol(Protocol):
    @property
    def limits(self) -> DecodeLimits: ...

    @property
    def pool(self) -> ModelPoolProtocol: ...

    def remove(
        self, source: bytes | Image.Image | DecodedImage, options: RemovalOptions | None = None
    ) -> RemovalResult: ...
