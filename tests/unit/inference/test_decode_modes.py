"""Every pixel mode the battery sends decodes to the source's colours.

The API battery (tests/support/file_cases.py) sends these uniform images through a real
server, but a uniform image has no subject: its result is fully transparent and, as every
result, carries no colour there. So the colours are checked here, on the decoder.
"""

from __future__ import annotations

import pytest
from PIL import Image

from bgone.inference.imageio import DecodeLimits, decode
from tests.support import badfiles as files
from tests.support.imagegen import encode

OPAQUE = [
    ("mode_16bit_grey", files.png_sixteen_bit((100,)), (100, 100, 100), 2),
    ("mode_16bit_rgb", files.png_sixteen_bit((200, 50, 100)), (200, 50, 100), 2),
    ("mode_cmyk_jpeg", files.cmyk_jpeg(), (255, 0, 0), 30),
    ("mode_grey_jpeg", files.grey("JPEG"), (120, 120, 120), 3),
    ("mode_grey_png", files.grey("PNG"), (120, 120, 120), 0),
    ("mode_bilevel_png", encode(Image.new("1", (32, 24), 1), "PNG"), (255, 255, 255), 0),
]
HALF_TRANSPARENT = [
    ("mode_16bit_grey_alpha", files.png_sixteen_bit((100, 255)), (100, 100, 100)),
    ("mode_16bit_rgba", files.png_sixteen_bit((200, 50, 100, 255)), (200, 50, 100)),
    ("mode_palette_transparency", files.palette_with_transparency(), (0, 128, 128)),
    ("mode_la", files.grey_alpha(), (170, 170, 170)),
]


def near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


@pytest.mark.parametrize(
    ("data", "colour", "tolerance"),
    [case[1:] for case in OPAQUE],
    ids=[case[0] for case in OPAQUE],
)
def test_an_opaque_mode_decodes_to_its_colour(
    data: bytes, colour: tuple[int, int, int], tolerance: int
) -> None:
    decoded = decode(data, DecodeLimits())
    assert decoded.rgb.size == (32, 24)
    pixel = decoded.rgb.getpixel((16, 12))
    assert isinstance(pixel, tuple)
    assert near(pixel, colour, tolerance), pixel
    assert decoded.alpha is None


@pytest.mark.parametrize(
    ("data", "colour"),
    [case[1:] for case in HALF_TRANSPARENT],
    ids=[case[0] for case in HALF_TRANSPARENT],
)
def test_a_mode_with_transparency_keeps_it_and_its_colour(
    data: bytes, colour: tuple[int, int, int]
) -> None:
    decoded = decode(data, DecodeLimits())
    assert decoded.alpha is not None
    width, height = decoded.rgb.size
    assert decoded.alpha.crop((0, 0, width // 2 - 1, height)).getextrema() == (0, 0)
    pixel = decoded.rgb.getpixel((width * 3 // 4, height // 2))
    assert isinstance(pixel, tuple)
    assert near(pixel, colour, 3), pixel
