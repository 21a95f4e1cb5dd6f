"""From the model's low-resolution mask to a full-resolution alpha.

The default (`guided`) was chosen with `bench/quality.py`: a guided filter steered by
the photo's luminance snaps the upscaled mask to real edges, then a contrast curve
removes the faint haze the model leaves around subjects. See the README for figures.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from bgone.inference.options import Refinement

CURVE_LOW = 0.35
CURVE_HIGH = 0.65
GUIDED_EPS = 1e-3
# The filter radius scales with the picture: one pixel of radius per 200 px of long side.
GUIDED_RADIUS_DIVISOR = 200
# Filter coefficients are computed at most at this long side, then upsampled (the "fast
# guided filter"), so memory and time stay flat for large photos.
GUIDED_MAX_SIDE = 1024


def _box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window with edge replication, via a summed-area table."""
    padded = np.pad(values, ((radius + 1, radius), (radius + 1, radius)), mode="edge")
    table = padded.cumsum(axis=0).cumsum(axis=1)
    k = 2 * radius + 1
    window: np.ndarray = table[k:, k:] - table[:-k, k:] - table[k:, :-k] + table[:-k, :-k]
    return window / float(k * k)


def _resize_float(values: np.ndarray, width: int, height: int) -> np.ndarray:
    if values.shape == (height, width):
        return values
    image = Image.fromarray(values.astype(np.float32))
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR))


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a grey guide; coefficients at reduced resolution."""
    height, width = guide.shape
    factor = max(1.0, max(height, width) / GUIDED_MAX_SIDE)
    small_w, small_h = max(1, round(width / factor)), max(1, round(height / factor))
    small_guide = _resize_float(guide, small_w, small_h).astype(np.float64)
    small_source = _resize_float(source, small_w, small_h).astype(np.float64)
    small_radius = max(1, round(radius / factor))
    mean_guide = _box_mean(small_guide, small_radius)
    mean_source = _box_mean(small_source, small_radius)
    covariance = _box_mean(small_guide * small_source, small_radius) - mean_guide * mean_source
    variance = _box_mean(small_guide * small_guide, small_radius) - mean_guide * mean_guide
    slope = covariance / (variance + eps)
    offset = mean_source - slope * mean_guide
    mean_slope = _resize_float(_box_mean(slope, small_radius).astype(np.float32), width, height)
    mean_offset = _resize_float(_box_mean(offset, small_radius).astype(np.float32), width, height)
    result: np.ndarray = mean_slope * guide + mean_offset
    return result


def contrast_curve(
    mask: np.ndarray, low: float = CURVE_LOW, high: float = CURVE_HIGH
) -> np.ndarray:
    result: np.ndarray = np.clip((mask - low) / (high - low), 0.0, 1.0)
    return result


def refine_mask(mask: np.ndarray, photo: Image.Image, method: Refinement) -> Image.Image:
    """Model mask (any size, floats in [0, 1]) -> L-mode alpha at the photo's size."""
    width, height = photo.size
    if method is Refinement.RAW:
        low_res = Image.fromarray((mask * 255).astype(np.uint8))
        return low_res.resize((width, height), Image.Resampling.LANCZOS)
    alpha = np.clip(_resize_float(mask, width, height), 0.0, 1.0)
    if method is Refinement.GUIDED:
        guide = np.asarray(photo.convert("L"), dtype=np.float32) / 255.0
        radius = max(1, round(max(width, height) / GUIDED_RADIUS_DIVISOR))
        alpha = guided_filter(guide, alpha, radius, GUIDED_EPS)
    alpha = contrast_curve(alpha)
    return Image.fromarray(np.rint(alpha * 255).astype(np.uint8))
