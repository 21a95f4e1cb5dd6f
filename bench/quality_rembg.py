"""rembg's side of bench/quality.py: its three pipelines on the same photos, same u2netp.

rembg runs in its own environment (installed once by speed.py's `ensure_rembg`), through
bench/rembg_cutouts.py, with U2NET_HOME pointing at a folder that holds bgone's very
u2netp file, so both sides run identical weights.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from bench.quality_data import Sample, Score, mean_score, score
from bench.quality_engine import Outcome
from bench.speed import REMBG_VENV, ensure_rembg

RUNNER = Path(__file__).resolve().parent / "rembg_cutouts.py"
PIPELINES = ("default", "post_process_mask", "alpha_matting")


def run_rembg(
    samples: list[Sample], model_path: Path, scratch: Path, log: Callable[[str], None]
) -> dict[str, dict[str, Outcome]]:
    """Per rembg pipeline, per set: the scores and median seconds per image."""
    ensure_rembg(log)
    home = scratch / "u2net"
    home.mkdir()
    shutil.copyfile(model_path, home / "u2netp.onnx")
    jobs = scratch / "jobs.json"
    jobs.write_text(json.dumps([{"key": s.key, "path": str(s.image_path)} for s in samples]))
    output = scratch / "rembg"
    completed = subprocess.run(
        [str(REMBG_VENV / "bin" / "python"), str(RUNNER), str(jobs), str(output)],
        env={**os.environ, "U2NET_HOME": str(home)},
        capture_output=True,
        text=True,
        check=True,
        timeout=7200,
    )
    seconds: dict[str, list[float]] = json.loads(completed.stdout.strip().splitlines()[-1])
    outcomes: dict[str, dict[str, Outcome]] = {}
    for pipeline in PIPELINES:
        by_set: dict[str, tuple[list[Score], list[float]]] = {}
        for sample, spent in zip(samples, seconds[pipeline], strict=True):
            alpha = Image.open(output / pipeline / f"{sample.key}.png").convert("L")
            predicted = np.asarray(alpha, dtype=np.float32) / 255.0
            scores, times = by_set.setdefault(sample.set_name, ([], []))
            scores.append(score(predicted, sample))
            times.append(spent)
        outcomes[pipeline] = {
            name: Outcome(mean_score(scores), statistics.median(times), ("u2netp",))
            for name, (scores, times) in by_set.items()
        }
    return outcomes
