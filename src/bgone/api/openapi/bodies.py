"""Request bodies of the removal routes, described from the contracts and the option enums.

The removal handlers read their bodies by hand (several body kinds, case-insensitive field
names), so FastAPI sees no body at all. The fields are listed here from `bgone.api.contracts`
and `bgone.inference.options`, so each contract's aliases and defaults appear as the server
applies them, together with the `invalid_<option>` codes those fields can answer with.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass

from bgone.api.contracts import ACCEPTED_BOOLEANS, ACCEPTED_ONLY, Contract
from bgone.api.openapi.errors import ErrorCase, option_case
from bgone.api.openapi.schema import FILE, IMAGE_TYPES, JSON, MULTIPART, URLENCODED, Schema
from bgone.inference.options import SIZE_ALIASES, Channels, OutputFormat, Refinement, Size


@dataclass(frozen=True)
class FieldDoc:
    name: str
    schema: Schema
    description: str
    # Which body kinds can carry it: files only travel in multipart.
    media_types: tuple[str, ...] = (MULTIPART, URLENCODED, JSON)


BASE64 = {"type": "string", "contentEncoding": "base64"}
URL = {"type": "string", "format": "uri"}
BOOLEAN_NOTE = " Also `1`/`0`, `true`/`false`, `yes`/`no`, any case."
ACCEPTED_NOTE = " Accepted for compatibility and validated; it does not change the result."


def _enum(values: Iterable[str], default: str | None = None) -> Schema:
    schema: Schema = {"type": "string", "enum": list(dict.fromkeys(values))}
    if default is not None:
        schema["default"] = default
    return schema


def _boolean(default: bool = False) -> Schema:
    return {"type": "boolean", "default": default}


def source_fields(contract: Contract) -> list[FieldDoc]:
    """The image (and, for remove.bg, background) sources a contract accepts."""
    fields = [
        FieldDoc(
            name,
            FILE,
            "The image file: JPEG, PNG or WebP, recognised by content, up to the upload limit "
            "(25 MB by default)."
            + (" Alias of `file`." if name != contract.file_fields[0] else ""),
            (MULTIPART,),
        )
        for name in contract.file_fields
    ]
    fields += [
        FieldDoc(name, BASE64, "The image as base64 (a `data:` URI is accepted too).")
        for name in contract.base64_fields
    ]
    fields += [
        FieldDoc(name, URL, "A public http(s) URL bgone downloads the image from.")
        for name in contract.url_fields
    ]
    fields += [
        FieldDoc(name, BASE64, "Legacy: the image as base64; the answer is the mask only.")
        for name in contract.alpha_base64_fields
    ]
    if contract.accepts_bg_sources:
        fields += [
            FieldDoc(
                "bg_image_file",
                FILE,
                "A background picture, scaled to cover. At most one of `bg_color`, "
                "`bg_image_file`, `bg_image_url`.",
                (MULTIPART,),
            ),
            FieldDoc("bg_image_url", URL, "A background picture downloaded from this URL."),
        ]
    return fields


def option_fields(contract: Contract) -> list[FieldDoc]:
    """The engine's options with this contract's defaults."""
    defaults = contract.defaults
    return [
        FieldDoc(
            "size",
            _enum([*(s.value for s in Size), *SIZE_ALIASES], defaults.size.value),
            "Output resolution: `preview` (~0.25 MP, 0.25 credit), `medium` (~1.5 MP), `hd` "
            "(~4 MP), `full` (original, 1 credit), `auto` (full, or preview when credits are "
            "short). Never upscales. `small`/`regular` mean preview, `4k`/`50mp` mean full.",
        ),
        FieldDoc(
            "format",
            _enum([*(f.value for f in OutputFormat), "jpeg"], defaults.format.value),
            "`png`, `webp`, `jpg` (flattened over `bg_color` or white), `zip` (`color.jpg` + "
            "`alpha.png`), or `auto` (PNG if anything is transparent, else JPEG).",
        ),
        FieldDoc(
            "channels",
            _enum((c.value for c in Channels), defaults.channels.value),
            "`rgba`: the cut-out; `alpha`: the mask only, one channel.",
        ),
        FieldDoc("crop", _boolean(defaults.crop), "Crop to the subject." + BOOLEAN_NOTE),
        FieldDoc(
            "crop_margin",
            {"type": "string", "default": "0", "examples": ["10px", "5%", "10px 20px"]},
            "Margin around the cropped subject in px or %, 1, 2 or 4 values; at most 50% of "
            "the subject or 500 px per side.",
        ),
        FieldDoc(
            "bg_color",
            {"type": "string", "examples": ["white", "#81d4fa", "fff8"]},
            "Background colour: hex with 3, 4, 6 or 8 digits (with or without `#`) or a colour "
            "name.",
        ),
        FieldDoc(
            "roi",
            {"type": "string", "examples": ["0% 0% 100% 100%", "10px 20px 300px 400px"]},
            "Region of interest `x1 y1 x2 y2` in px or %: everything outside is background.",
        ),
        FieldDoc(
            "scale",
            {"type": "string", "default": "original", "examples": ["original", "80%"]},
            "Subject size as `10%`..`100%` of the canvas, or `original`. Implies "
            "`position=center` unless given.",
        ),
        FieldDoc(
            "position",
            {"type": "string", "default": "original", "examples": ["center", "50% 100%"]},
            "`original`, `center`, or 1-2 percentages (horizontal, vertical).",
        ),
        FieldDoc(
            "model",
            {"type": "string", "examples": ["u2netp", "u2netp-int8", "isnet"]},
            "A model installed on the server; the server's default when absent.",
        ),
        FieldDoc(
            "refinement",
            _enum((r.value for r in Refinement), defaults.refinement.value),
            "Edge refinement: `guided` (edge-aware), `curve` (contrast only), `raw` (the "
            "model's mask untouched).",
        ),
        *(
            FieldDoc(name, _enum(sorted(allowed)), "Subject type." + ACCEPTED_NOTE)
            if name == "type"
            else FieldDoc(name, _enum(sorted(allowed)), "Model generation." + ACCEPTED_NOTE)
            for name, allowed in ACCEPTED_ONLY.items()
        ),
        *(
            FieldDoc(name, _boolean(), "A remove.bg option." + ACCEPTED_NOTE + BOOLEAN_NOTE)
            for name in ACCEPTED_BOOLEANS
        ),
    ]


def option_error_cases(contract: Contract) -> list[ErrorCase]:
    """`invalid_<option>` for every option and text source the contract validates."""
    names = [field.name for field in option_fields(contract) if field.name != "model"]
    names += [*contract.base64_fields, *contract.alpha_base64_fields]
    return [
        option_case(name, f"{name} has a value outside its documented range.") for name in names
    ]


def removal_body(contract: Contract) -> Schema:
    """requestBody for a removal route: one schema per body kind the contract can use."""
    sources = source_fields(contract)
    fields = sources + option_fields(contract)
    image_sources = [f.name for f in sources if not f.name.startswith("bg_")]
    kinds = [MULTIPART]
    if contract.base64_fields or contract.url_fields:
        kinds += [JSON, URLENCODED]
    content: Schema = {}
    for kind in kinds:
        carried = [f for f in fields if kind in f.media_types]
        names = [name for name in image_sources if any(f.name == name for f in carried)]
        schema: Schema = {
            "type": "object",
            "properties": {
                f.name: {**copy.deepcopy(f.schema), "description": f.description} for f in carried
            },
        }
        if len(names) == 1:
            schema["required"] = names
        else:
            schema["oneOf"] = [{"required": [name]} for name in names]
        media: Schema = {"schema": schema}
        if kind == MULTIPART:
            media["encoding"] = {
                f.name: {"contentType": ", ".join(IMAGE_TYPES)}
                for f in carried
                if f.schema.get("format") == "binary"
            }
        content[kind] = media
    for kind in IMAGE_TYPES:
        content[kind] = {"schema": FILE}
    return {
        "required": True,
        "description": (
            "Send exactly one image source: "
            + ", ".join(f"`{name}`" for name in image_sources)
            + ". Field names are case-insensitive. A raw image body (`Content-Type: image/jpeg`, "
            "`image/png` or `image/webp`) is accepted too and uses the default options."
        ),
        "content": content,
    }
