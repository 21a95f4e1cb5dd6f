"""Alpha matting in the band where the models are unsure: hair, fur, see-through edges.

Segmentation models draw a subject's outline; strands of hair are finer than their input
grid. Closed-form matting (Levin et al., 2008, via pymatting) solves for the alpha of
the uncertain pixels from the photo's local colour lines, with the confident pixels
fixed. It runs on a trimap drawn from the fused mask, at a capped working size, on the
band's bounding box only, and its alpha replaces the refined one inside the band only.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image
from pymatting import estimate_alpha_cf  # type: ignore[import-untyped]

# Working size of the matting, in pixels of the photo: the solve's cost grows with the
# band's pixels, and the issue caps it at 0.5 MP.
MATTING_MAX_PIXELS = 250_000
# The mask is trusted outside [LOW, HIGH]; in between, the photo decides.
TRIMAP_LOW = 0.1
TRIMAP_HIGH = 0.9
# The band also covers this many working pixels on each side of the mask's 0.5 outline,
# so that hair the models missed entirely (mask near 0) is matted too.
OUTLINE_RADIUS_FRACTION = 0.006
# Context around the band's bounding box, in working pixels.
CROP_MARGIN = 8
# The closed-form Laplacian's regulariser: pymatting's documented example's 1e-6, better
# conditioned than its default 1e-7 on JPEG noise.
LAPLACIAN_EPSILON = 1e-6
SOLVER_MAX_ITERATIONS = 2000


def trimap_of(mask: np.ndarray) -> np.ndarray:
    """0 background, 1 foreground, 0.5 unknown; from a float mask in [0, 1]."""
    trimap = np.full(mask.shape, 0.5, dtype=np.float64)
    trimap[mask <= TRIMAP_LOW] = 0.0
    trimap[mask >= TRIMAP_HIGH] = 1.0
    radius = max(1, round(OUTLINE_RADIUS_FRACTION * float(np.hypot(*mask.shape))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    inside = (mask >= 0.5).astype(np.uint8)
    outline = cv2.dilate(inside, kernel) != cv2.erode(inside, kernel)
    trimap[outline] = 0.5
    return trimap


def _working(photo: Image.Image, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    factor = min(1.0, float(np.sqrt(MATTING_MAX_PIXELS / (photo.width * photo.height))))
    size = (max(1, round(photo.width * factor)), max(1, round(photo.height * factor)))
    small = photo.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    image = np.asarray(small, dtype=np.float64) / 255.0
    small_mask = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    return image, small_mask


def matte_band(photo: Image.Image, alpha: Image.Image, mask: np.ndarray) -> Image.Image:
    """`alpha` (L, photo size) with the uncertain band of `mask` (any size) re-matted."""
    image, small_mask = _working(photo, mask)
    trimap = trimap_of(small_mask)
    unknown = trimap == 0.5
    if not unknown.any() or not (trimap == 1.0).any() or not (trimap == 0.0).any():
        return alpha  # nothing uncertain, or nothing certain to anchor the solve
    rows, columns = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    top, bottom = max(0, rows[0] - CROP_MARGIN), rows[-1] + 1 + CROP_MARGIN
    left, right = max(0, columns[0] - CROP_MARGIN), columns[-1] + 1 + CROP_MARGIN
    matte = trimap.copy()
    matte[top:bottom, left:right] = estimate_alpha_cf(
        image[top:bottom, left:right],
        trimap[top:bottom, left:right],
        laplacian_kwargs={"epsilon": LAPLACIAN_EPSILON},
        cg_kwargs={"maxiter": SOLVER_MAX_ITERATIONS},
    )
    # Back to the photo's size; inside the band only, so confident pixels keep the refined
    # alpha's full-resolution edges.
    size = photo.size
    full_matte = cv2.resize(matte.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    full_band = cv2.resize(unknown.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    result = np.asarray(alpha).copy()
    band = full_band.astype(bool)
    result[band] = np.rint(np.clip(full_matte[band], 0.0, 1.0) * 255.0).astype(np.uint8)
    return Image.fromarray(result)
