"""The one typed options object shared by the library, the CLI and the HTTP API.

Values follow remove.bg's parameter names and meanings. `RemovalOptions.from_fields`
parses the string form every front end receives and raises `InvalidOption` with the
stable code `invalid_<name>` for a bad value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from PIL import ImageColor

from bgone.errors import InvalidOption

E = TypeVar("E", bound=StrEnum)


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
    BEST = "best"  # test-time augmentation, isnet fusion when installed, band matting


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
        """Parse string fields (form data, CLI flags). Unknown keys are ignored."""
        base = defaults or cls()
        values = {
            key.lower(): value
            for key, value in fields.items()
            if value is not None and str(value).strip() != ""
        }
        scale = parse_scale(values["scale"]) if "scale" in values else base.scale
        position = parse_position(values["position"]) if "position" in values else base.position
        if position is None and scale is not None:
            position = (0.5, 0.5)  # remove.bg: setting scale implies centring
        return cls(
            size=parse_size(values["size"]) if "size" in values else base.size,
            format=_parse_enum(OutputFormat, "format", values, base.format, {"jpeg": "jpg"}),
            channels=_parse_enum(Channels, "channels", values, base.channels, {}),
            crop=parse_bool("crop", values["crop"]) if "crop" in values else base.crop,
            crop_margin=(
                parse_margin(values["crop_margin"]) if "crop_margin" in values else base.crop_margin
            ),
            bg_color=parse_color(values["bg_color"]) if "bg_color" in values else base.bg_color,
            bg_image=bg_image if bg_image is not None else base.bg_image,
            roi=parse_roi(values["roi"]) if "roi" in values else base.roi,
            scale=scale,
            position=position,
            model=values.get("model", base.model),
            refinement=_parse_enum(Refinement, "refinement", values, base.refinement, {}),
        )


def _parse_enum(
    kind: type[E], name: str, values: Mapping[str, str], default: E, aliases: Mapping[str, str]
) -> E:
    if name not in values:
        return default
    text = values[name].strip().lower()
    text = aliases.get(text, text)
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidOption(
            name, f"{name} must be one of {allowed}; got {values[name]!r}."
        ) from None


def parse_size(text: str) -> Size:
    lowered = text.strip().lower()
    if lowered in SIZE_ALIASES:
        return SIZE_ALIASES[lowered]
    return _parse_enum(Size, "size", {"size": lowered}, Size.FULL, {})


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidOption(name, f"{name} must be true or false; got {text!r}.")


_LENGTH = re.compile(r"^(\d+(?:\.\d+)?)(px|%)?$")


def parse_length(name: str, text: str) -> Length:
    match = _LENGTH.match(text.strip().lower())
    if not match:
        raise InvalidOption(name, f"{name}: {text!r} is not a length like '30px' or '10%'.")
    return Length(float(match.group(1)), percent=match.group(2) == "%")


def parse_margin(text: str) -> Margin:
    parts = [parse_length("crop_margin", part) for part in text.replace(",", " ").split()]
    if len(parts) == 1:
        return Margin(parts[0], parts[0], parts[0], parts[0])
    if len(parts) == 2:
        return Margin(parts[0], parts[1], parts[0], parts[1])
    if len(parts) == 4:
        return Margin(*parts)
    raise InvalidOption("crop_margin", "crop_margin takes 1, 2 or 4 values.")


def parse_roi(text: str) -> Roi:
    parts = [parse_length("roi", part) for part in text.replace(",", " ").split()]
    if len(parts) != 4:
        raise InvalidOption("roi", "roi takes four values: 'x1 y1 x2 y2' in px or %.")
    if any(part.percent and part.value > 100 for part in parts):
        raise InvalidOption("roi", "roi percentages must lie between 0% and 100%.")
    return Roi(*parts)


def _percent(name: str, text: str, low: float, high: float) -> float:
    match = re.match(r"^(\d+(?:\.\d+)?)%$", text.strip())
    if not match or not low <= float(match.group(1)) <= high:
        raise InvalidOption(
            name, f"{name} must be a percentage from {low:g}% to {high:g}%; got {text!r}."
        )
    return float(match.group(1)) / 100.0


def parse_scale(text: str) -> float | None:
    if text.strip().lower() == "original":
        return None
    return _percent("scale", text, 10, 100)


def parse_position(text: str) -> tuple[float, float] | None:
    lowered = text.strip().lower()
    if lowered == "original":
        return None
    if lowered == "center":
        return (0.5, 0.5)
    parts = lowered.replace(",", " ").split()
    if len(parts) not in (1, 2):
        raise InvalidOption("position", "position takes 'original', 'center' or 1-2 percentages.")
    values = [_percent("position", part, 0, 100) for part in parts]
    return (values[0], values[-1])


_HEX = re.compile(r"^#?([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$")


def parse_color(text: str) -> Color:
    lowered = text.strip().lower()
    match = _HEX.match(lowered)
    if match:
        digits = match.group(1)
        if len(digits) in (3, 4):
            digits = "".join(digit * 2 for digit in digits)
        channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        return Color(*channels)
    try:
        red, green, blue = ImageColor.getrgb(lowered)[:3]
    except ValueError:
        raise InvalidOption(
            "bg_color", f"bg_color {text!r} is neither a hex colour nor a colour name."
        ) from None
    # Pillow passes rgb(999,0,0) and out-of-range hsl() through unclamped.
    if not all(0 <= channel <= 255 for channel in (red, green, blue)):
        raise InvalidOption("bg_color", f"bg_color {text!r} has a channel outside 0-255.")
    return Color(red, green, blue)
