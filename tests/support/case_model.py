"""The battery's data model: how a case is sent, what it expects, how a result is checked.

See tests.support.cases for the public API.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from PIL import Image

from tests.support import badfiles as files

Check = Callable[[Image.Image], list[str]]


class Encoding(StrEnum):
    MULTIPART = "multipart"
    FORM = "form"  # application/x-www-form-urlencoded
    JSON = "json"
    RAW = "raw"  # `content` as the whole body, with `content_type`
    STREAM = "stream"  # chunked, `stream_bytes` long: more than the server may read
    DECLARED = "declared"  # Content-Length: `declared_length`, body never sent


@dataclass(frozen=True)
class Upload:
    field_name: str
    filename: str
    data: bytes = field(repr=False)
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Body:
    encoding: Encoding
    uploads: tuple[Upload, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    document: Any = None  # the JSON document, or a str sent verbatim as JSON text
    content: bytes = field(default=b"", repr=False)
    content_type: str | None = None
    stream_bytes: int = 0
    declared_length: int = 0

    def httpx_arguments(self) -> dict[str, Any]:
        if self.encoding is Encoding.MULTIPART:
            uploads = [(u.field_name, (u.filename, u.data, u.content_type)) for u in self.uploads]
            return {"files": uploads, "data": dict(self.fields)}
        if self.encoding is Encoding.FORM:
            return {"data": dict(self.fields)}
        if self.encoding is Encoding.JSON:
            text = self.document if isinstance(self.document, str) else json.dumps(self.document)
            return {"content": text.encode(), "headers": {"content-type": "application/json"}}
        if self.encoding is Encoding.RAW:
            headers = {"content-type": self.content_type} if self.content_type else {}
            return {"content": self.content, "headers": headers}
        raise ValueError(f"{self.encoding} bodies need a raw socket (case_sender)")


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    body: Body
    status: int
    code: str | None = None
    check: Check | None = None

    def verify(self, content_type: str, content: bytes) -> list[str]:
        """Failures of a 200 answer against this case's check (nothing to check: none)."""
        if self.check is None:
            return []
        try:
            image = result_image(content_type, content)
        except Exception as error:  # a result that does not even open is a failure
            return [f"result does not open: {error}"]
        return self.check(image)


# -- request builders, shared by the case rows ------------------------------------------


def upload(
    data: bytes,
    filename: str = "image.png",
    content_type: str = "image/png",
    field_name: str = "image_file",
    **fields: str,
) -> Body:
    return Body(
        Encoding.MULTIPART,
        uploads=(Upload(field_name, filename, data, content_type),),
        fields=tuple(fields.items()),
    )


def form(**fields: str) -> Body:
    return Body(Encoding.FORM, fields=tuple(fields.items()))


def as_json(document: Any) -> Body:
    return Body(Encoding.JSON, document=document)


def raw(content: bytes, content_type: str | None = "image/png") -> Body:
    return Body(Encoding.RAW, content=content, content_type=content_type)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- result checks ----------------------------------------------------------------------


def result_image(content_type: str, content: bytes) -> Image.Image:
    """The result picture, from an image body or any contract's JSON body."""
    if content_type.startswith("application/json"):
        document = json.loads(content)
        encoded = document.get("image_base64") or document["data"]["result_b64"]
        content = base64.b64decode(encoded)
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def close(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def has_size(width: int, height: int) -> Check:
    def check(image: Image.Image) -> list[str]:
        return [] if image.size == (width, height) else [f"size {image.size} != {width}x{height}"]

    return check


def colour_at(
    points: list[tuple[float, float, tuple[int, int, int]]], size: tuple[int, int], tolerance: int
) -> Check:
    """Colours at fractional points, and the result's size.

    A fully transparent pixel carries no colour (the compositor zeroes it, so the removed
    background cannot be recovered): there the check is that it is black. Where the result
    shows anything, its colour must be the source's; at least one point must, or the case
    could not tell a wrongly oriented or decoded image from a right one.
    """

    def check(image: Image.Image) -> list[str]:
        failures = has_size(*size)(image)
        rgb = image.convert("RGBA")
        coloured = 0
        for fx, fy, expected in points:
            x, y = int(fx * (rgb.width - 1)), int(fy * (rgb.height - 1))
            actual = rgb.getpixel((x, y))
            assert isinstance(actual, tuple)
            if actual[3] == 0:
                if actual[:3] != (0, 0, 0):
                    failures.append(f"pixel ({x},{y}) is transparent but coloured {actual[:3]}")
                continue
            coloured += 1
            if not close(actual[:3], expected, tolerance):
                failures.append(f"pixel ({x},{y}) is {actual[:3]}, expected ~{expected}")
        if not coloured:
            failures.append("no point of the result is visible: its colours cannot be checked")
        return failures

    return check


def no_colour_under_transparency(width: int, height: int) -> Check:
    """The result's size, and no colour under its fully transparent pixels (a uniform source
    has no subject, so the whole result is transparent: its decoding is checked on the
    decoder itself, tests/unit/inference/test_decode_modes.py)."""

    def check(image: Image.Image) -> list[str]:
        failures = has_size(width, height)(image)
        rgba = np.asarray(image.convert("RGBA"))
        coloured = int(np.count_nonzero(rgba[..., :3][rgba[..., 3] == 0]))
        if coloured:
            failures.append(f"{coloured} colour values under fully transparent pixels")
        return failures

    return check


def upright_quadrants(width: int = 64, height: int = 48) -> Check:
    """The EXIF-oriented quadrants picture, displayed upright: each corner its own colour."""
    corners = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]
    points = [(x, y, colour) for (x, y), colour in zip(corners, files.QUADRANT_COLORS, strict=True)]
    return colour_at(points, (width, height), tolerance=40)
