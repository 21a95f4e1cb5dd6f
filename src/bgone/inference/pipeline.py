"""Image in, image out: decode -> resize -> model -> refine -> compose -> encode."""

from __future__ import annotations

import io
import logging
import math
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from PIL import Image

from bgone.errors import ResolutionTooHigh
from bgone.inference.best import BestLevers, best_alpha, best_plan
from bgone.inference.compose import Box, compose
from bgone.inference.edge_fill import extend_edge_colours
from bgone.inference.engine_config import EngineConfig
from bgone.inference.imageio import (
    DecodedImage,
    check_sides,
    decode,
    encode,
    normalise_mode,
)
from bgone.inference.options import (
    SIZE_PIXELS,
    WHITE,
    Channels,
    OutputFormat,
    Quality,
    Refinement,
    RemovalOptions,
    quality_conflict,
)
from bgone.inference.refine import refine_mask
from bgone.inference.session import ModelPool
from bgone.inference.threadplan import InFlight

log = logging.getLogger(__name__)

MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "zip": "application/zip",
}


@dataclass(frozen=True)
class RemovalResult:
    data: bytes
    format: str  # png, jpg, webp or zip
    width: int
    height: int
    foreground: Box
    input_width: int
    input_height: int
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    quality: Quality = Quality.FAST
    # The models that ran, in order (for `X-Quality-Models`): `best` lists u2net-int8 and
    # isnet only when they were installed and ran.
    models_used: tuple[str, ...] = ()

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def input_megapixels(self) -> float:
        return self.input_width * self.input_height / 1_000_000


def working_size(width: int, height: int, budget_pixels: float) -> tuple[int, int]:
    """The largest size within the pixel budget, keeping the aspect ratio; never upscales."""
    if width * height <= budget_pixels:
        return width, height
    factor = math.sqrt(budget_pixels / (width * height))
    return max(1, math.floor(width * factor)), max(1, math.floor(height * factor))


def _has_transparency(image: Image.Image) -> bool:
    if image.mode != "RGBA":
        return False
    lowest, _ = cast(tuple[int, int], image.getchannel("A").getextrema())
    return lowest < 255


class Remover:
    """The engine. One per process; thread-safe; sessions shared through the pool."""

    def __init__(
        self,
        config: EngineConfig,
        pool: ModelPool | None = None,
        best_levers: BestLevers | None = None,
    ) -> None:
        self.config = config
        self.best_levers = best_levers or BestLevers()
        self.pool = pool or ModelPool(config.runtime)
        self.limits = config.limits
        self.encoding = config.encoding
        self.in_flight = InFlight(config.overlap_max_pixels)

    def _accept(self, source: bytes | Image.Image | DecodedImage) -> DecodedImage:
        if isinstance(source, DecodedImage):
            return source  # decoded already, e.g. on the server's decode pool
        if isinstance(source, bytes | bytearray | memoryview):
            return decode(bytes(source), self.limits)
        width, height = source.size
        if width * height > self.limits.max_megapixels * 1_000_000:
            raise ResolutionTooHigh(
                f"The image is {width}x{height}; the maximum is "
                f"{self.limits.max_megapixels:g} megapixels."
            )
        check_sides(width, height, self.limits)
        image, icc = normalise_mode(source, source.info.get("icc_profile"))
        alpha = image.getchannel("A") if image.mode == "RGBA" else None
        return DecodedImage(image.convert("RGB"), alpha, icc, "image")

    def remove(
        self, source: bytes | Image.Image | DecodedImage, options: RemovalOptions | None = None
    ) -> RemovalResult:
        with self.in_flight.entered() as declare:
            return self._remove(source, options or RemovalOptions(), declare)

    def _remove(
        self,
        source: bytes | Image.Image | DecodedImage,
        options: RemovalOptions,
        declare: Callable[[int], None],
    ) -> RemovalResult:
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str | None) -> None:
            nonlocal clock
            now = time.perf_counter()
            if stage is not None:
                timings[stage] = now - clock
            clock = now

        # The engine sees an explicit `guided` as the default; front ends that know what
        # was asked call quality_conflict themselves before building the options.
        explicit_refinement = (
            options.refinement if options.refinement is not Refinement.GUIDED else None
        )
        quality_conflict(options.quality, options.model, explicit_refinement)
        best = options.quality is Quality.BEST
        plan = best_plan(self.pool.config.model_dir) if best else None
        model_name = options.model or self.config.default_model
        session = None if best else self.pool.get(model_name)
        bg_image = self._accept(options.bg_image).rgb if options.bg_image is not None else None
        decoded = self._accept(source)
        # A source decoded already (on the server's decode pool) was timed there.
        lap(None if isinstance(source, DecodedImage) else "decode")
        input_w, input_h = decoded.rgb.size
        budget = SIZE_PIXELS.get(options.size, self.limits.max_megapixels * 1_000_000)
        size = working_size(input_w, input_h, budget)
        photo = decoded.rgb
        if size != photo.size:
            photo = photo.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        lap("resize")
        declare(size[0] * size[1])
        if plan is not None:
            # best's stages interleave models and refinement: timed as one.
            alpha = best_alpha(photo, self.pool, self.in_flight.overlap(), plan, self.best_levers)
            models_used = plan.models
            lap("inference")
        else:
            assert session is not None
            mask = session.predict(photo, narrow=self.in_flight.overlap())
            lap("inference")
            alpha = refine_mask(mask, photo, options.refinement)
            models_used = (model_name,)
            del mask
        if decoded.alpha is not None:
            # What the source already made transparent stays transparent.
            source_alpha = decoded.alpha.resize(size, Image.Resampling.BILINEAR)
            alpha = Image.fromarray(np.minimum(np.asarray(alpha), np.asarray(source_alpha)))
        lap("refine")
        composition = compose(photo, alpha, options, bg_image)
        icc_profile = decoded.icc_profile
        # The result layer is a copy: the photo and its alpha (about 60 MB at 12 MP) go
        # before encoding, the stage with the highest peak, so two large photos in
        # process stay within the memory target (README, Performance).
        del decoded, photo, alpha
        lap("compose")
        data, image_format = self._encode(composition.image, options, icc_profile)
        lap("encode")
        log.debug(
            "removed %dx%d with %s: %s",
            input_w,
            input_h,
            "+".join(models_used),
            " ".join(f"{stage}={seconds * 1000:.0f}ms" for stage, seconds in timings.items()),
        )
        return RemovalResult(
            data=data,
            format=image_format,
            width=composition.image.width,
            height=composition.image.height,
            foreground=composition.foreground,
            input_width=input_w,
            input_height=input_h,
            timings=timings,
            quality=options.quality,
            models_used=models_used,
        )

    def _encode(
        self, image: Image.Image, options: RemovalOptions, icc: bytes | None
    ) -> tuple[bytes, str]:
        chosen = options.format
        if chosen is OutputFormat.AUTO:
            transparent = options.channels is Channels.RGBA and _has_transparency(image)
            chosen = OutputFormat.PNG if transparent else OutputFormat.JPG
        if chosen is OutputFormat.ZIP:
            return self._zip(image, icc), "zip"
        if image.mode == "RGBA" and not _has_transparency(image):
            image = image.convert("RGB")
        if chosen is OutputFormat.JPG and image.mode == "RGBA":
            backdrop = Image.new("RGBA", image.size, (options.bg_color or WHITE).rgba)
            image = Image.alpha_composite(backdrop, image).convert("RGB")
        return encode(image, chosen.value, icc, self.encoding), chosen.value

    def _zip(self, image: Image.Image, icc: bytes | None) -> bytes:
        """remove.bg's ZIP: color.jpg (the colours) plus alpha.png (the mask). Under alpha 0
        the colours are the foreground's edge colours extended, never the photo's."""
        rgba = image.convert("RGBA")
        colours = extend_edge_colours(rgba)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("color.jpg", encode(colours, "jpg", icc, self.encoding))
            archive.writestr("alpha.png", encode(rgba.getchannel("A"), "png", None, self.encoding))
        return buffer.getvalue()
