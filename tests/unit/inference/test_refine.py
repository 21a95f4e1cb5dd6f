"""The guided refinement shapes soft edges but keeps the model's figure/ground decision."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bgone.inference.options import Refinement
from bgone.inference.refine import BAND_ROWS, keep_decision, refine_mask


def soft_disc(size: int, centre: tuple[float, float], radius: float) -> np.ndarray:
    rows, columns = np.mgrid[0:size, 0:size].astype(np.float32)
    distance = np.hypot(rows - centre[0], columns - centre[1])
    mask: np.ndarray = np.clip((radius - distance) / 6.0 + 0.5, 0.0, 1.0)
    return mask


def photo_with_a_shifted_edge(width: int, height: int) -> Image.Image:
    """A bright disc beside where the mask puts it, on a noisy background: the guide's
    edges pull the filtered mask away from the model's line."""
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    inside = np.hypot(rows - height * 0.5, columns - width * 0.56) < min(width, height) * 0.3
    grey = np.where(inside, 200.0, 60.0) + np.random.default_rng(7).normal(0, 18, (height, width))
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8)).convert("RGB")


@pytest.mark.parametrize("size", [(400, 300), (640, 3 * BAND_ROWS + 17)])
def test_guided_keeps_every_pixel_on_the_raw_masks_side(size: tuple[int, int]) -> None:
    photo = photo_with_a_shifted_edge(*size)
    mask = soft_disc(320, (160.0, 160.0), 96.0)
    guided = np.asarray(refine_mask(mask, photo, Refinement.GUIDED))
    raw = np.asarray(refine_mask(mask, photo, Refinement.RAW))
    assert guided.shape == raw.shape == (size[1], size[0])
    assert np.array_equal(guided >= 128, raw >= 128)
    # ... while it still refines: the soft values differ from the raw upsampling.
    assert np.abs(guided.astype(int) - raw.astype(int)).mean() > 1.0


def test_clamping_the_rounded_levels_equals_clamping_before_rounding() -> None:
    refined = np.random.default_rng(3).uniform(-20.0, 280.0, (64, 64)).astype(np.float32)
    decision = np.random.default_rng(4).integers(0, 256, (64, 64), dtype=np.uint8)
    subject = decision >= 128
    expected = np.rint(
        np.clip(refined, np.where(subject, 128.0, 0.0), np.where(subject, 255.0, 127.0))
    ).astype(np.uint8)
    levels = np.rint(np.clip(refined, 0.0, 255.0)).astype(np.uint8)
    keep_decision(levels, decision)
    assert np.array_equal(levels, expected)
