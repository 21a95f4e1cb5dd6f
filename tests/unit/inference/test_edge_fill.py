"""Extending the foreground's edge colours over the fully transparent pixels (the colour
layer of the ZIP result, color.jpg)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from bgone.inference.edge_fill import extend_edge_colours


def rgba(colours: np.ndarray, alpha: np.ndarray) -> Image.Image:
    return Image.fromarray(np.dstack([colours, alpha]).astype(np.uint8), "RGBA")


def noise(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(11).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_the_colours_under_any_alpha_are_kept() -> None:
    colours = noise(90, 120)
    alpha = np.zeros((90, 120), np.uint8)
    alpha[30:60, 40:80] = np.random.default_rng(5).integers(1, 256, (30, 40))
    filled = np.asarray(extend_edge_colours(rgba(colours, alpha)))
    assert filled.shape == (90, 120, 3)
    assert np.array_equal(filled[alpha > 0], colours[alpha > 0])


def test_the_transparent_area_takes_the_nearest_foreground_colour_not_the_photo() -> None:
    # A red subject on the left, a blue one on the right, the photo's noise around them.
    colours = noise(100, 200)
    alpha = np.zeros((100, 200), np.uint8)
    colours[40:60, 20:40] = (220, 20, 20)
    alpha[40:60, 20:40] = 255
    colours[40:60, 160:180] = (20, 20, 220)
    alpha[40:60, 160:180] = 255
    filled = np.asarray(extend_edge_colours(rgba(colours, alpha))).astype(int)
    left, right = filled[:, :10], filled[:, -10:]
    assert left[..., 0].min() > 150 and left[..., 2].max() < 90
    assert right[..., 2].min() > 150 and right[..., 0].max() < 90
    # Next to a subject the fill is that subject's colour, whatever the photo had there.
    assert np.abs(filled[35:40, 20:40] - (220, 20, 20)).max() <= 3


def test_nothing_to_extend_and_nothing_to_fill() -> None:
    colours = noise(20, 30)
    clear = np.asarray(extend_edge_colours(rgba(colours, np.zeros((20, 30), np.uint8))))
    assert clear.max() == 0  # no foreground: no colour at all, never the photo
    opaque = extend_edge_colours(rgba(colours, np.full((20, 30), 255, np.uint8)))
    assert np.array_equal(np.asarray(opaque), colours)


def test_a_one_pixel_subject_fills_a_wide_picture() -> None:
    colours = noise(7, 3001)
    alpha = np.zeros((7, 3001), np.uint8)
    colours[3, 1500] = (10, 200, 30)
    alpha[3, 1500] = 255
    filled = np.asarray(extend_edge_colours(rgba(colours, alpha))).astype(int)
    assert np.abs(filled - (10, 200, 30)).max() <= 3
