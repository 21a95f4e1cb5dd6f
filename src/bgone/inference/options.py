"""The one typed options object shared by the library, the CLI and the HTTP API.

Values follow remove.bg's parameter names and meanings. `RemovalOptions.from_fields`
parses the string form every front end receives and raises `InvalidOption` with the
stable code `invalid_<name>` for a bad value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bgone.errors import InvalidOption


class Size(StrEnum):
    PREVIEW = "preview"
    MEDIUM = "medium"
    HD = "hd"
    FULL = "full"
    AUTO = "auto"


# Legacy and alias names remove.bg accepts for `size`.
SIZE_ALIASES = {"small": Size.PREVIEW, "regular": Size.PREVIEW, "4k": Size.FULL, "50mp": Size.FULL}

# Pixel budgets per size; `full` and `auto` are bounded by the decode limit instead.
SIZE_PIXELS = {Size.PREVIEW: 250_000, Size.MEDIUM: 1_500_000, Size.HD: 4_000_000}


class OutputFormat(StrEnum):
    PNG = "png"
    WEBP = "webp"
    JPG = "jpg"
    ZIP = "zip"
    AUTO = "auto"


class Channels(StrEnum):
    RGBA = "rgba"
    ALPHA = "alpha"


class Refinement(StrEnum):
    GUIDED = "guided"  # edge-aware filter guided by the photo, then a contrast curve (default)
    CURVE = "curve"  # contrast curve only
    RAW = "raw"  # the model's mask, resized, untouched


class Quality(StrEnum):
    FAST = "fast"  # one model run, guided refinement (default)
    BEST = "best"  # every installed model fused, the colour model (inference/best.py)


def quality_conflict(quality: Quality, model: str | None, refinement: Refinement | None) -> None:
    """`best` chooses its models and refinement itself: an explicit one is a conflict.

    `refinement` is the one the caller asked for (None when not given), so that an
    explicit `guided` is refused as well.
    """
    if quality is not Quality.BEST:
        return
    named = [f"model={model}"] if model is not None else []
    named += [f"refinement={refinement.value}"] if refinement is not None else []
    if named:
        raise InvalidOption(
            "quality",
            f"quality=best chooses its own models and refinement; drop {' and '.join(named)} "
            "or ask for quality=fast.",
        )


@dataclass(frozen=True)
class Length:
    value: float
    percent: bool

    def resolve(self, reference: float) -> float:
        return self.value * reference / 100.0 if self.percent else self.value


@dataclass(frozen=True)
class Margin:
    top: Length
    right: Length
    bottom: Length
    left: Length


@dataclass(frozen=True)
class Roi:
    x1: Length
    y1: Length
    x2: Length
    y2: Length


@dataclass(frozen=True)
class Color:
    red: int
    green: int
    blue: int
    alpha: int = 255

    @property
    def rgba(self) -> tuple[int, int, int, int]:
        return (self.red, self.green, self.blue, self.alpha)


WHITE = Color(255, 255, 255)
ZERO = Length(0, percent=False)


@dataclass(frozen=True)
class RemovalOptions:
    size: Size = Size.FULL
    format: OutputFormat = OutputFormat.PNG
    channels: Channels = Channels.RGBA
    crop: bool = False
    crop_margin: Margin = Margin(ZERO, ZERO, ZERO, ZERO)
    bg_color: Color | None = None
    bg_image: bytes | None = field(default=None, repr=False)
    roi: Roi | None = None
    scale: float | None = None  # fraction of the canvas; None = original
    position: tuple[float, float] | None = None  # fractions; None = original
    model: str | None = None  # None = the configured default
    refinement: Refinement = Refinement.GUIDED
    quality: Quality = Quality.FAST

    @classmethod
    def from_fields(
        cls,
        fields: Mapping[str, str | None],
        *,
        bg_image: bytes | None = None,
        defaults: RemovalOptions | None = None,
    ) -> RemovalOptions:
        """Parse string fields (form data, CLI flags) row by row of the option table.

        Unknown keys are ignored; a bad value raises `InvalidOption` (`invalid_<name>`).
        """
        # The table is built from this module's types and parsers, hence imported here.
        from bgone.inference.option_table import parse_fields

        return parse_fields(fields, bg_image=bg_image, defaults=defaults or cls())
