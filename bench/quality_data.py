"""The shared datasets for bench/quality.py: loading, the robustness variants, scoring.

Each set's photos are read once; a variant (the photo resized by 0.9x, or saved again as
JPEG q85) is derived from them with its ground truth transformed the same way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

SETS = ("alphamatting27", "ecssd50", "duts_te")
ROBUSTNESS_SCALE = 0.9
ROBUSTNESS_JPEG_QUALITY = 85


@dataclass(frozen=True)
class Sample:
    set_name: str
    stem: str
    image_path: Path
    image: bytes
    truth: np.ndarray  # float32 in [0, 1]
    unknown_band: np.ndarray | None  # bool, where the trimap is 128 (alphamatting27 only)

    @property
    def key(self) -> str:
        return f"{self.set_name}-{self.stem}"


@dataclass(frozen=True)
class Score:
    mae: float
    iou: float
    band_mae: float | None


def load_set(root: Path, name: str, limit: int | None) -> list[Sample]:
    folder = root / name
    samples = []
    with (folder / "manifest.csv").open() as handle:
        for row in list(csv.DictReader(handle))[:limit]:
            truth = np.asarray(Image.open(folder / row["gt"]))
            if truth.ndim == 3:
                truth = truth[..., 0]
            trimap = folder / "trimaps" / "Trimap1" / Path(row["gt"]).name
            band = np.asarray(Image.open(trimap).convert("L")) == 128 if trimap.exists() else None
            image_path = folder / row["image"]
            samples.append(
                Sample(
                    name,
                    row["stem"],
                    image_path,
                    image_path.read_bytes(),
                    truth.astype(np.float32) / 255.0,
                    band,
                )
            )
    return samples


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def resized(sample: Sample) -> Sample:
    """The photo scaled by 0.9x (Lanczos, saved losslessly), its truth scaled the same way."""
    photo = Image.open(io.BytesIO(sample.image)).convert("RGB")
    size = (round(photo.width * ROBUSTNESS_SCALE), round(photo.height * ROBUSTNESS_SCALE))
    truth = Image.fromarray(sample.truth).resize(size, Image.Resampling.BILINEAR)
    return replace(
        sample,
        image=_png(photo.resize(size, Image.Resampling.LANCZOS)),
        truth=np.clip(np.asarray(truth, dtype=np.float32), 0.0, 1.0),
        unknown_band=None,
    )


def jpeg_again(sample: Sample) -> Sample:
    """The photo saved again as JPEG q85 with Pillow's default subsampling; same truth."""
    buffer = io.BytesIO()
    photo = Image.open(io.BytesIO(sample.image)).convert("RGB")
    photo.save(buffer, "JPEG", quality=ROBUSTNESS_JPEG_QUALITY)
    return replace(sample, image=buffer.getvalue(), unknown_band=None)


VARIANTS: dict[str, Callable[[Sample], Sample]] = {"resized 0.9x": resized, "JPEG q85": jpeg_again}


def score(predicted: np.ndarray, sample: Sample) -> Score:
    """MAE over all pixels, IoU of the masks binarised at 0.5, MAE inside the trimap band."""
    difference = np.abs(predicted - sample.truth)
    predicted_mask, true_mask = predicted >= 0.5, sample.truth >= 0.5
    union = int((predicted_mask | true_mask).sum())
    iou = float((predicted_mask & true_mask).sum()) / union if union else 1.0
    band = sample.unknown_band
    band_mae = float(difference[band].mean()) if band is not None and band.any() else None
    return Score(float(difference.mean()), iou, band_mae)


def mean_score(scores: list[Score]) -> Score:
    bands = [item.band_mae for item in scores if item.band_mae is not None]
    return Score(
        mae=float(np.mean([item.mae for item in scores])),
        iou=float(np.mean([item.iou for item in scores])),
        band_mae=float(np.mean(bands)) if bands else None,
    )
