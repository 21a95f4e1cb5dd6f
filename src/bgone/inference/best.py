"""The `best` quality tier: every lever the installed models and the CPU allow.

u2netp with test-time augmentation (augment.py); U^2-Net full size in int8 when it is
installed; IS-Net too when it is installed; the two added models' confidence softened,
then all fused by per-pixel confidence (fusion.py);
the photo's own colours as a second opinion where the models hesitate (colour_model.py);
then the guided refinement. Each choice and constant was made with bench/quality.py on
all shared sets at once (IS-Net's weight on alphamatting27 and ecssd50 only: it has seen
DUTS-TE's photos). Closed-form matting of the uncertain band (matting.py) is a measured
lever that `best` leaves off: on alphamatting27 it made MAE and IoU worse (README,
Quality); the bench keeps a row of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bgone.errors import UnknownModel
from bgone.inference.augment import Canvas, mirrored_mean
from bgone.inference.catalog import find_model
from bgone.inference.colour_model import colour_model_vote
from bgone.inference.fusion import confidence_fusion, soften, to_canvas
from bgone.inference.options import Refinement
from bgone.inference.provision import is_verified
from bgone.inference.refine import refine_mask
from bgone.inference.session import InputResize, ModelPool

BASE_MODEL = "u2netp"
# U^2-Net full size, quantised on the operator's machine (`bgone models pull u2net`, then
# `bgone models quantize u2net`): a local model, so it joins only once made. Alone it is
# better than u2netp on ecssd50 and duts_te and much worse on alphamatting27's hair and fur;
# with a small share of the vote it moves the decisions u2netp is unsure of and leaves hair
# to u2netp (README, Quality).
SECOND_MODEL = "u2net-int8"
# Its share of the two U^2-Nets' vote (u2netp has the rest). Of 0.1-0.5, 0.2 gave the lowest
# mean MAE relative to `fast` over all three sets, and 0.3 and above made alphamatting27
# worse than u2netp alone (0.0810 against 0.0747).
SECOND_MODEL_WEIGHT = 0.2
FUSION_MODEL = "isnet"
# IS-Net's share of the vote where the models are equally sure (the U^2-Nets have the
# rest). Of 0.2, 0.3 and 0.4, chosen on alphamatting27 and ecssd50 only: 0.2 and 0.3 tie
# on mean MAE relative to `fast` (0.856), 0.4 is worse (0.886); 0.3 is kept.
FUSION_MODEL_WEIGHT = 0.3
# Both added models are sure of themselves where they are wrong (U^2-Net full size on
# alphamatting27's hair: most of its band pixels beyond 0.9 or below 0.1, and a band MAE
# nearly twice u2netp's), so their masks are softened by this temperature before the vote
# (fusion.soften): u2netp's mirrored mean keeps the say where they disagree with it on hair,
# and they still decide where u2netp hesitates. One temperature for both, of 2, 2.5 and 3
# measured on cached masks: each passed every target (README, Quality); 2.5 is the middle
# of that flat range. Without it (1) the hair band of five alphamatting27 photos was worse
# than `fast`'s (0.1607 against 0.1391), which is why the int8 copy was once backed out.
ADDED_MODEL_TEMPERATURE = 2.5
# The optional models, in the order of the plan, the vote and `X-Quality-Models`.
ADDED_MODELS = (SECOND_MODEL, FUSION_MODEL)
# How an operator adds each optional model (`bgone models list` says so while it lacks one).
INSTALL_COMMANDS = {
    SECOND_MODEL: "bgone models pull u2net, then bgone models quantize u2net",
    FUSION_MODEL: "bgone models pull isnet --accept-licence",
}
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


def _installed(name: str, model_dir: Path) -> bool:
    try:
        spec = find_model(name, model_dir)
    except UnknownModel:  # a local model (the int8 copy) not made here
        return False
    return is_verified(spec, model_dir)


def best_plan(model_dir: Path) -> BestPlan:
    """From what is installed and verified (the catalog and provisioning decide, nothing is
    loaded): a corrupt optional file leaves `best` to the others rather than failing it.
    `/readyz` and `bgone models list` report this plan."""
    models, missing = [BASE_MODEL], list[str]()
    for name in ADDED_MODELS:
        (models if _installed(name, model_dir) else missing).append(name)
    return BestPlan(tuple(models), tuple(missing))


def _weights(plan: BestPlan) -> list[float]:
    """One weight per model of the plan, in its order."""
    u2net_share = 1.0 - FUSION_MODEL_WEIGHT if FUSION_MODEL in plan.models else 1.0
    weights = [u2net_share]
    if SECOND_MODEL in plan.models:
        weights = [u2net_share * (1.0 - SECOND_MODEL_WEIGHT), u2net_share * SECOND_MODEL_WEIGHT]
    if FUSION_MODEL in plan.models:
        weights.append(FUSION_MODEL_WEIGHT)
    return weights


def best_alpha(
    photo: Image.Image,
    pool: ModelPool,
    narrow: bool,
    plan: BestPlan,
    levers: BestLevers = BestLevers(),
) -> Image.Image:
    """The photo (RGB, working size) -> its L-mode alpha at the same size."""
    canvas = Canvas.for_photo(photo, CANVAS_LONG_SIDE)
    masks = [mirrored_mean(pool.get(BASE_MODEL), photo, canvas, narrow, INPUT_RESIZE)]
    # Each added model runs once: u2net-int8's mirrored pair did worse in the fusion than
    # one run (at an even share on duts_te, 0.0449 against 0.0427), and IS-Net costs about
    # ten u2netp runs, over the time budget to mirror. Each run hands its working memory
    # back (same CPU time, measured), so a 12 MP photo's refinement, composition and
    # encoding do not stack on top of it.
    for name in ADDED_MODELS:
        if name in plan.models:
            mask = pool.get(name).predict(photo, narrow, release=True, resize=INPUT_RESIZE)
            on_canvas = to_canvas(mask, canvas.width, canvas.height)
            masks.append(soften(on_canvas, ADDED_MODEL_TEMPERATURE))
    fused = confidence_fusion(masks, _weights(plan))
    if levers.colour_model:
        fused = colour_model_vote(fused, photo)
    refined = refine_mask(fused, photo, Refinement.GUIDED)
    if not levers.band_matting:
        return refined
    from bgone.inference.matting import matte_band  # pymatting compiles kernels on import

    return matte_band(photo, refined, fused)
