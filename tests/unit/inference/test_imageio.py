"""Safe decoding: formats, modes, orientation, limits. Images are generated here."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from bgone.errors import (
    FailedToReadImage,
    FileTooLarge,
    InvalidDimensions,
    InvalidFileType,
    ResolutionTooHigh,
)
from bgone.inference.engine_config import EngineConfig
from bgone.inference.imageio import DecodeLimits, EncodeConfig, decode, encode, peek_dimensions
from bgone.settings import Settings
from tests.support.imagegen import (
    encode as save,
)
from tests.support.imagegen import (
    gradient_rgb,
    png_chunk,
    png_header_only,
    sixteen_bit_gray_png,
    with_orientation,
)

LIMITS = DecodeLimits(max_bytes=2_000_000, max_megapixels=5.0)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats_decode_to_rgb(image_format: str) -> None:
    decoded = decode(save(gradient_rgb(), image_format), LIMITS)
    assert decoded.rgb.mode == "RGB"
    assert decoded.rgb.size == (64, 48)
    assert decoded.source_format == image_format


@pytest.mark.parametrize("orientation", [2, 3, 4, 5, 6, 7, 8])
def test_exif_orientation_is_applied(orientation: int) -> None:
    upright = gradient_rgb(80, 40)
    decoded = decode(with_orientation(upright, orientation), LIMITS)
    assert decoded.rgb.size == (80, 40)
    difference = np.abs(np.asarray(decoded.rgb, np.int16) - np.asarray(upright, np.int16))
    assert difference.mean() < 4  # JPEG noise only; a wrong rotation differs by ~100


def test_sixteen_bit_grey_keeps_its_tones() -> None:
    gray = np.tile(np.linspace(0, 255, 50, dtype=np.uint8), (20, 1))
    decoded = decode(sixteen_bit_gray_png(gray), LIMITS)
    red = np.asarray(decoded.rgb)[..., 0].astype(np.int16)
    # Clipping (Pillow's naive convert) would turn almost everything white.
    assert np.abs(red - gray).max() <= 1


def test_cmyk_jpeg_becomes_matching_rgb() -> None:
    rgb = gradient_rgb()
    decoded = decode(save(rgb.convert("CMYK"), "JPEG", quality=95), LIMITS)
    assert decoded.rgb.mode == "RGB"
    difference = np.abs(np.asarray(decoded.rgb, np.int16) - np.asarray(rgb, np.int16))
    assert difference.mean() < 6


def test_palette_transparency_becomes_alpha() -> None:
    palette_image = gradient_rgb().quantize(16)
    palette_image.info["transparency"] = 0
    decoded = decode(save(palette_image, "PNG", transparency=0), LIMITS)
    assert decoded.alpha is not None
    transparent = np.asarray(palette_image) == 0
    assert (np.asarray(decoded.alpha)[transparent] == 0).all()
    assert (np.asarray(decoded.alpha)[~transparent] == 255).all()


def test_la_and_grayscale_are_accepted() -> None:
    gray = gradient_rgb().convert("L")
    la = Image.merge("LA", (gray, Image.new("L", gray.size, 128)))
    decoded_la = decode(save(la, "PNG"), LIMITS)
    assert decoded_la.alpha is not None and decoded_la.alpha.getextrema() == (128, 128)
    decoded_l = decode(save(gray, "PNG"), LIMITS)
    assert decoded_l.alpha is None and decoded_l.rgb.mode == "RGB"
    assert np.array_equal(np.asarray(decoded_l.rgb)[..., 1], np.asarray(gray))


def test_opaque_alpha_is_dropped() -> None:
    decoded = decode(save(gradient_rgb().convert("RGBA"), "PNG"), LIMITS)
    assert decoded.alpha is None


def test_icc_profile_is_carried_into_output() -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    decoded = decode(save(gradient_rgb(), "PNG", icc_profile=profile), LIMITS)
    assert decoded.icc_profile == profile
    for image_format in ("png", "jpg", "webp"):
        output = encode(decoded.rgb, image_format, decoded.icc_profile, EncodeConfig())
        assert Image.open(io.BytesIO(output)).info.get("icc_profile") == profile


def test_empty_input_is_unreadable() -> None:
    with pytest.raises(FailedToReadImage):
        decode(b"", LIMITS)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"GIF89a" + b"\x00" * 40, "gif"),
        (b"%PDF-1.7\n", "pdf"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "svg"),
        (b"BM" + b"\x00" * 60, "bmp"),
        (b"II*\x00" + b"\x00" * 40, "tiff"),
        (b"hello, world", "an unrecognised format"),
    ],
)
def test_other_formats_are_refused_by_signature(data: bytes, named: str) -> None:
    with pytest.raises(InvalidFileType, match=named):
        decode(data, LIMITS)


def test_real_gif_and_tiff_files_are_refused() -> None:
    for image_format in ("GIF", "TIFF", "BMP"):
        with pytest.raises(InvalidFileType):
            decode(save(gradient_rgb(), image_format), LIMITS)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_truncated_files_are_unreadable(image_format: str) -> None:
    data = save(gradient_rgb(256, 256), image_format)
    with pytest.raises(FailedToReadImage):
        decode(data[: len(data) // 2], LIMITS)


def test_png_with_bad_crc_is_unreadable() -> None:
    data = bytearray(save(gradient_rgb(), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 8] ^= 0xFF  # corrupt the compressed stream; the CRC no longer matches
    with pytest.raises(FailedToReadImage):
        decode(bytes(data), LIMITS)


def test_oversized_body_is_refused_before_decoding() -> None:
    with pytest.raises(FileTooLarge):
        decode(b"\xff\xd8\xff" + b"\x00" * LIMITS.max_bytes, LIMITS)


def test_huge_dimensions_in_a_tiny_file_are_refused() -> None:
    bomb = png_header_only(60_000, 60_000)
    assert len(bomb) < 200
    with pytest.raises(ResolutionTooHigh):
        decode(bomb, LIMITS)


def test_megapixel_limit_is_enforced() -> None:
    big = Image.new("RGB", (3000, 2000))  # 6 MP > 5 MP limit
    with pytest.raises(ResolutionTooHigh, match="maximum"):
        decode(save(big, "JPEG"), LIMITS)


def test_a_side_longer_than_the_limit_is_refused_from_the_header() -> None:
    # 50 MP exactly, so within the megapixel limit: only the side limit catches it.
    line = png_header_only(50_000_000, 1)
    limits = DecodeLimits(max_bytes=2_000_000, max_megapixels=50.0)
    with pytest.raises(InvalidDimensions) as refused:
        peek_dimensions(line, limits)
    assert (refused.value.status, refused.value.code) == (400, "invalid_dimensions")
    assert "20000" in refused.value.detail
    with pytest.raises(InvalidDimensions):
        decode(line, limits)
    with pytest.raises(InvalidDimensions):
        peek_dimensions(png_header_only(1, 50_000_000), limits)


def test_the_side_limit_is_the_setting() -> None:
    limits = EngineConfig.from_settings(Settings(max_side_pixels=300)).limits
    assert limits.max_side_pixels == 300
    assert peek_dimensions(png_header_only(300, 2), limits) == (300, 2)
    with pytest.raises(InvalidDimensions, match="300"):
        peek_dimensions(png_header_only(301, 2), limits)


def test_png_chunk_helper_makes_valid_crc() -> None:
    chunk = png_chunk(b"tEXt", b"k\x00v")
    assert len(chunk) == 4 + 4 + 3 + 4


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_fast_and_zlib_png_encoders_are_both_lossless(mode: str) -> None:
    image = gradient_rgb(97, 61).convert(mode)
    if mode == "RGBA":
        image.putalpha(gradient_rgb(97, 61).convert("L"))
    fast = encode(image, "png", None, EncodeConfig(png_encoder="fpng"))
    zlib_level = encode(
        image, "png", None, EncodeConfig(png_encoder="pillow", png_compress_level=9)
    )
    assert fast != zlib_level  # two different encoders really ran
    for data in (fast, zlib_level):
        decoded = Image.open(io.BytesIO(data))
        assert decoded.mode == mode
        assert np.array_equal(np.asarray(decoded), np.asarray(image))
