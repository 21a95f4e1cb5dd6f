"""`bgone models quantize`: a real int8 copy of the real u2netp, calibrated on the samples."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from bgone.errors import ModelError, ProvisioningError
from bgone.inference import quantize
from bgone.inference.catalog import find_model
from bgone.inference.provision import sha256_of
from bgone.inference.samples import SAMPLES_DIR as SAMPLES
from bgone.inference.session import ModelPool, RuntimeConfig


@pytest.fixture(scope="module")
def store(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory holding u2netp and the int8 copy made from it."""
    directory = tmp_path_factory.mktemp("models")
    shutil.copyfile(model_dir / "u2netp.onnx", directory / "u2netp.onnx")
    quantize.quantize(
        find_model("u2netp", directory), directory, quantize.calibration_photos(SAMPLES)
    )
    return directory


def test_the_copy_is_registered_with_its_own_verified_hash(store: Path) -> None:
    spec = find_model("u2netp-int8", store)
    path = store / "u2netp-int8.onnx"
    assert spec.sha256 == sha256_of(path)
    assert spec.family == "u2net" and spec.licence == find_model("u2netp", store).licence
    assert spec.size_bytes == path.stat().st_size < (store / "u2netp.onnx").stat().st_size / 2


def test_convolutions_are_int8_except_the_blocks_kept_in_float(store: Path) -> None:
    graph = onnx.load(str(store / "u2netp-int8.onnx")).graph
    produced_by = {output: node.op_type for node in graph.node for output in node.output}
    convolutions = [node for node in graph.node if node.op_type == "Conv"]
    quantised = [c for c in convolutions if produced_by.get(c.input[0]) == "DequantizeLinear"]
    assert len(convolutions) == 119
    # Kept in float: the first encoder block (14), stage 2d (12), the 7 one-channel heads.
    assert len(quantised) == 119 - 14 - 12 - 7
    assert [output.name for output in graph.output] == ["1959"]  # the mask alone


def test_blocks_are_found_by_structure(model_dir: Path) -> None:
    graph = onnx.load(str(model_dir / "u2netp.onnx")).graph
    weights = {tensor.name: tensor for tensor in graph.initializer}
    kept = quantize.float_convolutions(graph, weights)
    convolutions = [node for node in graph.node if node.op_type == "Conv"]
    assert len(kept) == 14 + 12 + 7
    # The first encoder block opens the graph; stage 2d holds the convolution whose
    # biases overflow at int8 scales (weights named "2258" in this export).
    assert kept[:14] == [node.name for node in convolutions[:14]]
    overflowing = next(node.name for node in convolutions if node.input[1] == "2258")
    assert overflowing in kept[14:26]
    assert {weights[n.input[1]].dims[0] for n in graph.node if n.name in kept[-7:]} == {1}


def test_the_int8_mask_matches_the_float_one(
    store: Path, person_jpeg: bytes, person_mask: Path
) -> None:
    pool = ModelPool(RuntimeConfig(model_dir=store, intra_op_threads=2))
    photo = Image.open(io.BytesIO(person_jpeg)).convert("RGB")
    float_mask = pool.get("u2netp").predict(photo)
    int8_mask = pool.get("u2netp-int8").predict(photo)
    assert int8_mask.shape == float_mask.shape == (320, 320)
    assert float(np.abs(int8_mask - float_mask).mean()) < 0.01
    truth = np.asarray(Image.open(person_mask).convert("L").resize((320, 320))) >= 128

    def iou(mask: np.ndarray) -> float:
        chosen = mask >= 0.5
        return float((chosen & truth).sum() / (chosen | truth).sum())

    assert iou(int8_mask) > iou(float_mask) - 0.01


def test_refusals_are_clear(store: Path, tmp_path: Path) -> None:
    photos = quantize.calibration_photos(SAMPLES)
    with pytest.raises(ProvisioningError, match="quantised already"):
        quantize.quantize(find_model("u2netp-int8", store), store, photos)
    with pytest.raises(ProvisioningError, match="only U\\^2-Net"):
        quantize.quantize(find_model("isnet", store), store, photos)
    with pytest.raises(ProvisioningError, match="not a folder"):
        quantize.calibration_photos(tmp_path / "missing")
    with pytest.raises(ProvisioningError, match="no photos"):
        quantize.calibration_photos(tmp_path)


def test_a_corrupt_parent_is_refused(store: Path, tmp_path: Path) -> None:
    (tmp_path / "u2netp.onnx").write_bytes((store / "u2netp.onnx").read_bytes()[:-10])
    with pytest.raises(ModelError, match="sha256"):
        quantize.quantize(
            find_model("u2netp", tmp_path), tmp_path, quantize.calibration_photos(SAMPLES)
        )
