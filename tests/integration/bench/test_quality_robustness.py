"""The default's robustness check of bench/quality.py, on the set where it once failed.

With the real u2netp through the real engine (the bench's own Engine and variants): the
default's mean IoU on ecssd50 moves by less than 0.01 when every photo is saved again as
JPEG q85 or resized by 0.9x. With the bicubic model-input resize the JPEG variant moved it
by -0.0106 (session.py, InputResize).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.quality import FAST
from bench.quality_data import VARIANTS, Sample, load_set
from bench.quality_engine import Engine
from bench.quality_targets import ROBUSTNESS_LIMIT

from bgone.settings import Settings


@pytest.fixture(scope="module")
def engine(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    scratch = tmp_path_factory.mktemp("quality")
    settings = Settings(data_dir=scratch / "data", model_dir=model_dir, intra_op_threads=2)
    return Engine(settings, scratch)


@pytest.fixture(scope="module")
def samples(datasets: Path) -> list[Sample]:
    return load_set(datasets, "ecssd50", None)


@pytest.fixture(scope="module")
def before(engine: Engine, samples: list[Sample]) -> float:
    """The default's mean IoU on the photos as they are, measured once for both variants."""
    return engine.evaluate(FAST, samples).score.iou


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_default_keeps_its_iou_on_ecssd50(
    engine: Engine, samples: list[Sample], before: float, variant: str
) -> None:
    after = engine.evaluate(FAST, [VARIANTS[variant](sample) for sample in samples]).score.iou
    assert abs(after - before) < ROBUSTNESS_LIMIT, (variant, before, after)
