"""The birefnet family end to end, with a small ONNX graph of the family's exact signature.

No BiRefNet weights are in the suite (a real export is about 900 MB): the graph takes
1 x 3 x 1024 x 1024 float32 and returns 1 x 1 x 1024 x 1024 logits, as the family's row in
catalog.py says, through one random 1 x 1 convolution. That checks the plumbing (`bgone
models add --family birefnet`, the family's normalisation and its sigmoid output), not
the quality of any real model.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bgone.inference.catalog import FAMILIES
from bgone.inference.engine_config import EngineConfig
from bgone.inference.options import Channels, Refinement, RemovalOptions
from bgone.inference.pipeline import Remover
from bgone.inference.session import preprocess
from bgone.settings import Settings

onnx = pytest.importorskip("onnx")
helper, numpy_helper = onnx.helper, onnx.numpy_helper

FAMILY = FAMILIES["birefnet"]
SIZE = FAMILY.input_size


def tiny_birefnet(path: Path, weights: np.ndarray, bias: float) -> None:
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input_image", "weight", "bias"], ["output_image"])],
        "tiny-birefnet",
        [helper.make_tensor_value_info("input_image", onnx.TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output_image", onnx.TensorProto.FLOAT, [1, 1, SIZE, SIZE])],
        [
            numpy_helper.from_array(weights.reshape(1, 3, 1, 1).astype(np.float32), "weight"),
            numpy_helper.from_array(np.array([bias], dtype=np.float32), "bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def test_add_then_remove_with_a_birefnet_signature_graph(
    tmp_path: Path, person_jpeg: bytes
) -> None:
    rng = np.random.default_rng(13)
    weights, bias = rng.normal(size=3), float(rng.normal())
    file = tmp_path / "tiny.onnx"
    tiny_birefnet(file, weights, bias)
    store = tmp_path / "store"
    env = {**os.environ, "BGONE_MODEL_DIR": str(store), "BGONE_DATA_DIR": str(tmp_path / "d")}
    command = [sys.executable, "-m", "bgone", "models", "add", "tiny", str(file)]
    added = subprocess.run(
        [*command, "--family", "birefnet"], env=env, capture_output=True, timeout=120
    )
    assert added.returncode == 0, added.stderr.decode()
    listed = subprocess.run(
        [sys.executable, "-m", "bgone", "models", "list"], env=env, capture_output=True, timeout=120
    )
    assert b"tiny" in listed.stdout and b"birefnet" in listed.stdout

    remover = Remover(
        EngineConfig.from_settings(Settings(data_dir=tmp_path / "d", model_dir=store))
    )
    options = RemovalOptions(model="tiny", refinement=Refinement.RAW, channels=Channels.ALPHA)
    result = remover.remove(person_jpeg, options)
    assert result.models_used == ("tiny",) and (result.width, result.height) == (267, 400)
    alpha = np.asarray(Image.open(io.BytesIO(result.data)), dtype=np.float32)

    # The same sums by hand: the family's normalisation, the convolution, the sigmoid.
    photo = Image.open(io.BytesIO(person_jpeg)).convert("RGB")
    tensor = preprocess(photo, FAMILY)[0]
    logits = np.tensordot(weights.astype(np.float32), tensor, axes=1) + bias
    expected = Image.fromarray((255 / (1 + np.exp(-logits))).astype(np.uint8)).resize(
        photo.size, Image.Resampling.LANCZOS
    )
    assert np.abs(alpha - np.asarray(expected, dtype=np.float32)).max() <= 2
    assert alpha.std() > 1  # not a constant: the photo reached the graph
