"""bgone's side of bench/quality.py: the real engine, with each model run done once.

Every photo goes through `Remover.remove` (decode, models, refinement, compose, encode)
with `channels=alpha`. Pipelines that run the same model on the same input share that
run through a memo; each pipeline is still charged the model's own seconds, so the
times printed are what it would take alone.
"""

from __future__ import annotations

import hashlib
import io
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from bench.quality_data import Sample, Score, mean_score, score
from bench.quality_models import ModelSet, model_dir_for
from bgone.errors import ModelError
from bgone.inference.best import BestLevers
from bgone.inference.engine_config import EngineConfig
from bgone.inference.options import Channels, OutputFormat, RemovalOptions
from bgone.inference.pipeline import Remover
from bgone.inference.session import InputResize, ModelPool, ModelSession
from bgone.settings import Settings


@dataclass
class Memo:
    """Model outputs by (model, input), with the seconds each first took."""

    outputs: dict[tuple[str, bytes], tuple[np.ndarray, float]] = field(default_factory=dict)
    # Seconds a pipeline would have spent on the runs it found in the memo.
    saved_seconds: float = 0.0


class MemoSession:
    def __init__(self, name: str, session: ModelSession, memo: Memo) -> None:
        self._name, self._session, self._memo = name, session, memo
        self.spec, self.family = session.spec, session.family

    def predict(
        self,
        image: Image.Image,
        narrow: bool = False,
        release: bool = False,
        resize: InputResize = InputResize.LANCZOS,
    ) -> np.ndarray:
        digest = hashlib.blake2b(image.tobytes(), digest_size=16).digest()
        key = (f"{self._name} {resize}", digest)
        found = self._memo.outputs.get(key)
        if found is None:
            started = time.perf_counter()
            mask = self._session.predict(image, narrow, release, resize)
            found = (mask, time.perf_counter() - started)
            self._memo.outputs[key] = found
        else:
            self._memo.saved_seconds += found[1]
        return found[0].copy()


class MemoPool(ModelPool):
    def __init__(self, settings: Settings, memo: Memo) -> None:
        super().__init__(EngineConfig.from_settings(settings).runtime)
        self.memo = memo

    def get(self, name: str) -> ModelSession:
        return MemoSession(name, super().get(name), self.memo)  # type: ignore[return-value]


@dataclass(frozen=True)
class Pipeline:
    label: str
    options: RemovalOptions
    models: ModelSet = ModelSet.EVERY  # which of best's models its directory holds
    # best's levers, flipped for the bench's own rows (frozen, so one shared default is safe)
    levers: BestLevers = field(default_factory=BestLevers)
    sets: tuple[str, ...] | None = None  # None: every set


@dataclass
class Outcome:
    score: Score
    median_seconds: float
    models_used: tuple[str, ...]


class Engine:
    """Removers over one memo, one per model set (the configured dir, and best's models
    taken away one by one) and set of levers."""

    def __init__(self, settings: Settings, scratch: Path) -> None:
        self.memo = Memo()
        self.settings = settings
        self.scratch = scratch
        self.removers: dict[tuple[ModelSet, BestLevers], Remover] = {}
        self.full = self.remover(ModelSet.EVERY, BestLevers())

    def remover(self, models: ModelSet, levers: BestLevers) -> Remover:
        key = (models, levers)
        if key not in self.removers:
            model_dir = model_dir_for(models, self.settings.models_path, self.scratch)
            settings = self.settings.model_copy(update={"model_dir": model_dir})
            self.removers[key] = Remover(
                EngineConfig.from_settings(settings), MemoPool(settings, self.memo), levers
            )
        return self.removers[key]

    def has(self, model: str) -> bool:
        try:
            self.full.pool.get(model)
        except ModelError:
            return False
        return True

    def alpha(
        self, pipeline: Pipeline, sample: Sample
    ) -> tuple[np.ndarray, float, tuple[str, ...]]:
        remover = self.remover(pipeline.models, pipeline.levers)
        options = RemovalOptions(
            channels=Channels.ALPHA,
            format=OutputFormat.PNG,
            model=pipeline.options.model,
            refinement=pipeline.options.refinement,
            quality=pipeline.options.quality,
        )
        saved_before = self.memo.saved_seconds
        started = time.perf_counter()
        result = remover.remove(sample.image, options)
        seconds = time.perf_counter() - started + self.memo.saved_seconds - saved_before
        alpha = np.asarray(Image.open(io.BytesIO(result.data)).convert("L"), dtype=np.float32)
        return alpha / 255.0, seconds, result.models_used

    def evaluate(self, pipeline: Pipeline, samples: list[Sample]) -> Outcome:
        scores, seconds = [], []
        models: tuple[str, ...] = ()
        for sample in samples:
            alpha, spent, models = self.alpha(pipeline, sample)
            scores.append(score(alpha, sample))
            seconds.append(spent)
        return Outcome(mean_score(scores), statistics.median(seconds), models)
