"""What the engine is configured with, and nothing more: the server's Settings hold far more
(databases, keys, limits of plans), so the engine takes this view of them instead."""

from __future__ import annotations

from dataclasses import dataclass

from bgone.inference.imageio import DecodeLimits, EncodeConfig
from bgone.inference.session import RuntimeConfig
from bgone.settings import Settings


@dataclass(frozen=True)
class EngineConfig:
    runtime: RuntimeConfig  # where the models are, threads, execution providers
    limits: DecodeLimits  # what a source may be, checked before decoding
    encoding: EncodeConfig  # how results are written
    default_model: str = "u2netp"
    # Above this many decoded pixels in process, model runs stop overlapping (threadplan).
    overlap_max_pixels: float = 16_000_000

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineConfig:
        return cls(
            runtime=RuntimeConfig(
                model_dir=settings.models_path,
                intra_op_threads=settings.intra_op_threads,
                inter_op_threads=settings.inter_op_threads,
                concurrency=settings.inference_concurrency,
                providers=tuple(settings.execution_providers),
            ),
            limits=DecodeLimits(
                settings.max_upload_bytes, settings.max_megapixels, settings.max_side_pixels
            ),
            encoding=EncodeConfig(
                png_encoder=settings.png_encoder,
                png_compress_level=settings.png_compress_level,
                jpeg_quality=settings.jpeg_quality,
                webp_quality=settings.webp_quality,
            ),
            default_model=settings.default_model,
            overlap_max_pixels=settings.overlap_max_megapixels * 1_000_000,
        )
