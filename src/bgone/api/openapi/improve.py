"""The OpenAPI description of remove.bg's `POST /v1.0/improve`: its body, answer and errors.

Like the removal routes, the handler reads its body by hand (`bgone.api.contracts`), so
FastAPI sees none; the sources are the contract's, the texts and limits `bgone.domain.improve`'s.
"""

from __future__ import annotations

from bgone.api.contracts import REMOVE_BG_IMPROVE
from bgone.api.openapi.bodies import BASE64, URL
from bgone.api.openapi.errors import (
    TOO_LARGE,
    URL_ERRORS,
    WRONG_TYPE,
    ErrorCase,
    case,
    option_case,
)
from bgone.api.openapi.schema import FILE, IMAGE_TYPES, JSON, MULTIPART, URLENCODED, Schema
from bgone.domain import improve
from bgone.errors import ImproveLimitExceeded, InvalidRequest, MissingSource

TEXT = {"type": "string", "maxLength": improve.MAX_TEXT_LENGTH}
TEXTS: Schema = {
    "tag": {**TEXT, "description": "What went wrong, for the operator: e.g. `hair`."},
    "image_filename": {**TEXT, "description": "The image's file name, kept as a label."},
}
SOURCES = ", ".join(
    f"`{name}`"
    for name in (
        *REMOVE_BG_IMPROVE.file_fields,
        *REMOVE_BG_IMPROVE.base64_fields,
        *REMOVE_BG_IMPROVE.url_fields,
    )
)


def _schema(kind: str) -> Schema:
    properties: Schema = {}
    if kind == MULTIPART:
        properties.update({name: FILE for name in REMOVE_BG_IMPROVE.file_fields})
    properties.update({name: BASE64 for name in REMOVE_BG_IMPROVE.base64_fields})
    properties.update({name: URL for name in REMOVE_BG_IMPROVE.url_fields})
    properties.update(TEXTS)
    names = [name for name in properties if name not in TEXTS]
    return {
        "type": "object",
        "properties": properties,
        "oneOf": [{"required": [name]} for name in names],
    }


def improve_body() -> Schema:
    content: Schema = {kind: {"schema": _schema(kind)} for kind in (MULTIPART, JSON, URLENCODED)}
    content[MULTIPART]["encoding"] = {
        name: {"contentType": ", ".join(IMAGE_TYPES)} for name in REMOVE_BG_IMPROVE.file_fields
    }
    return {
        "required": True,
        "description": (
            f"Send exactly one image source: {SOURCES}; JPEG, PNG or WebP, at most 12 MB. "
            "Free of credits; 100 submissions a day per account (1,000 on Enterprise), the "
            "day being the UTC day. The image is kept for the server's operator."
        ),
        "content": content,
    }


def improve_success() -> Schema:
    return {
        "description": "Stored: the submission's id.",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {"id": {"type": "string", "examples": ["imp_3kTzq8WbV1c9LmXa"]}},
                }
            }
        },
    }


IMPROVE_ERRORS: tuple[ErrorCase, ...] = (
    case(MissingSource, "No image was sent. Send one of: image_file, image_file_b64, image_url."),
    case(InvalidRequest, "tag is at most 255 characters."),
    *(
        option_case(name, f"{name} is not valid base64.")
        for name in REMOVE_BG_IMPROVE.base64_fields
    ),
    option_case("json", "The JSON body could not be parsed."),
    TOO_LARGE,
    WRONG_TYPE,
    *URL_ERRORS,
    case(
        ImproveLimitExceeded,
        "This account may submit 100 images a day to /v1.0/improve; the count starts again at "
        "midnight UTC.",
        retry_after=3600,
    ),
)
