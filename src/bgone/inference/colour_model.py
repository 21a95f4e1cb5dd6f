"""The photo's own colours as a second opinion on the models' decision (GrabCut).

The models decide from a 320 x 320 (u2netp) or 1024 x 1024 (IS-Net) view and
learned priors; where they hesitate, the photo itself often says which side a pixel is
on: it has the colours of the subject or those of the background around it. OpenCV's
GrabCut (Rother et al.) learns a colour mixture for each side from the pixels the models
are sure of and cuts the uncertain ones along the photo's edges. Its binary answer is
blended into the fused mask with a small weight, so it moves only pixels the models left
close to 0.5; the guided refinement then shapes the soft values as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

RANDOM_SEED = 0


@dataclass(frozen=True)
class ColourModelOptions:
    """Chosen with `best`'s masks on every shared set at once (README, Quality). Of blend
    weights 0.2, 0.35 and 0.5 and sure levels 0.7, 0.8 and 0.9, only sure 0.7 (at weights
    0.2 and 0.35) made MAE and IoU better on all three sets without IS-Net, and 0.35 had
    the lower MAE; with IS-Net it improved every set too. At 0.7 a change of GrabCut's
    random seed moved each set's MAE by at most 0.0003; at 0.8 alphamatting27's moved by
    0.0027, as much as the lever gained there."""

    # The blend weight of the colour model's binary answer against the fused mask: at
    # 0.35 it can only move pixels that the fused mask puts between 0.23 and 0.77.
    weight: float = 0.35
    # Pixels the fused mask puts at least this high (or at most 1 - this) are sure.
    sure: float = 0.7
    # GrabCut runs on a copy of at most this long side (its cost grows with the pixels).
    long_side: int = 320
    iterations: int = 3


def colour_model_vote(
    mask: np.ndarray, photo: Image.Image, options: ColourModelOptions = ColourModelOptions()
) -> np.ndarray:
    """Fused mask (floats in [0, 1], any size) -> the mask with GrabCut's answer blended in."""
    height, width = mask.shape
    factor = min(1.0, options.long_side / max(height, width))
    small_w, small_h = max(1, round(width * factor)), max(1, round(height * factor))
    small = cv2.resize(mask, (small_w, small_h), interpolation=cv2.INTER_AREA)
    # reducing_gap: a box reduction first keeps a 12 MP photo's resize cheap.
    colours = np.asarray(
        photo.resize((small_w, small_h), Image.Resampling.BILINEAR, reducing_gap=2.0)
    )
    labels = np.full((small_h, small_w), cv2.GC_PR_BGD, np.uint8)
    labels[small >= 0.5] = cv2.GC_PR_FGD
    labels[small >= options.sure] = cv2.GC_FGD
    labels[small <= 1.0 - options.sure] = cv2.GC_BGD
    if not ((labels == cv2.GC_FGD).any() and (labels == cv2.GC_BGD).any()):
        return mask  # nothing sure on one side: no colours to learn that side from
    # GrabCut seeds its colour mixtures with k-means++ from OpenCV's per-thread random
    # generator: seeded per call, the same photo gets the same cutout whatever ran before.
    cv2.setRNGSeed(RANDOM_SEED)
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(
        colours,  # RGB: the channel order is immaterial to the mixtures
        labels,
        (0, 0, 0, 0),  # no rectangle: the labels seed both sides
        background_model,
        foreground_model,
        options.iterations,
        cv2.GC_INIT_WITH_MASK,
    )
    answer = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)
    answer = cv2.resize(answer, (width, height), interpolation=cv2.INTER_LINEAR)
    blended: np.ndarray = (1.0 - options.weight) * mask + options.weight * answer
    return blended
