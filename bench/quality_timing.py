"""Times for bench/quality.py, each in a fresh process so its peak RSS is its own.

    python -m bench.quality_timing best MEGAPIXELS [--models SET] # best in process
    python -m bench.quality_timing isnet-bare                      # IS-Net's session.run
    python -m bench.quality_timing resize MEGAPIXELS               # the model-input resize

Each prints one JSON object: the median seconds of a few runs after a warm-up, and the
process's peak RSS in MB. Photos are made as bench/speed.py makes them.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import onnxruntime as ort
from PIL import Image

from bench.quality_models import ModelSet, model_dir_for
from bench.speed import make_photos
from bgone.inference.catalog import find_model
from bgone.inference.engine_config import EngineConfig
from bgone.inference.options import Quality, RemovalOptions
from bgone.inference.pipeline import Remover
from bgone.inference.session import preprocess
from bgone.settings import Settings

RUNS = 3


def median_seconds(function: Callable[[], object], runs: int = RUNS) -> float:
    function()  # warm-up: sessions, arenas and pymatting's compiled kernels
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """This process's own high-water mark. Not getrusage's ru_maxrss: Linux carries that
    over exec from the forking parent (the bench, several GB with its memo)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def best(megapixels: int, models: ModelSet) -> float:
    settings = Settings()
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = model_dir_for(models, settings.models_path, Path(scratch))
        settings = settings.model_copy(update={"model_dir": model_dir})
        remover = Remover(EngineConfig.from_settings(settings))
        photo = make_photos([megapixels])[megapixels]
        options = RemovalOptions(quality=Quality.BEST)
        runs = RUNS if megapixels <= 4 else 1
        return median_seconds(lambda: remover.remove(photo, options), runs)


def isnet_bare() -> float:
    settings = Settings()
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.intra_op_threads
    spec = find_model("isnet", settings.models_path)
    session = ort.InferenceSession(
        str(settings.models_path / spec.file_name), options, providers=["CPUExecutionProvider"]
    )
    photo = Image.open(io.BytesIO(make_photos([1])[1]))
    feed = {session.get_inputs()[0].name: preprocess(photo, spec.family_spec)}
    return median_seconds(lambda: session.run(None, feed))


def resize(megapixels: int) -> float:
    settings = Settings()
    family = find_model("u2netp", settings.models_path).family_spec
    photo = Image.open(io.BytesIO(make_photos([megapixels])[megapixels]))
    photo.load()
    return median_seconds(lambda: preprocess(photo, family), 10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["best", "isnet-bare", "resize"])
    parser.add_argument("megapixels", type=int, nargs="?", default=1)
    parser.add_argument("--models", type=ModelSet, default=ModelSet.EVERY, choices=list(ModelSet))
    args = parser.parse_args(argv)
    if args.what == "best":
        seconds = best(args.megapixels, args.models)
    elif args.what == "isnet-bare":
        seconds = isnet_bare()
    else:
        seconds = resize(args.megapixels)
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
