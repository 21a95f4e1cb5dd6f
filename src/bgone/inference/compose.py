"""Mask -> result picture: region of interest, crop, scale, position, backgrounds.

A fixed rule: a fully transparent pixel carries no colour (0, 0, 0, 0). Otherwise the removed
background stays in the file under alpha 0, and anyone who drops the alpha channel sees it;
the zeros also make the PNG a third smaller. The alpha itself is never changed by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from PIL import Image, ImageOps

from bgone.errors import RoiExceedsBounds, RoiRegionEmpty, UnknownForeground
from bgone.inference.options import Channels, Margin, RemovalOptions, Roi

# Alpha above this counts as subject when measuring the foreground box (about 3%).
FOREGROUND_THRESHOLD = 8
# remove.bg caps each crop margin at half the subject's size or 500 px.
MAX_MARGIN_FRACTION = 0.5
MAX_MARGIN_PIXELS = 500


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


EMPTY_BOX = Box(0, 0, 0, 0)


@dataclass
class Composition:
    image: Image.Image  # RGBA, or L when only the mask was asked for
    foreground: Box


def foreground_box(alpha: Image.Image) -> Box:
    bounds = alpha.point(lambda value: 255 if value > FOREGROUND_THRESHOLD else 0).getbbox()
    if bounds is None:
        return EMPTY_BOX
    left, top, right, bottom = bounds
    return Box(left, top, right - left, bottom - top)


def apply_roi(alpha: Image.Image, roi: Roi) -> Image.Image:
    """Clear the alpha outside the region. remove.bg's codes: roi_region_empty for a region
    without area, roi_exceeds_bounds for one wholly outside the image; a region partly
    outside is clipped (pixel values are read at the working size, which may be smaller)."""
    width, height = alpha.size
    left, top = round(roi.x1.resolve(width)), round(roi.y1.resolve(height))
    right, bottom = round(roi.x2.resolve(width)), round(roi.y2.resolve(height))
    if right <= left or bottom <= top:
        raise RoiRegionEmpty(
            f"The region of interest has no area ({left},{top} to {right},{bottom} px)."
        )
    if left >= width or top >= height:
        raise RoiExceedsBounds(
            f"The region of interest starts at {left},{top} px, outside the {width}x{height} image."
        )
    right, bottom = min(width, right), min(height, bottom)
    kept = Image.new("L", alpha.size, 0)
    kept.paste(alpha.crop((left, top, right, bottom)), (left, top))
    return kept


def _margin_pixels(margin: Margin, subject: Box) -> tuple[int, int, int, int]:
    def cap(pixels: float, dimension: int) -> int:
        return round(min(pixels, dimension * MAX_MARGIN_FRACTION, MAX_MARGIN_PIXELS))

    return (
        cap(margin.top.resolve(subject.height), subject.height),
        cap(margin.right.resolve(subject.width), subject.width),
        cap(margin.bottom.resolve(subject.height), subject.height),
        cap(margin.left.resolve(subject.width), subject.width),
    )


def _crop(layer: Image.Image, subject: Box, margin: Margin) -> Image.Image:
    top, right, bottom, left = _margin_pixels(margin, subject)
    # Pillow fills any part of the box outside the image with zeros: transparent padding.
    return layer.crop(
        (subject.left - left, subject.top - top, subject.right + right, subject.bottom + bottom)
    )


def _place(
    layer: Image.Image, subject: Box, scale: float | None, position: tuple[float, float] | None
) -> Image.Image:
    canvas_w, canvas_h = layer.size
    piece = layer.crop((subject.left, subject.top, subject.right, subject.bottom))
    if scale is not None:
        factor = min(scale * canvas_w / subject.width, scale * canvas_h / subject.height)
        piece = piece.resize(
            (max(1, round(subject.width * factor)), max(1, round(subject.height * factor))),
            Image.Resampling.LANCZOS,
        )
    if position is None:
        left, top = subject.left, subject.top
    else:
        left = round(position[0] * (canvas_w - piece.width))
        top = round(position[1] * (canvas_h - piece.height))
    canvas = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    canvas.paste(piece, (left, top))
    return canvas


def _background(
    layer: Image.Image, options: RemovalOptions, bg_image: Image.Image | None
) -> Image.Image:
    if bg_image is not None:
        backdrop = ImageOps.fit(bg_image.convert("RGBA"), layer.size, Image.Resampling.LANCZOS)
    elif options.bg_color is not None:
        backdrop = Image.new("RGBA", layer.size, options.bg_color.rgba)
    else:
        return layer
    return Image.alpha_composite(backdrop, layer)


def clear_transparent(layer: Image.Image) -> Image.Image:
    """Zero the colour under every alpha of 0, in place (the layer is compose's own)."""
    alpha = layer.getchannel("A")
    lowest, _ = cast(tuple[int, int], alpha.getextrema())
    if lowest > 0:
        return layer
    clear = alpha.point(lambda value: 255 if value == 0 else 0)
    # A mask of 255 pastes the colour whole: exact zeros, and alpha 0 stays 0.
    layer.paste((0, 0, 0, 0), mask=clear)
    return layer


def compose(
    photo: Image.Image,
    alpha: Image.Image,
    options: RemovalOptions,
    bg_image: Image.Image | None = None,
) -> Composition:
    """Build the result layer from the working-size photo and its refined alpha."""
    if options.roi is not None:
        alpha = apply_roi(alpha, options.roi)
    layer = photo.convert("RGBA")
    layer.putalpha(alpha)
    subject = foreground_box(alpha)
    if options.crop:
        if subject == EMPTY_BOX:
            raise UnknownForeground("No foreground was found to crop to.")
        layer = _crop(layer, subject, options.crop_margin)
        subject = foreground_box(layer.getchannel("A"))
    if (options.scale is not None or options.position is not None) and subject != EMPTY_BOX:
        layer = _place(layer, subject, options.scale, options.position)
        subject = foreground_box(layer.getchannel("A"))
    if options.channels is Channels.ALPHA:
        return Composition(layer.getchannel("A"), subject)
    return Composition(clear_transparent(_background(layer, options, bg_image)), subject)
