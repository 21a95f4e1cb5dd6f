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
