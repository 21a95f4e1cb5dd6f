"""The `best` quality tier: every lever the installed models and the CPU allow.

u2netp with test-time augmentation (augment.py); IS-Net too when it is installed, fused
by per-pixel confidence (fusion.py); the photo's own colours as a second opinion where
the models hesitate (colour_model.py); then the guided refinement. Each choice and
constant was made with bench/quality.py on all shared sets at once (IS-Net's weight on
alphamatting27 and ecssd50 only: it has seen DUTS-TE's photos). Closed-form matting of
the uncertain band (matting.py) is a measured lever that `best` leaves off: on
alphamatting27 it made MAE and IoU worse (README, Quality); the bench keeps a row of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bgone.inference.augment import Canvas, mirrored_mean
from bgone.inference.catalog import find_model
from bgone.inference.colour_model import colour_model_vote
from bgone.inference.fusion import confidence_fusion, to_canvas
from bgone.inference.options import Refinement
from bgone.inference.provision import is_verified
from bgone.inference.refine import refine_mask
from bgone.inference.session import InputResize, ModelPool

BASE_MODEL = "u2netp"
FUSION_MODEL = "isnet"
# IS-Net's share of the vote where both models are equally sure (u2netp has the rest).
# Of 0.2, 0.3 and 0.4, 0.3 gave the lowest mean MAE relative to `fast` over
# alphamatting27 and ecssd50 (0.0731 and 0.0171, against 0.0793 and 0.0192).
FUSION_MODEL_WEIGHT = 0.3
# The masks are combined on a grid of this long side (IS-Net's input size): a finer grid
# adds nothing that the guided refinement does not take from the photo.
CANVAS_LONG_SIDE = 1024
# The mirrored pair samples the input grid twice, which steadies the decisions `fast` needs
# Lanczos for (session.py, InputResize); with bicubic the fusion scored lower MAE
# (alphamatting27 0.0731 against 0.0733, ecssd50 0.0171 against 0.0173).
INPUT_RESIZE = InputResize.BICUBIC


@dataclass(frozen=True)
class BestPlan:
    """Which models `best` runs with this model directory, and which it lacks."""

    models: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class BestLevers:
    """Which of best's levers run. The defaults are what `best` is; the bench flips them
    for its own rows (the colour model off, to show it against what `best` was without it;
    band matting on, a lever measured and not adopted)."""

    colour_model: bool = True
    band_matting: bool = False


def best_plan(model_dir: Path) -> BestPlan:
    """From what is installed and verified (the catalog and provisioning decide, nothing is
    loaded): a corrupt IS-Net file leaves `best` to u2netp rather than failing it. `/readyz`
    and `bgone models list` report this plan."""
    fusion = find_model(FUSION_MODEL, model_dir)
    if is_verified(fusion, model_dir):
        return BestPlan((BASE_MODEL, FUSION_MODEL), ())
    return BestPlan((BASE_MODEL,), (FUSION_MODEL,))


def best_alpha(
    photo: Image.Image,
    pool: ModelPool,
    narrow: bool,
    plan: BestPlan,
    levers: BestLevers = BestLevers(),
) -> Image.Image:
    """The photo (RGB, working size) -> its L-mode alpha at the same size."""
    canvas = Canvas.for_photo(photo, CANVAS_LONG_SIDE)
    with_fusion = FUSION_MODEL in plan.models
    masks = [mirrored_mean(pool.get(BASE_MODEL), photo, canvas, narrow, INPUT_RESIZE)]
    weights = [1.0 - FUSION_MODEL_WEIGHT if with_fusion else 1.0]
    if with_fusion:
        # One pass: IS-Net costs about ten u2netp runs, over the time budget to mirror.
        # Its working memory is handed back after the run (same CPU time, measured), so a
        # 12 MP photo's refinement, composition and encoding do not stack on top of it.
        fusion_mask = pool.get(FUSION_MODEL).predict(
            photo, narrow, release=True, resize=INPUT_RESIZE
        )
        masks.append(to_canvas(fusion_mask, canvas.width, canvas.height))
        weights.append(FUSION_MODEL_WEIGHT)
    fused = confidence_fusion(masks, weights)
    if levers.colour_model:
        fused = colour_model_vote(fused, photo)
    refined = refine_mask(fused, photo, Refinement.GUIDED)
    if not levers.band_matting:
        return refined
    from bgone.inference.matting import matte_band  # pymatting compiles kernels on import

    return matte_band(photo, refined, fused)
