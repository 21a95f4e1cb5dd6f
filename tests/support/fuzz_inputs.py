"""Inputs for the decode fuzz: seed files and the hypothesis strategy that mutates them.

Seeds are valid files of the three accepted formats in the variants uploads come in (modes,
EXIF, ICC, interlacing, animation) plus every image of the bad-input battery
(`tests.support.cases`). Mutations: bit flips, overwritten bytes and integers, deleted,
duplicated and inserted ranges, truncation; the format's signature is kept, since a file of
another type is refused before any decoder runs. PNG CRCs and the RIFF size may be repaired
afterwards, so that mutations get past the first checksum and reach the decoders.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from functools import cache

import numpy as np
from hypothesis import strategies as st
from PIL import Image, ImageCms

from bgone.inference.imageio import sniff_format
from tests.support.cases import all_cases, seed_images

# Seeds larger than this are left out (the fuzz's own byte limit).
MAX_SEED_BYTES = 2 * 1024 * 1024
INTERESTING_INTEGERS = (0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def _save(image: Image.Image, image_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def _picture(width: int, height: int) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.float32)[np.newaxis, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, np.newaxis].repeat(width, 1)
    return Image.fromarray(np.stack([x, y, 255 - x], axis=-1).astype(np.uint8))


@cache
def valid_seeds() -> tuple[bytes, ...]:
    """Well-formed files of the three accepted formats, in the variants uploads come in."""
    rgb = _picture(24, 16)
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray(np.tile(np.arange(24, dtype=np.uint8) * 10, (16, 1))))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: exercises exif_transpose
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    palette.info["transparency"] = 0
    frames = [_picture(16, 16).rotate(angle) for angle in (0, 90, 180)]
    return (
        _save(rgb, "JPEG", quality=80),
        _save(rgb, "JPEG", quality=80, progressive=True),
        _save(rgb, "JPEG", exif=exif.tobytes(), icc_profile=srgb),
        _save(rgb.convert("L"), "JPEG"),
        _save(rgb.convert("CMYK"), "JPEG"),
        _save(rgb, "PNG"),
        _save(rgba, "PNG", optimize=True),
        _save(rgb, "PNG", interlace=1),
        _save(palette, "PNG"),
        _save(rgba.convert("LA"), "PNG"),
        _save(Image.fromarray(np.arange(384, dtype=np.uint16).reshape(16, 24) * 170), "PNG"),
        _save(rgb, "WEBP", quality=70),
        _save(rgba, "WEBP", lossless=True),
        _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=40),
    )


def battery_seeds() -> tuple[bytes, ...]:
    """The shared battery's valid images, and every file of its cases that passes the
    signature check (truncated, bombs, bad CRCs, odd modes...), within the byte limit."""
    found = list(seed_images().values())
    for case in all_cases():
        found += [upload.data for upload in case.body.uploads]
        found.append(case.body.content)
    return tuple(
        dict.fromkeys(data for data in found if sniff_format(data) and len(data) <= MAX_SEED_BYTES)
    )


@cache
def all_seeds() -> tuple[bytes, ...]:
    return valid_seeds() + battery_seeds()


# -- structure repair -------------------------------------------------------------------


def repair_png_crcs(data: bytes) -> bytes:
    """Recompute every chunk's CRC, so that a mutated PNG reaches the decoder."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    out = bytearray(data)
    position = 8
    while position + 12 <= len(out):
        (length,) = struct.unpack(">I", out[position : position + 4])
        end = position + 8 + length
        if end + 4 > len(out):
            break
        out[end : end + 4] = struct.pack(">I", zlib.crc32(out[position + 4 : end]) & 0xFFFFFFFF)
        position = end + 4
    return bytes(out)


def repair_riff_size(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF":
        return data
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:]


# -- mutations ---------------------------------------------------------------------------


def _signature_length(data: bytearray) -> int:
    if data[:4] == b"RIFF":
        return 12
    return 8 if data[:4] == b"\x89PNG" else 3


@dataclass(frozen=True)
class Mutation:
    kind: str
    at: float  # position as a fraction of the length, so it fits any seed
    value: int
    length: int

    def apply(self, data: bytearray) -> None:
        # The signature stays: files of other types are the battery's job, and a broken
        # signature is refused before any decoder runs.
        keep = _signature_length(data)
        if len(data) <= keep:
            return
        position = keep + min(int(self.at * (len(data) - keep)), len(data) - keep - 1)
        if self.kind == "flip":
            data[position] ^= 1 << (self.value % 8)
        elif self.kind == "byte":
            data[position] = self.value & 0xFF
        elif self.kind == "int32":
            data[position : position + 4] = struct.pack(">I", self.value & 0xFFFFFFFF)
        elif self.kind == "int16le":
            data[position : position + 2] = struct.pack("<H", self.value & 0xFFFF)
        elif self.kind == "delete":
            del data[position : position + self.length]
        elif self.kind == "duplicate":
            data[position:position] = data[position : position + self.length]
        elif self.kind == "insert":
            data[position:position] = bytes([self.value & 0xFF]) * self.length
        elif self.kind == "truncate":
            del data[position:]


mutations = st.builds(
    Mutation,
    kind=st.sampled_from(
        ["flip", "byte", "int32", "int16le", "delete", "duplicate", "insert", "truncate"]
    ),
    at=st.floats(min_value=0, max_value=1, allow_nan=False),
    value=st.one_of(st.sampled_from(INTERESTING_INTEGERS), st.integers(0, 0xFFFFFFFF)),
    length=st.integers(1, 64),
)


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    seeds = all_seeds()
    data = bytearray(draw(st.sampled_from(seeds)))
    for mutation in draw(st.lists(mutations, min_size=0, max_size=6)):
        mutation.apply(data)
    mutated = bytes(data)
    if draw(st.booleans()):
        mutated = repair_riff_size(repair_png_crcs(mutated))
    return mutated
