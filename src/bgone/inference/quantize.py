"""An int8 copy of a U^2-Net model, made on this machine by ONNX Runtime's quantiser.

Static quantisation in QDQ form: int8 weights per output channel, uint8 activations whose
ranges come from MinMax calibration on a few photos run through the very preprocessing
that serving uses. Not every convolution is quantised; measured on bench/quality.py's sets
(README, Performance), three groups are kept in float:
- the second decoder block from the end (U^2-Net's stage 2d): quantised alone, it moved
  the mask by 0.0064 on average, more than all other blocks together. One of its
  convolutions also has biases near 1,000 with near-zero weights in some channels, whose
  int32 bias overflows at int8 weight scales (the mask turned to noise: MAE 0.19);
- the first encoder block: the next largest error, and little speed to win;
- the one-channel convolutions (side outputs and their fusion): cheap, and their rounding
  shows as steps in soft edges.

Making the copy needs the `onnx` package (`pip install 'bgone[quantize]'`); serving it
needs nothing beyond ONNX Runtime. The copy is registered like `bgone models add` does,
with its own sha256, so it is verified on every load.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image

from bgone.errors import ProvisioningError
from bgone.inference.catalog import ModelSpec
from bgone.inference.provision import add_local, require_verified
from bgone.inference.session import preprocess

SUFFIX = "-int8"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
# U^2-Net: six encoder and five decoder residual (RSU) blocks, each ending in an Add.
U2NET_BLOCKS = 11
FLOAT_BLOCKS = (0, 9)  # the first encoder block and stage 2d (see above)


def quantized_name(name: str) -> str:
    return name + SUFFIX


def calibration_photos(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ProvisioningError(f"{folder} is not a folder of photos to calibrate on")
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise ProvisioningError(f"no photos (.jpg, .png, .webp) in {folder} to calibrate on")
    return photos


def _modules() -> tuple[Any, Any]:
    try:
        import onnx
        from onnxruntime import quantization
    except ImportError as error:
        raise ProvisioningError(
            f"quantising needs the onnx package ({error}); install it with "
            "`pip install 'bgone[quantize]'`"
        ) from error
    return onnx, quantization


def float_convolutions(graph: Any, weights: dict[str, Any]) -> list[str]:
    """Names of the convolutions kept in float: see the module docstring."""
    blocks: list[list[str]] = [[]]
    one_channel = []
    for node in graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear"):
            raise ProvisioningError("this model is quantised already")
        if node.op_type == "Conv":
            if weights[node.input[1]].dims[0] == 1:
                one_channel.append(node.name)
            else:
                blocks[-1].append(node.name)
        elif node.op_type == "Add":
            blocks.append([])
    blocks = [block for block in blocks if block]
    if len(blocks) != U2NET_BLOCKS:
        raise ProvisioningError(
            f"expected a U^2-Net graph with {U2NET_BLOCKS} residual blocks, found {len(blocks)}"
        )
    return [name for index in FLOAT_BLOCKS for name in blocks[index]] + one_channel


def _prepare(onnx: Any, source: Path, target: Path) -> Any:
    """The mask output alone (U^2-Net also returns six side outputs nobody reads), at opset
    13, the first with per-channel QDQ."""
    model = onnx.load(str(source))
    first = model.graph.output[0]
    del model.graph.output[:]
    model.graph.output.append(first)
    needed = {first.name}
    kept = []
    for node in reversed(model.graph.node):
        if needed.intersection(node.output):
            kept.append(node)
            needed.update(node.input)
    del model.graph.node[:]
    model.graph.node.extend(reversed(kept))
    model = onnx.version_converter.convert_version(model, 13)
    onnx.save(model, str(target))
    return model


class _Photos:
    """ONNX Runtime's CalibrationDataReader protocol over preprocessed photos."""

    def __init__(self, input_name: str, tensors: Iterator[Any]) -> None:
        self._input_name = input_name
        self._tensors = tensors

    def get_next(self) -> dict[str, Any] | None:
        tensor = next(self._tensors, None)
        return None if tensor is None else {self._input_name: tensor}


def quantize(parent: ModelSpec, model_dir: Path, photos: list[Path]) -> ModelSpec:
    """Make, verify and register `<parent>-int8` in `model_dir`."""
    if parent.family != "u2net":
        raise ProvisioningError(
            f"only U^2-Net models can be quantised; {parent.name} is {parent.family}"
        )
    source = require_verified(parent, model_dir)
    onnx, quantization = _modules()
    family = parent.family_spec
    with tempfile.TemporaryDirectory(prefix="bgone-quantize-") as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        model = _prepare(onnx, source, prepared)
        weights = {tensor.name: tensor for tensor in model.graph.initializer}
        tensors = (preprocess(Image.open(p).convert("RGB"), family) for p in photos)
        result = Path(scratch) / f"{quantized_name(parent.name)}.onnx"
        try:
            quantization.quantize_static(
                str(prepared),
                str(result),
                _Photos(model.graph.input[0].name, tensors),
                quant_format=quantization.QuantFormat.QDQ,
                per_channel=True,
                activation_type=quantization.QuantType.QUInt8,
                weight_type=quantization.QuantType.QInt8,
                calibrate_method=quantization.CalibrationMethod.MinMax,
                op_types_to_quantize=["Conv"],
                nodes_to_exclude=float_convolutions(model.graph, weights),
            )
        except (OSError, ValueError, RuntimeError) as error:
            raise ProvisioningError(f"quantising {parent.name} failed: {error}") from error
        return add_local(
            quantized_name(parent.name),
            result,
            parent.family,
            model_dir,
            licence=parent.licence,
            description=f"{parent.name} with int8 convolutions (bgone models quantize)",
            origin=f"{source} (quantised)",
        )
