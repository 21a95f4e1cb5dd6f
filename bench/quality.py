"""Quality benchmark: bgone's tiers beside rembg's pipelines, same u2netp, one run.

    python bench/quality.py [--datasets DIR] [--limit N] [--no-rembg] [--no-timing]

Per shared set (alphamatting27, ecssd50, duts_te) it prints MAE, IoU, the trimap-band MAE
(alphamatting27) and the median seconds per image of: bgone `fast` (the default), `best`,
`best` without isnet and with u2netp alone, the raw models, and rembg's default,
`post_process_mask` and `alpha_matting`; then who wins where, the robustness check of the
default (photo resized by 0.9x or saved again as JPEG q85), the times of `best` at 1 and
12 MP, and every target of the README's Quality section as PASS/FAIL, relative to this run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    # Run as `python bench/quality.py`, Python puts bench/ on the path, not the repository:
    # put the repository there too, so `bench` imports as the package it is under `-m`.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.quality_data import SETS, VARIANTS, Sample, load_set
from bench.quality_engine import Engine, Outcome, Pipeline
from bench.quality_models import ModelSet
from bench.quality_rembg import run_rembg
from bench.quality_targets import Results, targets
from bgone.inference.best import BestLevers
from bgone.inference.options import Quality, Refinement, RemovalOptions
from bgone.settings import Settings

DEFAULT_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
REPO = Path(__file__).resolve().parents[1]
FAST = Pipeline("bgone fast (default)", RemovalOptions())
PIPELINES = (
    FAST,
    Pipeline("bgone best", RemovalOptions(quality=Quality.BEST)),
    Pipeline("bgone best, no isnet", RemovalOptions(quality=Quality.BEST), ModelSet.NO_ISNET),
    Pipeline("bgone best, u2netp only", RemovalOptions(quality=Quality.BEST), ModelSet.U2NETP_ONLY),
    # What `best` was before the colour model (colour_model.py), in the same run.
    Pipeline(
        "bgone best, no colour model",
        RemovalOptions(quality=Quality.BEST),
        levers=BestLevers(colour_model=False),
    ),
    Pipeline(
        "bgone best, no isnet, no colour model",
        RemovalOptions(quality=Quality.BEST),
        ModelSet.NO_ISNET,
        levers=BestLevers(colour_model=False),
    ),
    # The hair set only: the lever exists for hair, and loses there already (best.py).
    Pipeline(
        "bgone best + band matting (not adopted)",
        RemovalOptions(quality=Quality.BEST),
        levers=BestLevers(band_matting=True),
        sets=("alphamatting27",),
    ),
    Pipeline("u2netp raw", RemovalOptions(model="u2netp", refinement=Refinement.RAW)),
    Pipeline("u2net-int8 raw", RemovalOptions(model="u2net-int8", refinement=Refinement.RAW)),
    Pipeline("isnet raw", RemovalOptions(model="isnet", refinement=Refinement.RAW)),
)
# IS-Net has almost certainly been trained on DUTS-TE's photos (README, Quality).
SEEN = {
    ("duts_te", "bgone best"),
    ("duts_te", "bgone best, no colour model"),
    ("duts_te", "isnet raw"),
}


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def timing(*arguments: str) -> dict[str, float]:
    completed = subprocess.run(
        # A fresh process per figure, so each peak RSS is its own.
        [sys.executable, "-m", "bench.quality_timing", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def row(set_name: str, label: str, outcome: Outcome) -> str:
    band = f"{outcome.score.band_mae:.4f}" if outcome.score.band_mae is not None else "-"
    seen = " (isnet has seen these)" if (set_name, label) in SEEN else ""
    return (
        f"| {set_name:14} | {label + seen:52} | {outcome.score.mae:.4f} | "
        f"{outcome.score.iou:.4f} | {band:>8} | {outcome.median_seconds:6.3f} |"
    )


def print_table(results: Results) -> None:
    print("| set            | pipeline" + " " * 44 + " | MAE    | IoU    | band MAE | s/img  |")
    print("|" + "|".join(["-" * 16, "-" * 54, "-" * 8, "-" * 8, "-" * 10, "-" * 8]) + "|")
    for set_name in results.sets:
        for label, by_set in results.table.items():
            if set_name in by_set:
                print(row(set_name, label, by_set[set_name]))
    print()
    for label in results.table:
        if not label.startswith("bgone") or len(results.table[label]) < len(results.sets):
            continue
        rivals = {
            name: by_set for name, by_set in results.table.items() if name.startswith("rembg")
        }
        if not rivals:
            break
        mae_wins = iou_wins = 0
        for set_name in results.sets:
            if set_name not in results.table[label]:
                continue
            ours = results.table[label][set_name].score
            mae_wins += all(ours.mae < theirs[set_name].score.mae for theirs in rivals.values())
            iou_wins += all(ours.iou > theirs[set_name].score.iou for theirs in rivals.values())
        count = len(results.sets)
        print(
            f"{label}: wins on MAE on {mae_wins} of {count} sets, on IoU on {iou_wins} of "
            f"{count} sets (against every rembg pipeline)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--limit", type=int, default=None, help="images per set (quick runs)")
    parser.add_argument("--no-rembg", action="store_true", help="skip rembg's pipelines")
    parser.add_argument("--no-timing", action="store_true", help="skip the 1 and 12 MP times")
    args = parser.parse_args(argv)

    settings = Settings()
    data: dict[str, list[Sample]] = {
        name: load_set(args.datasets, name, args.limit) for name in SETS
    }
    print(
        f"images: {', '.join(f'{name} {len(samples)}' for name, samples in data.items())}; "
        f"model dir {settings.models_path}"
    )
    results = Results(tuple(SETS))
    with tempfile.TemporaryDirectory(prefix="bgone-quality-") as tmp:
        engine = Engine(settings, Path(tmp))
        for pipeline in PIPELINES:
            if pipeline.options.model is not None and not engine.has(pipeline.options.model):
                log(f"{pipeline.label}: skipped, {pipeline.options.model} is not installed")
                continue
            for set_name, samples in data.items():
                if pipeline.sets is not None and set_name not in pipeline.sets:
                    continue
                log(f"{pipeline.label} on {set_name}")
                outcome = engine.evaluate(pipeline, samples)
                results.table.setdefault(pipeline.label, {})[set_name] = outcome
                results.models[pipeline.label] = outcome.models_used
        for variant, transform in VARIANTS.items():
            for set_name, samples in data.items():
                log(f"robustness: {variant} on {set_name}")
                changed = engine.evaluate(FAST, [transform(sample) for sample in samples])
                results.robustness[(variant, set_name)] = changed.score.iou
        if not args.no_rembg:
            everything = [sample for samples in data.values() for sample in samples]
            log("rembg's three pipelines")
            for name, by_set in run_rembg(
                everything, settings.models_path / "u2netp.onnx", Path(tmp), log
            ).items():
                results.table[f"rembg {name}"] = by_set
    print_table(results)
    if not args.no_timing:
        log("times of best at 1 and 12 MP, IS-Net's bare run, the model-input resize")
        results.times["isnet bare 1 MP"] = timing("isnet-bare")
        results.times["best 1 MP"] = timing("best", "1")
        results.times["best 1 MP, no isnet"] = timing("best", "1", "--models", "no-isnet")
        results.times["best 1 MP, u2netp only"] = timing("best", "1", "--models", "u2netp-only")
        results.times["best 12 MP"] = timing("best", "12")
        for megapixels in ("1", "12"):
            results.times[f"model-input resize {megapixels} MP"] = timing("resize", megapixels)
        print()
        for name, figures in results.times.items():
            print(f"{name}: {figures['seconds']:.3f} s, peak RSS {figures['peak_rss_mb']:.0f} MB")
    print()
    print("models used by best: " + ", ".join(results.models.get("bgone best", ())))
    for line in targets(results, FAST.label):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
