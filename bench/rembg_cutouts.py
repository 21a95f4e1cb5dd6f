"""Run inside rembg's own environment (see speed.py's ensure_rembg): cut out photos with
rembg's own code and write each alpha as a PNG, for bench/quality.py to score.

    REMBG_VENV/bin/python bench/rembg_cutouts.py  (run by bench.quality_rembg) JOBS.json OUTPUT_DIR

JOBS.json is a list of {"key": ..., "path": ...}. For each of rembg's three pipelines (its
default, `post_process_mask`, `alpha_matting` with its documented defaults) the alpha of
the RGBA cutout is written to OUTPUT_DIR/<pipeline>/<key>.png; the seconds per image are
printed as one JSON object {pipeline: [seconds, ...]} on stdout.

The steps are those of rembg's `remove()`, called one by one so that the model runs once
per photo for all three pipelines (its seconds are counted in each pipeline's time). The
alpha of the cutout, not `only_mask`: rembg applies alpha matting only to cutouts.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from rembg import bg, new_session  # type: ignore[import-not-found,unused-ignore]

# rembg's documented defaults for alpha matting (`remove()`'s keyword defaults).
FOREGROUND_THRESHOLD = 240
BACKGROUND_THRESHOLD = 10
ERODE_SIZE = 10


def default(image: Any, mask: Any) -> Any:
    return bg.naive_cutout(image, mask)


def post_process_mask(image: Any, mask: Any) -> Any:
    return bg.naive_cutout(image, Image.fromarray(bg.post_process(np.array(mask))))


def alpha_matting(image: Any, mask: Any) -> Any:
    try:
        return bg.alpha_matting_cutout(
            image, mask, FOREGROUND_THRESHOLD, BACKGROUND_THRESHOLD, ERODE_SIZE
        )
    except ValueError:  # what remove() falls back to
        return bg.decontaminate_cutout(image, mask)


PIPELINES = {
    "default": default,
    "post_process_mask": post_process_mask,
    "alpha_matting": alpha_matting,
}


def main(jobs_file: str, output: str) -> int:
    jobs = json.loads(Path(jobs_file).read_text())
    # U2NET_HOME points at a folder holding bgone's very u2netp file; rembg checks its
    # hash and downloads nothing.
    session = new_session("u2netp")
    seconds: dict[str, list[float]] = {name: [] for name in PIPELINES}
    for name in PIPELINES:
        (Path(output) / name).mkdir(parents=True, exist_ok=True)
    for job in jobs:
        started = time.perf_counter()
        image = bg.fix_image_orientation(Image.open(job["path"]))
        mask = session.predict(image)[0]
        model_seconds = time.perf_counter() - started
        for name, pipeline in PIPELINES.items():
            started = time.perf_counter()
            cutout = pipeline(image, mask)
            seconds[name].append(model_seconds + time.perf_counter() - started)
            alpha = cutout.convert("RGBA").getchannel("A")
            alpha.save(Path(output) / name / f"{job['key']}.png")
    print(json.dumps(seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
