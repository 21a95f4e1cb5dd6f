"""From the model's low-resolution mask to a full-resolution alpha.

The default (`guided`) was chosen with `bench/quality.py`: a guided filter steered by
the photo's luminance snaps the upscaled mask to real edges, then a contrast curve
removes the faint haze the model leaves around subjects. See the README for figures.

`guided` shapes the matte's soft values, never the subject: each pixel stays on the side
of 0.5 where the model's mask, upsampled as `raw` does it, puts it. The filter's
edge moves were a coin toss on everyday photos (duts_te: of the pixels it turned to
foreground 43% were, of those it turned to background 53% were), so without this rule it
traded IoU for MAE there (0.7014 against raw's 0.7029); with it, the IoU of `guided` is
the raw model's on every photo, by construction, and nearly all the MAE gain stays.
"""

from __future__ import annotations

import cv2
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
GUIDED_MAX_SIDE = 800
BAND_ROWS = 256
# An alpha of at least this (of 255) is the subject's side of the line: 0.5, as the bench
# and IoU count it. keep_decision relies on it being uint8's top bit.
DECISION_LEVEL = 128


def _box_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, edges replicated."""
    size = 2 * radius + 1
    result: np.ndarray = cv2.boxFilter(
        values, -1, (size, size), normalize=True, borderType=cv2.BORDER_REPLICATE
    )
    return result


def _resize_float(values: np.ndarray, width: int, height: int) -> np.ndarray:
    if values.shape == (height, width):
        return values
    result: np.ndarray = cv2.resize(
        values.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR
    )
    return result


def _band(values: np.ndarray, width: int, height: int, top: int, bottom: int) -> np.ndarray:
    """Rows [top, bottom) of `values` scaled (bilinear) to width x height, computed alone.

    The affine map puts pixel centres where a whole-image resize would, and replicated
    borders clamp like it, so bands join seamlessly without a full-size copy.
    """
    if values.shape == (height, width):
        return values[top:bottom].astype(np.float32, copy=False)
    source_h, source_w = values.shape
    scale_x, scale_y = source_w / width, source_h / height
    to_source = np.array(
        [[scale_x, 0.0, 0.5 * scale_x - 0.5], [0.0, scale_y, (top + 0.5) * scale_y - 0.5]],
        dtype=np.float64,
    )
    result: np.ndarray = cv2.warpAffine(
        values.astype(np.float32, copy=False),
        to_source,
        (width, bottom - top),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return result


def guided_coefficients(
    gray: np.ndarray, mask: np.ndarray, radius: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s guided filter, grey guide (uint8 HxW): per-pixel slope and offset, averaged.

    Computed at most GUIDED_MAX_SIDE on the long side (the "fast guided filter"); the
    caller upsamples them.
    """
    height, width = gray.shape
    factor = max(1.0, max(height, width) / GUIDED_MAX_SIDE)
    small_w, small_h = max(1, round(width / factor)), max(1, round(height / factor))
    # Scaled down while still 8-bit, then made float: no full-size float copy of the guide
    # (1 MP: 3 ms less; values within half a level of scaling the floats).
    small = (
        cv2.resize(gray, (small_w, small_h), interpolation=cv2.INTER_LINEAR)
        if factor > 1.0
        else gray
    )
    small_guide = small.astype(np.float32)
    np.divide(small_guide, 255.0, out=small_guide)
    small_source = np.clip(_resize_float(mask, small_w, small_h), 0.0, 1.0)
    small_radius = max(1, round(radius / factor))
    mean_guide = _box_mean(small_guide, small_radius)
    mean_source = _box_mean(small_source, small_radius)
    covariance = _box_mean(small_guide * small_source, small_radius) - mean_guide * mean_source
    variance = _box_mean(small_guide * small_guide, small_radius) - mean_guide * mean_guide
    slope = covariance / (variance + eps)
    offset = mean_source - slope * mean_guide
    return _box_mean(slope, small_radius), _box_mean(offset, small_radius)


def contrast_curve(
    mask: np.ndarray, low: float = CURVE_LOW, high: float = CURVE_HIGH
) -> np.ndarray:
    result: np.ndarray = np.clip((mask - low) / (high - low), 0.0, 1.0)
    return result


def upsample_raw(mask: np.ndarray, width: int, height: int) -> Image.Image:
    """The model's mask as it is (8-bit), scaled to width x height with Lanczos."""
    low_res = Image.fromarray((mask * 255).astype(np.uint8))
    return low_res.resize((width, height), Image.Resampling.LANCZOS)


def keep_decision(alpha_band: np.ndarray, decision_band: np.ndarray) -> None:
    """Refined alpha (uint8) clamped in place to the side of DECISION_LEVEL that
    `decision_band` (uint8, the raw upsampled mask) is on.

    Clamping the rounded levels gives what clamping before rounding would (the bounds are
    whole levels). DECISION_LEVEL is 128, uint8's top bit, so `decision & 128` is the
    lower bound (128 on the subject's side, else 0) and `| 127` the upper (255 or 127):
    whole-array integer operations, about 2 ms at 12 MP (the same clamp on floats: 110).
    """
    lowest = np.bitwise_and(decision_band, DECISION_LEVEL)
    np.maximum(alpha_band, lowest, out=alpha_band)
    np.minimum(alpha_band, np.bitwise_or(lowest, DECISION_LEVEL - 1), out=alpha_band)


def refine_mask(mask: np.ndarray, photo: Image.Image, method: Refinement) -> Image.Image:
    """Model mask (any size, floats in [0, 1]) -> L-mode alpha at the photo's size.

    The full-resolution work runs in bands of BAND_ROWS rows, so a 12 MP photo never
    needs full-size float copies (memory stays flat whatever the size).
    """
    width, height = photo.size
    if method is Refinement.RAW:
        return upsample_raw(mask, width, height)
    alpha = np.empty((height, width), dtype=np.uint8)
    if method is Refinement.GUIDED:
        guide = np.asarray(photo.convert("L"))
        decision = np.asarray(upsample_raw(mask, width, height))
        radius = max(1, round(max(width, height) / GUIDED_RADIUS_DIVISOR))
        slope, offset = guided_coefficients(guide, mask, radius, GUIDED_EPS)
        # The contrast curve and the guide's /255 are linear, and so is bilinear upsampling:
        # folding them into the small coefficients leaves one multiply-add per output pixel.
        span = CURVE_HIGH - CURVE_LOW
        slope = slope / span
        offset = (offset - CURVE_LOW) * (255.0 / span)
        for top in range(0, height, BAND_ROWS):
            bottom = min(height, top + BAND_ROWS)
            band = _band(slope, width, height, top, bottom) * guide[top:bottom]
            band += _band(offset, width, height, top, bottom)
            alpha[top:bottom] = np.rint(np.clip(band, 0.0, 255.0, out=band), out=band)
            keep_decision(alpha[top:bottom], decision[top:bottom])
        return Image.fromarray(alpha)
    for top in range(0, height, BAND_ROWS):
        bottom = min(height, top + BAND_ROWS)
        band = np.clip(_band(mask, width, height, top, bottom), 0.0, 1.0)
        alpha[top:bottom] = np.rint(contrast_curve(band) * 255)
    return Image.fromarray(alpha)
