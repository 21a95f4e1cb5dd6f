"""The compositor on synthetic pictures: region of interest, and what fully transparent
pixels carry."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bgone.errors import BgoneError, RoiExceedsBounds, RoiRegionEmpty
from bgone.inference.compose import compose
from bgone.inference.option_values import parse_roi
from bgone.inference.options import RemovalOptions


def square_alpha(size: int = 100) -> Image.Image:
    """An opaque square in the middle of a transparent picture."""
    alpha = np.zeros((size, size), np.uint8)
    alpha[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 255
    return Image.fromarray(alpha)


def noisy_photo(size: int = 100) -> Image.Image:
    rng = np.random.default_rng(7)
    return Image.fromarray(rng.integers(1, 256, (size, size, 3), dtype=np.uint8))


def compose_roi(roi: str) -> Image.Image:
    options = RemovalOptions(roi=parse_roi(roi))
    return compose(noisy_photo(), square_alpha(), options).image


@pytest.mark.parametrize(
    ("roi", "error"),
    [
        ("50px 50px 10px 10px", RoiRegionEmpty),  # x2 before x1
        ("20px 30px 80px 30px", RoiRegionEmpty),  # no height
        ("50% 0% 50% 100%", RoiRegionEmpty),
        ("200px 0px 300px 50px", RoiExceedsBounds),  # right of the image
        ("0px 100px 50px 150px", RoiExceedsBounds),  # starts on the bottom edge: below it
    ],
)
def test_an_empty_or_outside_roi_has_remove_bgs_code(roi: str, error: type[BgoneError]) -> None:
    with pytest.raises(error) as caught:
        compose_roi(roi)
    assert caught.value.status == 400
    assert caught.value.code == error.code


def test_a_roi_partly_outside_the_image_is_clipped_to_it() -> None:
    # A pixel roi is read at the working size, which can be smaller than the input.
    alpha = np.asarray(compose_roi("50px 50px 500px 500px").getchannel("A"))
    assert alpha[:50, :].max() == 0 and alpha[:, :50].max() == 0
    assert alpha[50:75, 50:75].min() == 255


# -- what fully transparent pixels carry --------------------------------------------------


def colour_under_clear(image: Image.Image) -> np.ndarray:
    pixels = np.asarray(image.convert("RGBA"))
    return pixels[pixels[..., 3] == 0][:, :3]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"crop": "true", "crop_margin": "10px"},
        {"scale": "50%"},
        {"position": "10% 90%"},
        {"roi": "0% 0% 60% 100%"},
        {"bg_color": "12345600"},  # a fully transparent background colour
    ],
    ids=["plain", "crop", "scale", "position", "roi", "clear-background"],
)
def test_fully_transparent_pixels_carry_no_colour(fields: dict[str, str]) -> None:
    image = compose(noisy_photo(), square_alpha(), RemovalOptions.from_fields(fields)).image
    under = colour_under_clear(image)
    assert under.size > 0
    assert under.max() == 0


def test_the_alpha_channel_is_untouched() -> None:
    """Clearing the colour under alpha 0 leaves the alpha byte for byte as it was (the
    quality bench scores the alpha only)."""
    rng = np.random.default_rng(3)
    alpha = rng.integers(0, 256, (100, 100), dtype=np.uint8)
    alpha[rng.random((100, 100)) < 0.4] = 0
    image = compose(noisy_photo(), Image.fromarray(alpha), RemovalOptions()).image
    assert image.getchannel("A").tobytes() == alpha.tobytes()
    # Where the alpha is not 0 the photo's colours are kept as they are.
    seen = alpha > 0
    assert np.array_equal(np.asarray(image)[..., :3][seen], np.asarray(noisy_photo())[seen])
