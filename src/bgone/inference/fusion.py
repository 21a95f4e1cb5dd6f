"""Several models' masks of one photo -> one mask, weighted by each model's confidence.

A plain average lets a model that is unsure (values near 0.5) pull a confident one
towards the middle. Here each model's vote at a pixel is scaled by how far its value is
from 0.5, so at every pixel the model that has made up its mind decides, and a model's
overall weight says how far it is trusted when both are equally sure.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# Keeps the weights positive where every model says 0.5: there the plain weighted
# average decides.
CONFIDENCE_FLOOR = 0.05
# Keeps the log-odds of a mask's 0s and 1s finite when it is softened.
LOGIT_FLOOR = 1e-4


def to_canvas(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """A model's mask (its own resolution, any aspect) scaled to the common canvas."""
    if mask.shape == (height, width):
        return mask.astype(np.float32, copy=False)
    scaled: np.ndarray = cv2.resize(
        mask.astype(np.float32, copy=False), (width, height), interpolation=cv2.INTER_LINEAR
    )
    return scaled


def soften(mask: np.ndarray, temperature: float) -> np.ndarray:
    """A mask's confidence scaled down: each value's log-odds divided by `temperature`
    (temperature scaling, the usual calibration of an over-confident classifier). 0.5 and
    the order of the values are kept; a value of 0.99 becomes 0.91 at temperature 2."""
    if temperature <= 0.0:
        raise ValueError("the temperature must be positive")
    if temperature == 1.0:
        return mask
    clipped = np.clip(mask.astype(np.float32, copy=False), LOGIT_FLOOR, 1.0 - LOGIT_FLOOR)
    log_odds = np.log(clipped / (1.0 - clipped)) / temperature
    softened: np.ndarray = (1.0 / (1.0 + np.exp(-log_odds))).astype(np.float32)
    return softened


def confidence_fusion(masks: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Masks of equal shape, floats in [0, 1] -> their confidence-weighted mean."""
    if len(masks) != len(weights) or not masks:
        raise ValueError("one weight per mask, at least one mask")
    numerator = np.zeros_like(masks[0], dtype=np.float32)
    denominator = np.zeros_like(masks[0], dtype=np.float32)
    for mask, weight in zip(masks, weights, strict=True):
        if weight <= 0.0:
            continue
        vote = (np.abs(2.0 * mask - 1.0) + CONFIDENCE_FLOOR) * weight
        numerator += vote * mask
        denominator += vote
    fused: np.ndarray = np.clip(numerator / np.maximum(denominator, 1e-6), 0.0, 1.0)
    return fused
