"""Model directories for bench/quality.py's rows: `best` with some of its models taken away.

`best` runs what its model directory holds (inference/best.py, best_plan), so a row that
shows `best` without a model runs on a directory of links to the rest.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from bgone.inference.best import BASE_MODEL, SECOND_MODEL
from bgone.inference.catalog import REGISTRY_FILE


class ModelSet(StrEnum):
    EVERY = "every"  # the configured model directory, as it is
    NO_ISNET = "no-isnet"  # IS-Net's weight at zero: the pipeline duts_te is judged on
    U2NETP_ONLY = "u2netp-only"  # what `best` falls back to on a bare install


KEPT: dict[ModelSet, tuple[str, ...]] = {
    ModelSet.NO_ISNET: (BASE_MODEL, SECOND_MODEL),
    ModelSet.U2NETP_ONLY: (BASE_MODEL,),
}


def model_dir_for(models: ModelSet, model_dir: Path, scratch: Path) -> Path:
    """The configured directory, or one under `scratch` linking to the models kept."""
    if models is ModelSet.EVERY:
        return model_dir
    target = scratch / models.value
    target.mkdir(parents=True, exist_ok=True)
    # The registry lists the int8 copy (a local model); a row whose file is absent is
    # simply not installed there.
    for name in (*(f"{model}.onnx" for model in KEPT[models]), REGISTRY_FILE):
        source, link = model_dir / name, target / name
        if source.exists() and not link.exists():
            link.symlink_to(source.resolve())
    return target
