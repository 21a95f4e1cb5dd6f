"""Byte builders for the bad-input battery: hostile, broken and tricky-but-valid image files.

Everything is made here from Pillow, numpy and the standard library; nothing is downloaded.
The case rows that use these files live in `tests.support.cases`.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from PIL import Image

from tests.support.imagegen import encode, with_orientation

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Four distinct quadrant colours: any flip or rotation moves at least one of them.
QUADRANT_COLORS = ((220, 30, 30), (30, 200, 40), (30, 60, 220), (240, 220, 30))


def solid(width: int, height: int, color: tuple[int, int, int] = (90, 140, 200)) -> Image.Image:
    return Image.new("RGB", (width, height), color)


def quadrants(width: int = 64, height: int = 48) -> Image.Image:
    """Top-left, top-right, bottom-left, bottom-right in QUADRANT_COLORS order."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    half_w, half_h = width // 2, height // 2
    pixels[:half_h, :half_w] = QUADRANT_COLORS[0]
    pixels[:half_h, half_w:] = QUADRANT_COLORS[1]
    pixels[half_h:, :half_w] = QUADRANT_COLORS[2]
    pixels[half_h:, half_w:] = QUADRANT_COLORS[3]
    return Image.fromarray(pixels)


def jpeg_with_orientation(orientation: int) -> bytes:
    """A JPEG whose stored pixels need EXIF `orientation` to display as `quadrants()`."""
    if orientation != 1:
        return with_orientation(quadrants(), orientation)
    exif = Image.Exif()  # 1: stored upright, the tag present all the same
    exif[0x0112] = orientation
    return encode(quadrants(), "JPEG", quality=95, exif=exif.tobytes())


def jpeg_with_broken_exif() -> bytes:
    """A valid JPEG whose APP1 Exif segment holds garbage after the Exif header."""
    clean = encode(quadrants(), "JPEG", quality=95)
    payload = b"Exif\x00\x00" + b"II*\x00" + b"\xff" * 40
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return clean[:2] + segment + clean[2:]


# -- PNG by hand ------------------------------------------------------------------------


def png_chunk(kind: bytes, payload: bytes, *, crc: int | None = None) -> bytes:
    checksum = zlib.crc32(kind + payload) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", checksum)


def png_from_rows(
    width: int, height: int, bit_depth: int, color_type: int, rows: bytes, extra: bytes = b""
) -> bytes:
    """A PNG from raw scanlines (each already prefixed with its filter byte)."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + extra
        + png_chunk(b"IDAT", zlib.compress(rows, 9))
        + png_chunk(b"IEND", b"")
    )


def png_sixteen_bit(channels: tuple[int, ...], width: int = 32, height: int = 24) -> bytes:
    """A 16-bit PNG of one flat colour; `channels` are 8-bit values scaled by 257.

    One value: grey (type 0); two: grey+alpha (4); three: RGB (2); four: RGBA (6). With
    alpha, the left half is fully transparent.
    """
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[len(channels)]
    pixel = np.array([value * 257 for value in channels], dtype=">u2")
    image = np.tile(pixel, (height, width, 1))
    if len(channels) in (2, 4):
        image[:, : width // 2, -1] = 0
    rows = b"".join(b"\x00" + image[row].tobytes() for row in range(height))
    return png_from_rows(width, height, 16, color_type, rows)


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` RGB pixels."""
    return png_from_rows(width, height, 8, 2, b"\x00" * 16)


def png_real_bomb(width: int = 8000, height: int = 8000) -> bytes:
    """A real, fully decodable grey PNG of `width` x `height` zeros, compressed to ~KB."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def png_with_bad_crc(chunk: bytes) -> bytes:
    """A small valid PNG with the CRC of its first `chunk` (IHDR or IDAT) corrupted."""
    good = encode(solid(32, 24), "PNG")
    position = good.index(chunk) - 4
    length = struct.unpack(">I", good[position : position + 4])[0]
    crc_at = position + 8 + length
    broken = struct.unpack(">I", good[crc_at : crc_at + 4])[0] ^ 0xDEADBEEF
    return good[:crc_at] + struct.pack(">I", broken) + good[crc_at + 4 :]


def png_with_zero_width() -> bytes:
    return png_from_rows(0, 10, 8, 2, b"\x00" * 10)


def png_compressed_metadata_bomb(kind: bytes, inflated_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A small PNG carrying a zTXt or iCCP chunk that inflates to `inflated_bytes` zeros."""
    compressor = zlib.compressobj(9)
    block = b"\x00" * (1 << 20)
    bomb = b"".join(compressor.compress(block) for _ in range(inflated_bytes >> 20))
    bomb += compressor.flush()
    payload = b"Comment\x00\x00" + bomb if kind == b"zTXt" else b"icc\x00\x00" + bomb
    rows = b"".join(b"\x00" + b"\x80" * 32 * 3 for _ in range(24))
    return png_from_rows(32, 24, 8, 2, rows, extra=png_chunk(kind, payload))


def palette_with_transparency(width: int = 32, height: int = 24) -> bytes:
    """A palette PNG: index 0 (left half) fully transparent, index 1 (right half) opaque teal."""
    indices = np.zeros((height, width), dtype=np.uint8)
    indices[:, width // 2 :] = 1
    image = Image.fromarray(indices, mode="P")
    image.putpalette([255, 0, 255, 0, 128, 128] + [0, 0, 0] * 254)
    return encode(image, "PNG", transparency=0)


def grey_alpha(width: int = 32, height: int = 24, grey: int = 170) -> bytes:
    """An LA PNG: left half transparent, right half opaque `grey`."""
    luminance = np.full((height, width), grey, dtype=np.uint8)
    alpha = np.full((height, width), 255, dtype=np.uint8)
    alpha[:, : width // 2] = 0
    return encode(Image.fromarray(np.stack([luminance, alpha], axis=-1), mode="LA"), "PNG")


def cmyk_jpeg(cmyk: tuple[int, int, int, int] = (0, 255, 255, 0)) -> bytes:
    return encode(Image.new("CMYK", (32, 24), cmyk), "JPEG", quality=95)


def grey(image_format: str, level: int = 120) -> bytes:
    return encode(Image.new("L", (32, 24), level), image_format)


# -- WebP -------------------------------------------------------------------------------


def webp_lossless_claiming(width: int, height: int) -> bytes:
    """A small lossless WebP whose VP8L header is patched to claim `width` x `height`."""
    data = bytearray(encode(solid(16, 16), "WEBP", lossless=True))
    at = data.index(b"VP8L") + 8  # chunk payload: 0x2f, then 14+14+1+3 bits, little-endian
    assert data[at] == 0x2F
    bits = struct.unpack("<I", bytes(data[at + 1 : at + 5]))[0]
    bits = (bits & ~0x0FFFFFFF) | (width - 1) | ((height - 1) << 14)
    data[at + 1 : at + 5] = struct.pack("<I", bits)
    return bytes(data)


def webp_lossy_claiming(width: int, height: int) -> bytes:
    """A small lossy WebP whose VP8 frame header is patched to claim `width` x `height`."""
    data = bytearray(encode(solid(16, 16), "WEBP", quality=80))
    at = data.index(b"\x9d\x01\x2a") + 3  # after the VP8 start code: 14-bit sizes
    data[at : at + 4] = struct.pack("<HH", width & 0x3FFF, height & 0x3FFF)
    return bytes(data)


def animated_webp(frames: int = 300, side: int = 24) -> bytes:
    pictures = [solid(side, side, (frame % 256, 80, 160)) for frame in range(frames)]
    return encode(
        pictures[0], "WEBP", save_all=True, append_images=pictures[1:], duration=10, lossless=True
    )


def animated_png(frames: int = 200, side: int = 24) -> bytes:
    pictures = [solid(side, side, (40, frame % 256, 160)) for frame in range(frames)]
    return encode(pictures[0], "PNG", save_all=True, append_images=pictures[1:], duration=10)


# -- JPEG -------------------------------------------------------------------------------


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small baseline JPEG whose SOF0 header is patched to claim `width` x `height`."""
    data = bytearray(encode(solid(16, 16), "JPEG", quality=80))
    at = data.index(b"\xff\xc0") + 5  # marker, length (2), precision (1), then height, width
    data[at : at + 4] = struct.pack(">HH", height, width)
    return bytes(data)


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: max(1, int(len(data) * keep))]


# -- formats that must be refused before any decoder -------------------------------------


def psd_header(width: int = 30000, height: int = 30000) -> bytes:
    """A Photoshop header (8BPS) claiming a huge canvas; no decoder may ever see it."""
    return (
        b"8BPS"
        + struct.pack(">H", 1)
        + b"\x00" * 6
        + struct.pack(">HIIHH", 3, height, width, 8, 3)
        + b"\x00" * 64
    )


def bmp_header_claiming(width: int = 60000, height: int = 60000) -> bytes:
    """A BMP header claiming a huge canvas: a decoder would call it a bomb, sniffing refuses it."""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info) + 16, 0, 0, 14 + len(info)) + info
