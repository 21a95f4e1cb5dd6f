"""Request bodies of the removal routes, described from the contracts and the option table.

The removal handlers read their bodies by hand (several body kinds, case-insensitive field
names), so FastAPI sees no body at all. The fields are listed here from `bgone.api.contracts`
and `bgone.inference.option_table`, so each contract's sources and defaults appear as the
server applies them, together with the `invalid_<option>` codes those fields can answer with.
What only the wire adds (the boolean spellings, "accepted for compatibility") is added here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass

from bgone.api.contracts import Contract
from bgone.api.openapi.errors import ErrorCase, option_case
from bgone.api.openapi.schema import FILE, IMAGE_TYPES, JSON, MULTIPART, URLENCODED, Schema
from bgone.errors import InvalidOption
from bgone.inference.option_table import (
    OPTION_TABLE,
    OPTIONS_BY_NAME,
    OptionKind,
    OptionRow,
    option_error_codes,
)
from bgone.inference.options import Quality, RemovalOptions, quality_conflict


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
        FieldDoc(
            name,
            BASE64,
            "The image as base64 (a `data:` URI is accepted too)."
            + (f" Alias of `{contract.base64_fields[0]}`." if index else ""),
        )
        for index, name in enumerate(contract.base64_fields)
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
                OPTIONS_BY_NAME["bg_image"].help
                + " At most one of `bg_color`, `bg_image_file`, `bg_image_url`.",
                (MULTIPART,),
            ),
            FieldDoc("bg_image_url", URL, "A background picture downloaded from this URL."),
        ]
    return fields


def _option_schema(row: OptionRow, defaults: RemovalOptions) -> Schema:
    # The contract's own default for engine options; compatibility-only options have none.
    default = getattr(defaults, row.name) if row.engine else None
    if row.kind is OptionKind.CHOICE:
        return _enum(row.accepted_values, None if default is None else str(default))
    if row.kind is OptionKind.BOOLEAN:
        return _boolean(bool(default))
    schema: Schema = {"type": "string"}
    if row.default_text is not None:
        schema["default"] = row.default_text
    if row.examples:
        schema["examples"] = list(row.examples)
    return schema


def _option_description(row: OptionRow) -> str:
    return (
        row.help
        + ("" if row.engine else ACCEPTED_NOTE)
        + (BOOLEAN_NOTE if row.kind is OptionKind.BOOLEAN else "")
    )


def option_fields(contract: Contract) -> list[FieldDoc]:
    """The option table's text options with this contract's defaults (images are sources)."""
    return [
        FieldDoc(row.name, _option_schema(row, contract.defaults), _option_description(row))
        for row in OPTION_TABLE
        if row.kind is not OptionKind.IMAGE
    ]


def _quality_conflict_detail() -> str:
    """What `quality=best` with an explicit model answers: the likelier `invalid_quality`."""
    try:
        quality_conflict(Quality.BEST, "u2netp", None)
    except InvalidOption as error:
        return error.detail
    raise AssertionError("quality=best with a model is a conflict")


def option_error_cases(contract: Contract) -> list[ErrorCase]:
    """`invalid_<option>` for every option and text source the contract validates."""
    names = [code.removeprefix("invalid_") for code in option_error_codes()]
    names += [*contract.base64_fields, *contract.alpha_base64_fields]
    details = {"quality": _quality_conflict_detail()}
    return [
        option_case(name, details.get(name, f"{name} has a value outside its documented range."))
        for name in names
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
