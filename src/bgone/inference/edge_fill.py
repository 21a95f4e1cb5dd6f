"""The colour layer of a cut-out with its background gone: the foreground's edge colours
extended over every fully transparent pixel.

A format without an alpha channel of its own (the ZIP's color.jpg beside alpha.png) still
has a colour under each transparent pixel. The photo's must not be there: it is the removed
background. Black would do for that, but JPEG's blocks then bleed black into the subject's
edge, and a composite over a light backdrop gets a dark fringe; the subject's own edge
colours, extended outwards, keep the edge clean and compress well.

How: a pyramid (pull-push). Going down, each level halves the picture, keeping per pixel the
mean colour of the foreground pixels under it and how much of it they cover; going up, a
pixel with no foreground under it takes the colour of the level above, upsampled. So each
transparent pixel gets the colour of the nearest foreground at the finest scale that has
any, in a few dozen resizes by OpenCV: about 0.3 s at 12 MP on one core.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

# The weight of a fully covered pixel at the first, uint8 level.
FULL = 255


def _halved(values: np.ndarray) -> np.ndarray:
    """Each 2x2 block's mean, after padding with zeros to even sides: padding is neither
    colour nor cover, so the means stay exact sums of the foreground under each block."""
    height, width = values.shape[:2]
    if height % 2 or width % 2:
        values = cv2.copyMakeBorder(
            values, 0, height % 2, 0, width % 2, cv2.BORDER_CONSTANT, value=0
        )
    half = ((width + 1) // 2, (height + 1) // 2)
    result: np.ndarray = cv2.resize(values, half, interpolation=cv2.INTER_AREA)
    return result


def _upsampled(colours: np.ndarray, height: int, width: int) -> np.ndarray:
    """The coarser level at twice its size, cut to the finer level's (unpadded) sides."""
    coarse_height, coarse_width = colours.shape[:2]
    size = (coarse_width * 2, coarse_height * 2)
    result: np.ndarray = cv2.resize(colours, size, interpolation=cv2.INTER_LINEAR)
    return result[:height, :width]


def _fill_level(colours: np.ndarray, cover: np.ndarray, height: int, width: int) -> np.ndarray:
    """Float colours of one level and every coarser one: the foreground's mean where it
    covers anything, the coarser level's colour elsewhere."""
    covered = cover > 0
    # Covers get tiny at coarse levels (a padded row halves them again): divide exactly.
    mean: np.ndarray = np.divide(
        colours, cover[..., None], out=np.zeros_like(colours), where=covered[..., None]
    )
    if covered.all() or (height == 1 and width == 1):
        return mean
    coarser = _fill_level(_halved(colours), _halved(cover), (height + 1) // 2, (width + 1) // 2)
    filled = _upsampled(coarser, height, width)
    np.copyto(filled, mean, where=covered[..., None])
    return filled


def extend_edge_colours(image: Image.Image) -> Image.Image:
    """An RGB picture: the colours of `image` (RGBA) where its alpha is above 0, the
    nearest foreground colour where it is 0, and black when there is no foreground."""
    layer = image.convert("RGBA")
    seen = (np.asarray(layer.getchannel("A")) > 0).view(np.uint8)
    rgb = np.asarray(layer.convert("RGB"))
    if seen.all():
        return Image.fromarray(rgb, "RGB")
    if not seen.any():
        return Image.new("RGB", image.size, 0)
    height, width = seen.shape
    # The first halving in uint8 (the full-size picture is the largest array); from there
    # on, floats on a quarter of the pixels.
    masked = cv2.bitwise_and(rgb, rgb, mask=seen)
    colours = _halved(masked).astype(np.float32)
    cover = _halved(seen * np.uint8(FULL)).astype(np.float32) / FULL
    coarse = _fill_level(colours, cover, (height + 1) // 2, (width + 1) // 2)
    coarse_bytes = np.clip(np.rint(coarse), 0, 255).astype(np.uint8)
    filled = np.ascontiguousarray(_upsampled(coarse_bytes, height, width))
    cv2.copyTo(rgb, seen, filled)  # the real colours wherever there is any alpha
    return Image.fromarray(filled, "RGB")
