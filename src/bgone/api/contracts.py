"""The three request contracts bgone speaks, as data, and parsing of their bodies.

BackgroundErase (`/v2`), ByByBG (`/v1/remove-bg`) and remove.bg (`/v1.0/removebg`) name
their fields differently and default differently; after parsing, all three become one
`ParsedRequest` and go through one implementation. The options themselves, and the
compatibility-only ones validated here, come from `bgone.inference.option_table`.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import re
from base64 import b64decode
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from bgone.errors import (
    FileTooLarge,
    InvalidOption,
    MissingSource,
    MultipleBgSources,
    MultipleSources,
)
from bgone.inference.option_table import validate_accepted_only
from bgone.inference.options import OutputFormat, RemovalOptions, Size

READ_CHUNK = 1 << 16


@dataclass(frozen=True)
class Contract:
    name: str
    file_fields: tuple[str, ...]
    base64_fields: tuple[str, ...] = ()
    url_fields: tuple[str, ...] = ()
    # Legacy fields that carry the image as base64 and force a mask-only answer.
    alpha_base64_fields: tuple[str, ...] = ()
    defaults: RemovalOptions = field(default_factory=RemovalOptions)
    accepts_bg_sources: bool = False
    # remove.bg's results name the subject's class in `X-Type` (see `subject_type`).
    sends_subject_type: bool = False


BACKGROUND_ERASE = Contract(
    name="v2",
    file_fields=("image_file",),
    base64_fields=("image_base64",),
    url_fields=("image_url",),
    alpha_base64_fields=("image",),
)
BYBYBG = Contract(name="remove-bg", file_fields=("file", "image_file"))
REMOVE_BG = Contract(
    name="removebg",
    file_fields=("image_file",),
    # image_base64 is BackgroundErase's name, which some remove.bg clients send (PyPI
    # removebgplus): accepted as an alias, so that they work unchanged.
    base64_fields=("image_file_b64", "image_base64"),
    url_fields=("image_url",),
    defaults=RemovalOptions(size=Size.PREVIEW, format=OutputFormat.AUTO),
    accepts_bg_sources=True,
    sends_subject_type=True,
)

# remove.bg's `/v1.0/improve` takes the same image sources as its removals, and two texts:
# `tag` and `image_filename` (see bgone.domain.improve).
REMOVE_BG_IMPROVE = Contract(
    name="improve",
    file_fields=REMOVE_BG.file_fields,
    base64_fields=REMOVE_BG.base64_fields,
    url_fields=REMOVE_BG.url_fields,
)

# The headers every removal result carries, in one order: the route renders them, and the
# OpenAPI document, the CORS exposed headers and the playground list them from here.
RESULT_HEADERS = (
    "X-Width",
    "X-Height",
    "X-Foreground-Top",
    "X-Foreground-Left",
    "X-Foreground-Width",
    "X-Foreground-Height",
    "X-Credits-Charged",
    "X-Quality",  # the quality that ran: fast or best
    "X-Quality-Models",  # the models that ran, comma-separated
)

# remove.bg's results name the class of the subject it detected. bgone does not classify, so
# it says what it knows: the `type` the client gave, or `other` for `auto`; with
# `type_level=none` no header, as remove.bg omits it. Only contracts with
# `sends_subject_type` send it, after `RESULT_HEADERS`.
SUBJECT_TYPE_HEADER = "X-Type"
# The request's `graphic` is spelt `graphics` among X-Type's documented values.
SUBJECT_TYPE_SPELLINGS = {"graphic": "graphics"}

_BASE64_TEXT = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")


@dataclass
class ParsedRequest:
    fields: dict[str, str] = field(default_factory=dict)
    image: bytes | None = None
    image_url: str | None = None
    bg_image: bytes | None = None
    bg_image_url: str | None = None
    json_body: bool = False
    forced_alpha: bool = False


def subject_type(fields: Mapping[str, str]) -> str | None:
    """The `X-Type` value for a request's (lower-cased, validated) fields; None: no header."""
    if fields.get("type_level", "").strip().lower() == "none":
        return None
    given = fields.get("type", "").strip().lower() or "auto"
    if given == "auto":
        return "other"
    return SUBJECT_TYPE_SPELLINGS.get(given, given)


def decode_base64(name: str, text: str, max_bytes: int) -> bytes:
    payload = text.strip()
    if payload.startswith("data:") and "," in payload:
        payload = payload.split(",", 1)[1]  # data URI: keep what follows the comma
    payload = "".join(payload.split())
    if len(payload) * 3 // 4 > max_bytes:
        raise FileTooLarge(f"{name} decodes to more than {max_bytes} bytes.")
    if not payload or not _BASE64_TEXT.match(payload) or len(payload.rstrip("=")) % 4 == 1:
        raise InvalidOption(name, f"{name} is not valid base64.")
    payload = payload.rstrip("=")
    payload += "=" * (-len(payload) % 4)
    altchars = b"-_" if ("-" in payload or "_" in payload) else None
    try:
        return b64decode(payload, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidOption(name, f"{name} is not valid base64.") from None


def _too_large(name: str, max_bytes: int) -> FileTooLarge:
    """One message for an uploaded file over the limit, streamed or parsed in memory."""
    return FileTooLarge(f"{name} exceeds the limit of {max_bytes} bytes.")


async def _read_upload(upload: UploadFile, name: str, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    received = 0
    while chunk := await upload.read(READ_CHUNK):
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(name, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def _multipart_fields(
    request: Request, part_limit: int, max_bytes: int
) -> tuple[dict[str, str], dict[str, bytes]]:
    """A multipart body's text and file fields, parsed in a thread once received whole.

    Parsing a 25 MB upload on the event loop held it for most of its time (Starlette's
    parser, with a hop to AnyIO's thread pool per chunk written to its spooled file and per
    chunk read back): `/readyz` and the other customers' requests waited behind it. Only
    admitted requests get here (admission refuses before the body is read), and the
    middleware bounds the body, so receiving it whole costs what holding its bytes costs
    next anyway; then one hop to a thread parses it.
    """
    chunks = [chunk async for chunk in request.stream()]
    return await run_in_threadpool(_parse_multipart, request.headers, chunks, part_limit, max_bytes)


def _parse_multipart(
    headers: Headers, chunks: list[bytes], part_limit: int, max_bytes: int
) -> tuple[dict[str, str], dict[str, bytes]]:
    """Starlette's own multipart parser (its limits and messages), driven to its end in this
    thread: with its files kept in memory up to `part_limit` it awaits nothing but the chunks
    given, so a loop of its own runs it here."""

    async def given() -> AsyncGenerator[bytes, None]:
        chunks.reverse()
        while chunks:  # each chunk let go as it is parsed: the body is not held twice
            yield chunks.pop()

    parser = MultiPartParser(headers, given(), max_files=4, max_fields=64, max_part_size=part_limit)
    parser.spool_max_size = part_limit
    try:
        form = asyncio.run(parser.parse())
    except MultiPartException as error:  # what request.form() raises for it
        raise HTTPException(status_code=400, detail=error.message) from None
    texts: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for key, value in form.multi_items():
        name = key.lower()
        if isinstance(value, UploadFile):
            with value.file:
                data = value.file.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise _too_large(name, max_bytes)
            files[name] = data
        else:
            texts[name] = value
    return texts, files


def _text_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise InvalidOption(name, f"{name} must be a string, number or boolean.")


async def _collect(
    request: Request, max_bytes: int
) -> tuple[dict[str, str], dict[str, bytes], bool]:
    """Text fields and file fields of any body kind, with lower-cased names."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    texts: dict[str, str] = {}
    files: dict[str, bytes] = {}
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        part_limit = max_bytes * 4 // 3 + 4096
        try:
            if content_type == "multipart/form-data":
                texts, files = await _multipart_fields(request, part_limit, max_bytes)
                return texts, files, False
            form = await request.form(max_files=4, max_fields=64, max_part_size=part_limit)
        except HTTPException as error:
            # Starlette reports every multipart limit as a 400; a field too big is a 413.
            if "exceeded maximum size" in str(error.detail):
                raise FileTooLarge(f"A form field is too large: {error.detail}") from None
            raise
        for key, value in form.multi_items():
            name = key.lower()
            if isinstance(value, UploadFile):
                files[name] = await _read_upload(value, name, max_bytes)
            else:
                texts[name] = value
        return texts, files, False
    body = await request.body()
    if content_type == "application/json" or (not content_type and body[:1] == b"{"):
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            # ValueError covers bad syntax, bad UTF-8 and integers past Python's digit
            # limit; RecursionError, arrays nested thousands deep.
            raise InvalidOption("json", "The JSON body could not be parsed.") from None
        if not isinstance(document, dict):
            raise InvalidOption("json", "The JSON body must be an object.")
        texts = {
            str(k).lower(): _text_value(str(k), v) for k, v in document.items() if v is not None
        }
        return texts, files, True
    if body:
        files["body"] = body  # a raw image body (e.g. Content-Type: image/png)
    return texts, files, False


async def parse_request(request: Request, contract: Contract, max_bytes: int) -> ParsedRequest:
    texts, files, json_body = await _collect(request, max_bytes)
    parsed = ParsedRequest(json_body=json_body)
    sources: list[str] = []
    for name in (*contract.file_fields, "body"):
        if name in files:
            parsed.image = files[name]
            sources.append(name)
    for name in contract.base64_fields + contract.alpha_base64_fields:
        if name in texts:
            parsed.image = decode_base64(name, texts.pop(name), max_bytes)
            parsed.forced_alpha = name in contract.alpha_base64_fields
            sources.append(name)
    for name in contract.url_fields:
        if name in texts and texts[name].strip():
            parsed.image_url = texts.pop(name).strip()
            sources.append(name)
    if not sources:
        expected = ", ".join(contract.file_fields + contract.base64_fields + contract.url_fields)
        raise MissingSource(f"No image was sent. Send one of: {expected}.")
    if len(sources) > 1:
        raise MultipleSources(f"Send exactly one image source; got {', '.join(sources)}.")
    if contract.accepts_bg_sources:
        _background_sources(parsed, texts, files, max_bytes)
    validate_accepted_only(texts)
    if parsed.forced_alpha:
        texts["channels"] = "alpha"
    parsed.fields = texts
    return parsed


def _background_sources(
    parsed: ParsedRequest, texts: dict[str, str], files: dict[str, bytes], max_bytes: int
) -> None:
    given = [
        name
        for name in ("bg_image_file", "bg_image_url", "bg_color")
        if name in files or (name in texts and texts[name].strip())
    ]
    if len(given) > 1:
        raise MultipleBgSources(f"Send at most one background; got {', '.join(given)}.")
    parsed.bg_image = files.get("bg_image_file")
    if "bg_image_url" in texts and texts["bg_image_url"].strip():
        parsed.bg_image_url = texts.pop("bg_image_url").strip()
