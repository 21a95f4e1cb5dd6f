"""The whole pipeline on a real photo with the real u2netp model."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bgone.errors import (
    RoiExceedsBounds,
    RoiRegionEmpty,
    UnknownForeground,
    UnknownModel,
)
from bgone.inference.options import Refinement, RemovalOptions
from bgone.inference.pipeline import Remover
from tests.support.imagegen import encode, open_bytes, sixteen_bit_gray_png, with_orientation


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    predicted, expected = alpha >= 128, truth >= 128
    return float((predicted & expected).sum() / (predicted | expected).sum())


def run(remover: Remover, data: bytes, **fields: str) -> tuple[Image.Image, object]:
    result = remover.remove(data, RemovalOptions.from_fields(fields))
    return open_bytes(result.data), result


@pytest.fixture(scope="module")
def truth(person_mask: Path) -> np.ndarray:
    return np.asarray(Image.open(person_mask).convert("L"))


@pytest.fixture(scope="module")
def photo(person_jpeg: bytes) -> Image.Image:
    return open_bytes(person_jpeg).convert("RGB")


def test_default_is_rgba_png_of_the_photo_size_with_a_good_mask(
    remover: Remover, person_jpeg: bytes, truth: np.ndarray
) -> None:
    image, _ = run(remover, person_jpeg)
    assert image.format == "PNG" and image.mode == "RGBA"
    assert image.size == (267, 400)
    assert iou(np.asarray(image.getchannel("A")), truth) >= 0.85


def test_foreground_box_matches_the_mask(remover: Remover, person_jpeg: bytes) -> None:
    image, result = run(remover, person_jpeg)
    box = result.foreground  # type: ignore[attr-defined]
    ys, xs = np.nonzero(np.asarray(image.getchannel("A")) > 8)
    assert (box.left, box.top) == (xs.min(), ys.min())
    assert (box.right, box.bottom) == (xs.max() + 1, ys.max() + 1)
    assert 0 < box.width * box.height < 267 * 400


def test_mask_only(remover: Remover, person_jpeg: bytes, truth: np.ndarray) -> None:
    image, _ = run(remover, person_jpeg, channels="alpha")
    assert image.mode == "L" and image.size == (267, 400)
    assert iou(np.asarray(image), truth) >= 0.85


@pytest.mark.parametrize(
    ("size", "max_pixels"), [("preview", 250_000), ("medium", 1_500_000), ("hd", 4_000_000)]
)
def test_sizes_cap_pixels_and_keep_aspect(
    remover: Remover, photo: Image.Image, size: str, max_pixels: int
) -> None:
    big = encode(photo.resize((2670, 4000)), "JPEG")  # 10.7 MP
    image, _ = run(remover, big, size=size)
    assert image.width * image.height <= max_pixels
    assert image.width * image.height > 0.95 * max_pixels
    assert abs(image.width / image.height - 2670 / 4000) < 0.01


def test_full_and_preview_never_upscale(remover: Remover, person_jpeg: bytes) -> None:
    for size in ("full", "preview", "auto"):
        image, _ = run(remover, person_jpeg, size=size)
        assert image.size == (267, 400)


def test_crop_to_foreground_and_margin(remover: Remover, person_jpeg: bytes) -> None:
    _, full = run(remover, person_jpeg)
    box = full.foreground  # type: ignore[attr-defined]
    cropped, _ = run(remover, person_jpeg, crop="true")
    assert cropped.size == (box.width, box.height)
    padded, _ = run(remover, person_jpeg, crop="true", crop_margin="10px")
    assert padded.size == (box.width + 20, box.height + 20)
    # The margin is transparent.
    assert np.asarray(padded.getchannel("A"))[:10].max() == 0
    uneven, _ = run(remover, person_jpeg, crop="true", crop_margin="0px 10%")
    assert uneven.size == (box.width + 2 * round(box.width * 0.1), box.height)


def test_bg_color_makes_an_opaque_result(remover: Remover, person_jpeg: bytes) -> None:
    image, _ = run(remover, person_jpeg, bg_color="00ff00")
    assert image.mode == "RGB"
    corner = np.asarray(image)[0, 0]
    assert tuple(corner) == (0, 255, 0)


def test_bg_color_with_alpha_stays_translucent(remover: Remover, person_jpeg: bytes) -> None:
    image, _ = run(remover, person_jpeg, bg_color="ff000080")
    assert image.mode == "RGBA"
    assert tuple(np.asarray(image)[0, 0]) == (255, 0, 0, 128)


def test_bg_image_fills_the_canvas_with_cover_fit(remover: Remover, person_jpeg: bytes) -> None:
    backdrop = encode(Image.new("RGB", (100, 50), (10, 20, 200)), "PNG")
    result = remover.remove(person_jpeg, RemovalOptions.from_fields({}, bg_image=backdrop))
    image = open_bytes(result.data)
    assert image.mode == "RGB" and image.size == (267, 400)
    assert tuple(np.asarray(image)[0, 0]) == (10, 20, 200)


@pytest.mark.parametrize(
    ("image_format", "pillow_format"), [("png", "PNG"), ("webp", "WEBP"), ("jpg", "JPEG")]
)
def test_formats(
    remover: Remover, person_jpeg: bytes, image_format: str, pillow_format: str
) -> None:
    image, result = run(remover, person_jpeg, format=image_format)
    assert image.format == pillow_format
    assert result.media_type.startswith("image/")  # type: ignore[attr-defined]
    if image_format == "jpg":
        assert image.mode == "RGB"
        assert tuple(np.asarray(image)[0, 0]) >= (250, 250, 250)  # flattened over white


def test_zip_holds_colour_and_alpha(remover: Remover, person_jpeg: bytes) -> None:
    result = remover.remove(person_jpeg, RemovalOptions.from_fields({"format": "zip"}))
    assert result.media_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
        assert sorted(archive.namelist()) == ["alpha.png", "color.jpg"]
        color = open_bytes(archive.read("color.jpg"))
        alpha = open_bytes(archive.read("alpha.png"))
    assert color.mode == "RGB" and alpha.mode == "L"
    assert color.size == alpha.size == (267, 400)


def test_auto_format_follows_transparency(remover: Remover, person_jpeg: bytes) -> None:
    transparent, _ = run(remover, person_jpeg, format="auto")
    assert transparent.format == "PNG"
    opaque, _ = run(remover, person_jpeg, format="auto", bg_color="white")
    assert opaque.format == "JPEG"


def test_roi_clears_everything_outside(remover: Remover, person_jpeg: bytes) -> None:
    image, _ = run(remover, person_jpeg, roi="0% 0% 50% 100%", channels="alpha")
    mask = np.asarray(image)
    assert mask[:, 134:].max() == 0
    assert mask[:, :133].max() > 200
    with pytest.raises(RoiRegionEmpty):
        run(remover, person_jpeg, roi="50% 0% 10% 100%")
    with pytest.raises(RoiExceedsBounds):
        run(remover, person_jpeg, roi="300px 0px 400px 100px")  # the photo is 267 px wide


def test_scale_and_position(remover: Remover, person_jpeg: bytes) -> None:
    _, original = run(remover, person_jpeg)
    box = original.foreground  # type: ignore[attr-defined]
    image, scaled = run(remover, person_jpeg, scale="50%")
    small = scaled.foreground  # type: ignore[attr-defined]
    assert image.size == (267, 400)
    assert max(small.width / 267, small.height / 400) == pytest.approx(0.5, abs=0.02)
    assert (small.left + small.right) / 2 == pytest.approx(267 / 2, abs=3)
    _, moved = run(remover, person_jpeg, position="0% 0%")
    top_left = moved.foreground  # type: ignore[attr-defined]
    assert (top_left.left, top_left.top) == (0, 0)
    assert (top_left.width, top_left.height) == pytest.approx((box.width, box.height), abs=2)


def test_raw_refinement_stays_available_and_differs(remover: Remover, person_jpeg: bytes) -> None:
    raw, _ = run(remover, person_jpeg, channels="alpha", refinement="raw")
    guided, _ = run(remover, person_jpeg, channels="alpha")
    assert raw.size == guided.size
    assert not np.array_equal(np.asarray(raw), np.asarray(guided))
    assert RemovalOptions().refinement is Refinement.GUIDED
    # The refinement shapes the edge's soft values, never which side of it a pixel is on.
    assert np.array_equal(np.asarray(raw) >= 128, np.asarray(guided) >= 128)


def test_exif_rotated_photo_is_cut_out_upright(
    remover: Remover, photo: Image.Image, truth: np.ndarray
) -> None:
    image, _ = run(remover, with_orientation(photo, 6))
    assert image.size == (267, 400)
    assert iou(np.asarray(image.getchannel("A")), truth) >= 0.85


def test_cmyk_photo(remover: Remover, photo: Image.Image, truth: np.ndarray) -> None:
    image, _ = run(remover, encode(photo.convert("CMYK"), "JPEG", quality=95))
    assert image.mode == "RGBA" and image.size == (267, 400)
    assert iou(np.asarray(image.getchannel("A")), truth) >= 0.85
    opaque = np.asarray(image.getchannel("A")) == 255
    difference = np.abs(np.asarray(image.convert("RGB"), np.int16) - np.asarray(photo, np.int16))[
        opaque
    ]
    assert difference.mean() < 8


def test_sixteen_bit_grey_photo_is_not_white(remover: Remover, photo: Image.Image) -> None:
    gray = np.asarray(photo.convert("L"))
    image, _ = run(remover, sixteen_bit_gray_png(gray))
    opaque = np.asarray(image.getchannel("A")) == 255
    red = np.asarray(image)[..., 0]
    assert np.abs(red[opaque].astype(np.int16) - gray[opaque]).mean() < 2


def test_source_transparency_is_kept(remover: Remover, photo: Image.Image) -> None:
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.new("L", rgba.size, 255))
    half = np.asarray(rgba).copy()
    half[:, :100, 3] = 0
    image, _ = run(remover, encode(Image.fromarray(half), "PNG"))
    assert np.asarray(image.getchannel("A"))[:, :100].max() == 0


def test_palette_and_grayscale_photos(
    remover: Remover, photo: Image.Image, truth: np.ndarray
) -> None:
    for variant in (photo.quantize(256), photo.convert("L")):
        image, _ = run(remover, encode(variant, "PNG"))
        assert image.mode == "RGBA" and image.size == (267, 400)
        assert iou(np.asarray(image.getchannel("A")), truth) >= 0.8


def test_pil_image_input(remover: Remover, photo: Image.Image) -> None:
    result = remover.remove(photo, RemovalOptions())
    assert open_bytes(result.data).size == photo.size


def test_crop_of_an_empty_result_is_unknown_foreground(
    remover: Remover, person_jpeg: bytes
) -> None:
    with pytest.raises(UnknownForeground):
        run(remover, person_jpeg, crop="true", roi="0px 0px 2px 2px")


def test_unknown_model(remover: Remover, person_jpeg: bytes) -> None:
    with pytest.raises(UnknownModel):
        run(remover, person_jpeg, model="nonexistent")
