"""Quality benchmark: score the real pipeline on the shared datasets.

    python -m bench.quality [--models u2netp isnet] [--refinements guided curve raw]
                            [--datasets DIR] [--limit N]

Every image goes through `Remover.remove` (decode, model, refinement, compose, encode)
with `channels=alpha`; the decoded PNG mask is compared with the ground truth. The
model's output is memoised per image so each refinement costs no extra inference.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from bgone.errors import ModelError
from bgone.inference.engine_config import EngineConfig
from bgone.inference.options import Channels, OutputFormat, Refinement, RemovalOptions
from bgone.inference.pipeline import Remover
from bgone.inference.session import ModelPool, ModelSession
from bgone.settings import Settings

DEFAULT_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
SETS = ("alphamatting27", "ecssd50")


@dataclass
class Sample:
    stem: str
    image: bytes
    truth: np.ndarray  # float32 in [0, 1]
    unknown_band: np.ndarray | None  # bool, where the trimap is 128


@dataclass
class Score:
    mae: float
    sad_thousands: float
    mse: float
    iou: float
    band_mae: float | None


class MemoSession:
    """Wraps a session so one image is inferred once, whatever the refinement."""

    def __init__(self, session: ModelSession) -> None:
        self._session = session
        self._memo: dict[bytes, np.ndarray] = {}
        self.seconds = 0.0

    def predict(self, image: Image.Image, narrow: bool = False) -> np.ndarray:
        key = image.tobytes()[:4096] + repr(image.size).encode()
        if key not in self._memo:
            started = time.perf_counter()
            self._memo[key] = self._session.predict(image, narrow)
            self.seconds += time.perf_counter() - started
        return self._memo[key]


class MemoPool(ModelPool):
    def __init__(self, settings: Settings) -> None:
        super().__init__(EngineConfig.from_settings(settings).runtime)
        self.memos: dict[str, MemoSession] = {}

    def get(self, name: str) -> ModelSession:
        if name not in self.memos:
            self.memos[name] = MemoSession(super().get(name))
        return self.memos[name]  # type: ignore[return-value]


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
            samples.append(
                Sample(
                    row["stem"],
                    (folder / row["image"]).read_bytes(),
                    truth.astype(np.float32) / 255.0,
                    band,
                )
            )
    return samples


def score(predicted: np.ndarray, sample: Sample) -> Score:
    difference = np.abs(predicted - sample.truth)
    predicted_mask, true_mask = predicted >= 0.5, sample.truth >= 0.5
    union = int((predicted_mask | true_mask).sum())
    iou = float((predicted_mask & true_mask).sum()) / union if union else 1.0
    band = sample.unknown_band
    band_mae = float(difference[band].mean()) if band is not None and band.any() else None
    return Score(
        float(difference.mean()),
        float(difference.sum()) / 1000.0,
        float((difference**2).mean()),
        iou,
        band_mae,
    )


def evaluate(remover: Remover, samples: list[Sample], model: str, refinement: Refinement) -> Score:
    options = RemovalOptions(
        channels=Channels.ALPHA, format=OutputFormat.PNG, model=model, refinement=refinement
    )
    scores = []
    for sample in samples:
        result = remover.remove(sample.image, options)
        alpha = np.asarray(Image.open(io.BytesIO(result.data)).convert("L"), dtype=np.float32)
        scores.append(score(alpha / 255.0, sample))
    bands = [s.band_mae for s in scores if s.band_mae is not None]
    return Score(
        mae=float(np.mean([s.mae for s in scores])),
        sad_thousands=float(np.mean([s.sad_thousands for s in scores])),
        mse=float(np.mean([s.mse for s in scores])),
        iou=float(np.mean([s.iou for s in scores])),
        band_mae=float(np.mean(bands)) if bands else None,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["u2netp", "isnet"])
    parser.add_argument("--refinements", nargs="+", default=[r.value for r in Refinement])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--limit", type=int, default=None, help="images per set (smoke runs)")
    args = parser.parse_args(argv)

    settings = Settings()
    remover = Remover(EngineConfig.from_settings(settings), MemoPool(settings))
    data = {name: load_set(args.datasets, name, args.limit) for name in SETS}
    print(
        f"images: {', '.join(f'{name} {len(samples)}' for name, samples in data.items())}; "
        f"model dir {settings.models_path}"
    )
    width = max(len("model"), *(len(model) for model in args.models))
    header = (
        f"| {'model':{width}} | {'refinement':10} | {'set':14} | {'MAE':>7} | {'SAD(k)':>7} | "
        f"{'MSE':>7} | {'IoU':>6} | {'band MAE':>8} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for model in args.models:
        try:
            remover.pool.get(model)
        except ModelError as error:
            print(f"| {model:{width}} | skipped: {error.detail}")
            continue
        for refinement in args.refinements:
            for name, samples in data.items():
                result = evaluate(remover, samples, model, Refinement(refinement))
                band = f"{result.band_mae:.4f}" if result.band_mae is not None else "-"
                print(
                    f"| {model:{width}} | {refinement:10} | {name:14} | {result.mae:7.4f} | "
                    f"{result.sad_thousands:7.2f} | {result.mse:7.4f} | {result.iou:6.3f} | "
                    f"{band:>8} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
