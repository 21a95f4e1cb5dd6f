"""The text form of each option's value, parsed into the types of bgone.inference.options.

Every parser raises `InvalidOption` with the stable code `invalid_<name>` for a bad value;
the option table (bgone.inference.option_table) names which parser reads which option.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from PIL import ImageColor

from bgone.errors import InvalidOption, quoted
from bgone.inference.options import SIZE_ALIASES, Color, Length, Margin, Roi, Size

E = TypeVar("E", bound=StrEnum)


def parse_choice(
    kind: type[E], name: str, text: str, aliases: Mapping[str, str] | None = None
) -> E:
    """One member of `kind`, by value, any case, after the row's value aliases."""
    return _parse_enum(kind, name, {name: text}, next(iter(kind)), aliases or {})


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
            name, f"{name} must be one of {allowed}; got {quoted(values[name])}."
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
    raise InvalidOption(name, f"{name} must be true or false; got {quoted(text)}.")


_LENGTH = re.compile(r"^(\d+(?:\.\d+)?)(px|%)?$")


def parse_length(name: str, text: str) -> Length:
    match = _LENGTH.match(text.strip().lower())
    if not match:
        raise InvalidOption(name, f"{name}: {quoted(text)} is not a length like '30px' or '10%'.")
    value = float(match.group(1))
    if not math.isfinite(value):  # hundreds of digits: float() makes them infinity
        raise InvalidOption(name, f"{name}: {text[:40]!r}... is too large a length.")
    return Length(value, percent=match.group(2) == "%")


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
            name, f"{name} must be a percentage from {low:g}% to {high:g}%; got {quoted(text)}."
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
            "bg_color", f"bg_color {quoted(text)} is neither a hex colour nor a colour name."
        ) from None
    # Pillow passes rgb(999,0,0) and out-of-range hsl() through unclamped.
    if not all(0 <= channel <= 255 for channel in (red, green, blue)):
        raise InvalidOption("bg_color", f"bg_color {quoted(text)} has a channel outside 0-255.")
    return Color(red, green, blue)
