"""Every removal option once: name, kind, parser, allowed values, default, help, examples.

The front ends read this table instead of keeping their own lists: `RemovalOptions.from_fields`
parses with it, the OpenAPI request bodies (`bgone.api.openapi.bodies`) describe its rows,
`bgone remove` builds its flags and help from it, and the error catalogue's test takes the
`invalid_<option>` codes from `option_error_codes()`. Defaults live on `RemovalOptions` (and
per provider on each contract's defaults); a row only spells out a text option's default the
way a client would send it.

Adding an option: its field on `RemovalOptions`, then one row here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bgone.errors import InvalidOption
from bgone.inference.option_values import (
    parse_bool,
    parse_choice,
    parse_color,
    parse_margin,
    parse_position,
    parse_roi,
    parse_scale,
    parse_size,
)
from bgone.inference.options import (
    SIZE_ALIASES,
    Channels,
    OutputFormat,
    Quality,
    Refinement,
    RemovalOptions,
    Size,
    quality_conflict,
)


class OptionKind(StrEnum):
    CHOICE = "choice"  # one of `choices`, any case
    BOOLEAN = "boolean"  # 1/0, true/false, yes/no, on/off
    TEXT = "text"  # free text with its own grammar: lengths, colours, names
    IMAGE = "image"  # a picture: a file (or, over HTTP, a URL), never text


@dataclass(frozen=True)
class OptionRow:
    name: str  # on the wire, on the command line (with dashes) and on RemovalOptions
    kind: OptionKind
    help: str
    # Text to value; raises InvalidOption(name). None for IMAGE rows, which are not text.
    parse: Callable[[str], object] | None
    choices: tuple[str, ...] = ()  # CHOICE rows: the values
    aliases: Mapping[str, str] = field(default_factory=dict)  # alias -> value, also accepted
    examples: tuple[str, ...] = ()
    default_text: str | None = None  # TEXT rows: the RemovalOptions default, as sent
    # False: accepted for compatibility with remove.bg and validated, but ignored.
    engine: bool = True
    # False: any text parses here (model: the engine refuses unknown names as invalid_model).
    checked: bool = True

    @property
    def accepted_values(self) -> tuple[str, ...]:
        return (*self.choices, *self.aliases)

    @property
    def error_code(self) -> str:
        return f"invalid_{self.name}"


def _choice(kind: type[StrEnum], name: str, aliases: Mapping[str, str]) -> Callable[[str], object]:
    return lambda text: parse_choice(kind, name, text, aliases)


def _accepted_choice(name: str, allowed: tuple[str, ...]) -> Callable[[str], object]:
    def parse(text: str) -> str:
        lowered = text.strip().lower()
        if lowered not in allowed:
            raise InvalidOption(name, f"{name} must be one of {', '.join(allowed)}.")
        return lowered

    return parse


def _boolean(name: str) -> Callable[[str], object]:
    return lambda text: parse_bool(name, text)


FORMAT_ALIASES = {"jpeg": "jpg"}
SUBJECT_TYPES = (
    "animal",
    "auto",
    "car",
    "graphic",
    "graphics",
    "other",
    "person",
    "product",
    "transportation",
)
TYPE_LEVELS = ("1", "2", "latest", "none")
ACCEPTED_BOOLEAN_HELP = "A remove.bg option."

OPTION_TABLE: tuple[OptionRow, ...] = (
    OptionRow(
        "size",
        OptionKind.CHOICE,
        "Output resolution: `preview` (~0.25 MP, 0.25 credit), `medium` (~1.5 MP), `hd` "
        "(~4 MP), `full` (original, 1 credit), `auto` (full, or preview when credits are "
        "short). Never upscales. `small`/`regular` mean preview, `4k`/`50mp` mean full.",
        parse_size,
        choices=tuple(size.value for size in Size),
        aliases=SIZE_ALIASES,
    ),
    OptionRow(
        "format",
        OptionKind.CHOICE,
        "`png`, `webp`, `jpg` (flattened over `bg_color` or white), `zip` (`color.jpg` + "
        "`alpha.png`), or `auto` (PNG if anything is transparent, else JPEG).",
        _choice(OutputFormat, "format", FORMAT_ALIASES),
        choices=tuple(kind.value for kind in OutputFormat),
        aliases=FORMAT_ALIASES,
    ),
    OptionRow(
        "channels",
        OptionKind.CHOICE,
        "`rgba`: the cut-out; `alpha`: the mask only, one channel.",
        _choice(Channels, "channels", {}),
        choices=tuple(channels.value for channels in Channels),
    ),
    OptionRow("crop", OptionKind.BOOLEAN, "Crop to the subject.", _boolean("crop")),
    OptionRow(
        "crop_margin",
        OptionKind.TEXT,
        "Margin around the cropped subject in px or %, 1, 2 or 4 values; at most 50% of "
        "the subject or 500 px per side.",
        parse_margin,
        examples=("10px", "5%", "10px 20px"),
        default_text="0",
    ),
    OptionRow(
        "bg_color",
        OptionKind.TEXT,
        "Background colour: hex with 3, 4, 6 or 8 digits (with or without `#`) or a colour name.",
        parse_color,
        examples=("white", "#81d4fa", "fff8"),
    ),
    OptionRow("bg_image", OptionKind.IMAGE, "A background picture, scaled to cover.", None),
    OptionRow(
        "roi",
        OptionKind.TEXT,
        "Region of interest `x1 y1 x2 y2` in px or %: everything outside is background.",
        parse_roi,
        examples=("0% 0% 100% 100%", "10px 20px 300px 400px"),
    ),
    OptionRow(
        "scale",
        OptionKind.TEXT,
        "Subject size as `10%`..`100%` of the canvas, or `original`. Implies "
        "`position=center` unless given.",
        parse_scale,
        examples=("original", "80%"),
        default_text="original",
    ),
    OptionRow(
        "position",
        OptionKind.TEXT,
        "`original`, `center`, or 1-2 percentages (horizontal, vertical).",
        parse_position,
        examples=("center", "50% 100%"),
        default_text="original",
    ),
    OptionRow(
        "model",
        OptionKind.TEXT,
        "A model installed on the server; the server's default when absent.",
        str,
        examples=("u2netp", "u2netp-int8", "isnet"),
        checked=False,
    ),
    OptionRow(
        "refinement",
        OptionKind.CHOICE,
        "Edge refinement: `guided` (edge-aware), `curve` (contrast only), `raw` (the "
        "model's mask untouched).",
        _choice(Refinement, "refinement", {}),
        choices=tuple(refinement.value for refinement in Refinement),
    ),
    OptionRow(
        "quality",
        OptionKind.CHOICE,
        "`fast`: one model run and guided refinement. `best`: u2netp on the photo and its "
        "mirror image, fused by confidence with U^2-Net full size (int8) and isnet where they "
        "are installed, a colour model where the models hesitate, then guided refinement; "
        "several times slower (`X-Quality-Models` names the models that ran). `best` chooses "
        "its own models and refinement, so it cannot be combined with `model` or "
        "`refinement`. The server's default when absent.",
        _choice(Quality, "quality", {}),
        choices=tuple(quality.value for quality in Quality),
    ),
    OptionRow(
        "type",
        OptionKind.CHOICE,
        "Subject type.",
        _accepted_choice("type", SUBJECT_TYPES),
        choices=SUBJECT_TYPES,
        engine=False,
    ),
    OptionRow(
        "type_level",
        OptionKind.CHOICE,
        "Model generation.",
        _accepted_choice("type_level", TYPE_LEVELS),
        choices=TYPE_LEVELS,
        engine=False,
    ),
    *(
        OptionRow(name, OptionKind.BOOLEAN, ACCEPTED_BOOLEAN_HELP, _boolean(name), engine=False)
        for name in ("add_shadow", "semitransparency", "despill")
    ),
)

OPTIONS_BY_NAME = {row.name: row for row in OPTION_TABLE}
ENGINE_OPTIONS = tuple(row for row in OPTION_TABLE if row.engine)
ACCEPTED_ONLY_OPTIONS = tuple(row for row in OPTION_TABLE if not row.engine)
# Parsed before the rest, as they always were: of two bad values, the same one is reported.
PARSED_FIRST = ("scale", "position")


def option_names() -> tuple[str, ...]:
    """The RemovalOptions fields the table describes: the SDK's keywords compare to these."""
    return tuple(row.name for row in ENGINE_OPTIONS)


def option_error_codes() -> tuple[str, ...]:
    """Every `invalid_<option>` code a removal option can answer with."""
    return tuple(row.error_code for row in OPTION_TABLE if row.checked and row.parse is not None)


def validate_accepted_only(fields: Mapping[str, str]) -> None:
    """Check the compatibility-only options that are present; their values change nothing."""
    for row in ACCEPTED_ONLY_OPTIONS:
        if row.name in fields and row.parse is not None:
            row.parse(fields[row.name])


def parse_fields(
    fields: Mapping[str, str | None], *, bg_image: bytes | None, defaults: RemovalOptions
) -> RemovalOptions:
    """`defaults` with each engine option that `fields` carries (names in any case)."""
    values = {
        key.lower(): value
        for key, value in fields.items()
        if value is not None and str(value).strip() != ""
    }
    rows = sorted(ENGINE_OPTIONS, key=lambda row: row.name not in PARSED_FIRST)
    # Any: each row's parser returns the type of the field it is named after, which the
    # table test checks; replace() then rebuilds the frozen options with them.
    changes: dict[str, Any] = {
        row.name: row.parse(values[row.name])
        for row in rows
        if row.name in values and row.parse is not None
    }
    if "quality" not in changes and ("model" in changes or "refinement" in changes):
        # Naming a model or a refinement asks for something specific, which only `fast`
        # honours: such a request gets it whatever quality the defaults (the operator) chose.
        changes["quality"] = Quality.FAST
    quality_conflict(
        changes.get("quality", defaults.quality), changes.get("model"), changes.get("refinement")
    )
    scale = changes.get("scale", defaults.scale)
    if changes.get("position", defaults.position) is None and scale is not None:
        changes["position"] = (0.5, 0.5)  # remove.bg: setting scale implies centring
    if bg_image is not None:
        changes["bg_image"] = bg_image
    return replace(defaults, **changes)
